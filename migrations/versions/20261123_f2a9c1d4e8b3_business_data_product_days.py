"""Business data at size: product_days (top products from a rollup the sweeper adds to),
order_facts.first_paid_day (returning customers in the same pass as the paid orders,
backfilled from the customers' earliest paid day) and an index of customers' paid orders
for lifetime value.

Revision ID: f2a9c1d4e8b3
Revises: e1f0b4c2a7d9
Create Date: 2026-11-23 04:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f2a9c1d4e8b3'
down_revision = 'e1f0b4c2a7d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('product_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue_minor', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_days_product_id_products')),
    sa.PrimaryKeyConstraint('day', 'product_id', name=op.f('pk_product_days'))
    )
    with op.batch_alter_table('order_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_paid_day', sa.Date(), nullable=True))
        batch_op.create_index('ix_order_facts_user_revenue', ['user_id'], unique=False,
                              postgresql_include=['order_id', 'total_minor', 'refunded_minor'],
                              postgresql_where=sa.text('paid_day IS NOT NULL'),
                              sqlite_where=sa.text('paid_day IS NOT NULL'))
    op.execute("UPDATE order_facts SET first_paid_day = (SELECT min(g.paid_day) FROM order_facts g "
               "WHERE g.user_id = order_facts.user_id AND g.paid_day IS NOT NULL) "
               "WHERE paid_day IS NOT NULL")
    # orders the sweeper counted before product_days existed are counted again from here
    # on: their units are in the products' sales counts already, so only the rollup is filled
    op.execute("INSERT INTO product_days (day, product_id, units, revenue_minor, orders) "
               "SELECT f.paid_day, l.product_id, sum(l.quantity), sum(l.total_minor), count(DISTINCT l.order_id) "
               "FROM order_facts f JOIN order_lines l ON l.order_id = f.order_id "
               "WHERE f.counted AND l.total_minor > 0 GROUP BY f.paid_day, l.product_id")


def downgrade():
    with op.batch_alter_table('order_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_order_facts_user_revenue', postgresql_where=sa.text('paid_day IS NOT NULL'),
                            sqlite_where=sa.text('paid_day IS NOT NULL'))
        batch_op.drop_column('first_paid_day')
    op.drop_table('product_days')
