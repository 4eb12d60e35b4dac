"""An index of order lines by product, then order: the product page's recent buyers
(shop.groups.discovery.recent_buyers) read a product's newest orders from it, backwards,
and stop after a few, however many times the product sold.

Revision ID: e9a3c5d7f1b4
Revises: c7e1a3b5d9f2
Create Date: 2026-12-08 03:00:00
"""
from alembic import op


revision = 'e9a3c5d7f1b4'
down_revision = 'c7e1a3b5d9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_order_lines_product_id_order_id', 'order_lines',
                    ['product_id', 'order_id'])


def downgrade():
    op.drop_index('ix_order_lines_product_id_order_id', table_name='order_lines')
