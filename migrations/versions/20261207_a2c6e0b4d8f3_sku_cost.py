"""skus.cost_price_minor: a SKU's own cost (a 5斤 box costs more than a 1斤 one), read by
the below-cost guard and the sale-time margin guard; NULL means the product's cost, so
nothing is backfilled and every SKU keeps today's behaviour.

Revision ID: a2c6e0b4d8f3
Revises: f4b8d2a6c0e1
Create Date: 2026-12-07 23:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a2c6e0b4d8f3'
down_revision = 'f4b8d2a6c0e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_price_minor', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_skus_cost_not_negative'),
                                         'cost_price_minor IS NULL OR cost_price_minor >= 0')


def downgrade():
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_skus_cost_not_negative'), type_='check')
        batch_op.drop_column('cost_price_minor')
