"""Search: synonyms and keywords, and the index behind search.

search_documents holds one row per product (its tokens: shop.search.text); the full-text
index over it is made per database and is not a model (the models-vs-migrations
comparison leaves these objects out by name: shop.db.UNMODELLED):
- SQLite: an FTS5 table, search_fts, reading its text from search_documents (external
  content) and kept in step by three triggers. A later migration that rebuilds
  search_documents in batch mode drops the triggers with it and must make them again.
- PostgreSQL: a generated column, search_fts_vector, the 'simple' tsvector of the
  pre-segmented tokens (no Chinese parser is needed: they are already words) weighted by
  where they come from (title A, the product's own text B, its parent category C, so a
  tsquery can ask for title hits alone), and a GIN index on it.
The products a database already holds are indexed here, with the application's own
indexing code (shop.search.indexing, Core statements only), so a deployment needs no step
of its own; `flask shop reindex-search` rebuilds the index whenever wanted.

Revision ID: a5c9e1f3b7d2
Revises: f4d8b2c6e0a5
Create Date: 2026-12-08 02:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'a5c9e1f3b7d2'
down_revision = 'f4d8b2c6e0a5'
branch_labels = None
depends_on = None

FTS5 = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_terms, body_terms, extra_terms, "
    "content='search_documents', content_rowid='product_id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_fts_insert AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title_terms, body_terms, extra_terms) "
    "VALUES (new.product_id, new.title_terms, new.body_terms, new.extra_terms); END",
    "CREATE TRIGGER search_fts_delete AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms, extra_terms) "
    "VALUES ('delete', old.product_id, old.title_terms, old.body_terms, old.extra_terms); END",
    "CREATE TRIGGER search_fts_update AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms, extra_terms) "
    "VALUES ('delete', old.product_id, old.title_terms, old.body_terms, old.extra_terms); "
    "INSERT INTO search_fts(rowid, title_terms, body_terms, extra_terms) "
    "VALUES (new.product_id, new.title_terms, new.body_terms, new.extra_terms); END",
]
POSTGRESQL = [
    "ALTER TABLE search_documents ADD COLUMN search_fts_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title_terms), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body_terms), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, extra_terms), 'C')) STORED",
    "CREATE INDEX search_fts_gin ON search_documents USING gin (search_fts_vector)",
    # A broad word is checked on the vector of every row it matches: the text columns
    # (read by nothing at query time) go out of line, the vector stays in, so those rows
    # take fewer pages (100 k products, a word in a quarter of them: 120 -> 85 ms).
    "ALTER TABLE search_documents SET (toast_tuple_target = 128)",
    "ALTER TABLE search_documents ALTER COLUMN title_terms SET STORAGE EXTERNAL, "
    "ALTER COLUMN body_terms SET STORAGE EXTERNAL, ALTER COLUMN extra_terms SET STORAGE EXTERNAL, "
    "ALTER COLUMN search_fts_vector SET STORAGE MAIN",
]


def upgrade():
    op.create_table('search_documents',
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title_terms', sa.Text(), nullable=False),
    sa.Column('body_terms', sa.Text(), nullable=False),
    sa.Column('extra_terms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_search_documents_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_search_documents'))
    )
    op.create_table('search_synonyms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('one_way', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_synonyms'))
    )
    op.create_table('search_keywords',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('recommended', 'hidden')", name=op.f('ck_search_keywords_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_keywords'))
    )
    with op.batch_alter_table('search_keywords', schema=None) as batch_op:
        batch_op.create_index('ix_search_keywords_kind_term', ['kind', 'term'], unique=True)
    op.create_table('search_counts',
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('searches > 0', name=op.f('ck_search_counts_searches_positive')),
    sa.PrimaryKeyConstraint('term', 'day', name=op.f('pk_search_counts'))
    )
    with op.batch_alter_table('search_counts', schema=None) as batch_op:
        batch_op.create_index('ix_search_counts_day', ['day'], unique=False)

    bind = op.get_bind()
    for statement in FTS5 if bind.dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)
    from shop.search.indexing import reindex

    reindex(bind)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_fts_update", "search_fts_delete", "search_fts_insert"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE search_fts")
    with op.batch_alter_table('search_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_search_counts_day')
    op.drop_table('search_counts')
    with op.batch_alter_table('search_keywords', schema=None) as batch_op:
        batch_op.drop_index('ix_search_keywords_kind_term')
    op.drop_table('search_keywords')
    op.drop_table('search_synonyms')
    op.drop_table('search_documents')
