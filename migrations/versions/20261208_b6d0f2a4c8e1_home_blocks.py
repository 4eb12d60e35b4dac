"""Home page blocks and collections that editors arrange: home_blocks (kind, position,
bilingual title, published, a window, settings per kind, a collection), home_slides (a
banner's pictures and links), collections (picked products or a rule) and
collection_products (the picked ones, in order).

Revision ID: b6d0f2a4c8e1
Revises: a5c9e1f3b7d2
Create Date: 2026-12-08 02:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'b6d0f2a4c8e1'
down_revision = 'a5c9e1f3b7d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cover_key', sa.String(length=32), nullable=True),
    sa.Column('cover_width', sa.Integer(), nullable=True),
    sa.Column('cover_height', sa.Integer(), nullable=True),
    sa.Column('cover_widths', sa.String(length=40), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('rule_category_id', sa.Integer(), nullable=True),
    sa.Column('rule_keyword', sa.String(length=32), nullable=False),
    sa.Column('rule_sort', sa.String(length=16), nullable=False),
    sa.Column('rule_limit', sa.Integer(), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mode IN ('picked', 'rule')", name=op.f('ck_collections_mode_known')),
    sa.CheckConstraint("rule_sort IN ('sales', 'new', 'price_asc', 'price_desc')", name=op.f('ck_collections_rule_sort_known')),
    sa.CheckConstraint('rule_limit BETWEEN 1 AND 60', name=op.f('ck_collections_rule_limit_in_range')),
    sa.ForeignKeyConstraint(['rule_category_id'], ['categories.id'], name=op.f('fk_collections_rule_category_id_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections'))
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_rule_category_id'), ['rule_category_id'], unique=False)

    op.create_table('collection_products',
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_products_collection_id_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_collection_products_product_id_products')),
    sa.PrimaryKeyConstraint('collection_id', 'product_id', name=op.f('pk_collection_products'))
    )
    with op.batch_alter_table('collection_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_products_product_id'), ['product_id'], unique=False)

    op.create_table('home_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=True),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('banner', 'campaigns', 'collection', 'articles', 'categories')", name=op.f('ck_home_blocks_kind_known')),
    sa.CheckConstraint('ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at', name=op.f('ck_home_blocks_ends_after_start')),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_home_blocks_collection_id_collections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_blocks'))
    )
    with op.batch_alter_table('home_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_blocks_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index('ix_home_blocks_published_position', ['published', 'position'], unique=False)

    op.create_table('home_slides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('alt', sa.String(length=120), nullable=False),
    sa.Column('image_key', sa.String(length=32), nullable=False),
    sa.Column('image_width', sa.Integer(), nullable=False),
    sa.Column('image_height', sa.Integer(), nullable=False),
    sa.Column('image_widths', sa.String(length=40), nullable=False),
    sa.Column('link_kind', sa.String(length=16), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('link_page', sa.String(length=16), nullable=True),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.CheckConstraint("link_kind IN ('product', 'article', 'collection', 'category', 'campaign')", name=op.f('ck_home_slides_link_kind_known')),
    sa.CheckConstraint("link_page IS NULL OR link_page IN ('groups', 'flash', 'bargains', 'coupons')", name=op.f('ck_home_slides_link_page_known')),
    sa.ForeignKeyConstraint(['block_id'], ['home_blocks.id'], name=op.f('fk_home_slides_block_id_home_blocks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_home_slides'))
    )
    with op.batch_alter_table('home_slides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_slides_block_id'), ['block_id'], unique=False)


def downgrade():
    with op.batch_alter_table('home_slides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_slides_block_id'))
    op.drop_table('home_slides')
    with op.batch_alter_table('home_blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_home_blocks_published_position')
        batch_op.drop_index(batch_op.f('ix_home_blocks_collection_id'))
    op.drop_table('home_blocks')
    with op.batch_alter_table('collection_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_products_product_id'))
    op.drop_table('collection_products')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_rule_category_id'))
    op.drop_table('collections')
