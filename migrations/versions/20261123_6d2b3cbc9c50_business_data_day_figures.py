"""Business data for any range in under a second: day_figures (each closed day's totals
and bitmaps of its visitors and customers), visitor_numbers, sales_days (the rankings of
products, articles, distributors and coupons, replacing product_days), what each customer
has paid to date on acquisitions, order_facts.rolled_as, and an index of refunds.

visitor_days goes: the sweeper rolls every day up again, from the first hit or order, into
day_figures (its mark starts over under the name "day_figures").

Revision ID: 6d2b3cbc9c50
Revises: f2a9c1d4e8b3
Create Date: 2026-11-23 05:43:36
"""
import sqlalchemy as sa
from alembic import op

revision = '6d2b3cbc9c50'
down_revision = 'f2a9c1d4e8b3'
branch_labels = None
depends_on = None

LATE = "rolled_as IS NULL OR (rolled_as = 'placed' AND paid_day IS NOT NULL)"


def upgrade():
    op.create_table('day_figures',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('page_views', sa.Integer(), nullable=False),
    sa.Column('landings', sa.JSON(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('gmv_minor', sa.BigInteger(), nullable=False),
    sa.Column('referral_orders', sa.Integer(), nullable=False),
    sa.Column('referral_gmv_minor', sa.BigInteger(), nullable=False),
    *(sa.Column(name, sa.LargeBinary(), nullable=False) for name in (
        'visitor_set', 'product_set', 'cart_set', 'ordering_set', 'paying_set', 'customer_set',
        'repeater_set', 'newcomer_set')),
    sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_day_figures'))
    )
    op.create_table('sales_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('item_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue_minor', sa.BigInteger(), nullable=False),
    sa.Column('discount_minor', sa.BigInteger(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('product', 'article', 'distributor', 'coupon')", name=op.f('ck_sales_days_kind_known')),
    sa.PrimaryKeyConstraint('day', 'kind', 'item_id', name=op.f('pk_sales_days'))
    )
    with op.batch_alter_table('sales_days', schema=None) as batch_op:
        batch_op.create_index('ix_sales_days_kind_day', ['kind', 'day'], unique=False)
    op.create_table('visitor_numbers',
    sa.Column('number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('visitor', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_visitor_numbers')),
    sa.UniqueConstraint('visitor', name=op.f('uq_visitor_numbers_visitor'))
    )

    # the rankings of the orders the sweeper has counted so far (units are in the products'
    # sales counts already, so only the rollup is filled); article views come with the
    # days rolled up again
    op.execute("INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views) "
               "SELECT day, 'product', product_id, orders, units, revenue_minor, 0, 0 FROM product_days")
    op.execute("INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views) "
               "SELECT f.paid_day, 'article', l.source_article_id, count(DISTINCT l.order_id), 0, "
               "sum(l.total_minor), 0, 0 "
               "FROM order_facts f JOIN order_lines l ON l.order_id = f.order_id "
               "WHERE f.counted AND l.source_article_id IS NOT NULL "
               "GROUP BY f.paid_day, l.source_article_id")
    op.execute("INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views) "
               "SELECT f.paid_day, 'distributor', r.level1_id, count(*), 0, sum(f.total_minor), 0, 0 "
               "FROM order_facts f JOIN order_referrals r ON r.order_id = f.order_id "
               "WHERE f.counted AND r.level1_id IS NOT NULL GROUP BY f.paid_day, r.level1_id")
    op.execute("INSERT INTO sales_days (day, kind, item_id, orders, units, revenue_minor, discount_minor, views) "
               "SELECT f.paid_day, 'coupon', c.coupon_id, count(*), 0, sum(f.total_minor), sum(c.discount), 0 "
               "FROM order_facts f JOIN (SELECT order_id, coupon_id, sum(discount_minor) AS discount "
               "FROM user_coupons WHERE status = 'used' GROUP BY order_id, coupon_id) c "
               "ON c.order_id = f.order_id WHERE f.counted GROUP BY f.paid_day, c.coupon_id")
    op.drop_table('product_days')
    op.drop_table('visitor_days')
    op.execute("DELETE FROM rollup_marks WHERE name = 'visitor_days'")

    with op.batch_alter_table('acquisitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_orders', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('revenue_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.drop_index('ix_acquisitions_day_source')
        batch_op.create_index('ix_acquisitions_day_source', ['day', 'source'], unique=False,
                              postgresql_include=['paid_orders', 'revenue_minor'])
    op.execute("UPDATE acquisitions SET "
               "paid_orders = (SELECT count(*) FROM order_facts f WHERE f.user_id = acquisitions.user_id "
               "AND f.paid_day IS NOT NULL), "
               "revenue_minor = (SELECT coalesce(sum(f.total_minor - f.refunded_minor), 0) FROM order_facts f "
               "WHERE f.user_id = acquisitions.user_id AND f.paid_day IS NOT NULL)")

    with op.batch_alter_table('order_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rolled_as', sa.String(length=6), nullable=True))
        batch_op.create_check_constraint(
            'rolled_as_known', "rolled_as IS NULL OR rolled_as IN ('placed', 'paid')")
        batch_op.drop_index('ix_order_facts_user_revenue', postgresql_where=sa.text('paid_day IS NOT NULL'),
                            sqlite_where=sa.text('paid_day IS NOT NULL'))
        batch_op.create_index('ix_order_facts_late', ['placed_day'], unique=False,
                              postgresql_where=sa.text(LATE), sqlite_where=sa.text(LATE))
        batch_op.create_index('ix_order_facts_refunded', ['paid_day'], unique=False,
                              postgresql_include=['refunded_minor'],
                              postgresql_where=sa.text('refunded_minor > 0'),
                              sqlite_where=sa.text('refunded_minor > 0'))


def downgrade():
    with op.batch_alter_table('order_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_order_facts_refunded', postgresql_where=sa.text('refunded_minor > 0'),
                            sqlite_where=sa.text('refunded_minor > 0'))
        batch_op.drop_index('ix_order_facts_late', postgresql_where=sa.text(LATE),
                            sqlite_where=sa.text(LATE))
        batch_op.create_index('ix_order_facts_user_revenue', ['user_id'], unique=False,
                              postgresql_include=['order_id', 'total_minor', 'refunded_minor'],
                              postgresql_where=sa.text('paid_day IS NOT NULL'),
                              sqlite_where=sa.text('paid_day IS NOT NULL'))
        batch_op.drop_constraint('rolled_as_known', type_='check')
        batch_op.drop_column('rolled_as')
    with op.batch_alter_table('acquisitions', schema=None) as batch_op:
        batch_op.drop_index('ix_acquisitions_day_source')
        batch_op.create_index('ix_acquisitions_day_source', ['day', 'source'], unique=False)
        batch_op.drop_column('revenue_minor')
        batch_op.drop_column('paid_orders')

    op.create_table('visitor_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor', sa.String(length=32), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('products', sa.Integer(), nullable=False),
    sa.Column('carts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'visitor', name=op.f('pk_visitor_days'))
    )
    op.create_table('product_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue_minor', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_days_product_id_products')),
    sa.PrimaryKeyConstraint('day', 'product_id', name=op.f('pk_product_days'))
    )
    op.execute("INSERT INTO product_days (day, product_id, units, revenue_minor, orders) "
               "SELECT day, item_id, units, revenue_minor, orders FROM sales_days WHERE kind = 'product'")
    op.execute("DELETE FROM rollup_marks WHERE name = 'day_figures'")  # visitor_days rolls up again
    op.drop_table('visitor_numbers')
    with op.batch_alter_table('sales_days', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_days_kind_day')
    op.drop_table('sales_days')
    op.drop_table('day_figures')
