"""Favourites (收藏) and browsing history (足迹).

Revision ID: c7e1a3b5d9f2
Revises: b6d0f2a4c8e1
Create Date: 2026-12-08 02:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'c7e1a3b5d9f2'
down_revision = 'b6d0f2a4c8e1'
branch_labels = None
depends_on = None


def upgrade():
    # The browsing history has no table: it is kept in the visitor's session (shop.favourites).
    op.create_table('favourites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_favourites_product_id_products')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_favourites_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_favourites')),
    sa.UniqueConstraint('user_id', 'product_id', name=op.f('uq_favourites_user_id_product_id'))
    )
    with op.batch_alter_table('favourites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_favourites_product_id'), ['product_id'], unique=False)


def downgrade():
    with op.batch_alter_table('favourites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_favourites_product_id'))
    op.drop_table('favourites')
