"""Article bodies rendered again: their headings now nest under the page's title without
skipping a level (shop.articles.markup._nest_headings). body_html is derived from
body_md, so it is rendered from it with the shop's renderer and sanitiser, as a save
would; downgrading leaves the new HTML, which the old code shows as well.

Revision ID: e3a7c9d1f5b4
Revises: d9f1b3c5e7a2
Create Date: 2026-12-07 20:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e3a7c9d1f5b4'
down_revision = 'd9f1b3c5e7a2'
branch_labels = None
depends_on = None


def upgrade():
    from shop.articles.markup import render

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, body_md, body_html FROM articles ORDER BY id")).all()
    for article_id, body_md, body_html in rows:
        html = render(body_md or "")
        if html != body_html:
            conn.execute(sa.text("UPDATE articles SET body_html = :html WHERE id = :id"),
                         {"html": html, "id": article_id})


def downgrade():
    pass
