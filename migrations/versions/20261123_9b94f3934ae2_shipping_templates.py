"""shipping templates; orders' shipped_at

The shop settings shipping_fee_minor and free_shipping_from_minor become the default
shipping template (10.00 and 99.00 where they were never set), and go. Orders shipped
before get their shipped_at from the event that shipped them.

Revision ID: 9b94f3934ae2
Revises: b5354764c945
Create Date: 2026-11-23 02:13:32.720277

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '9b94f3934ae2'
down_revision = 'b5354764c945'
branch_labels = None
depends_on = None

SETTINGS = {'shipping_fee_minor': 1000, 'free_shipping_from_minor': 9900}  # key: default
NEVER_FREE = 2**31 - 1  # what a template that is never free was as a setting (downgrade)

settings_table = sa.table('shop_settings', sa.column('key', sa.String), sa.column('value', sa.Integer))
templates_table = sa.table(
    'shipping_templates', sa.column('id', sa.Integer), sa.column('name', sa.String),
    sa.column('currency', sa.String), sa.column('fee_minor', sa.Integer),
    sa.column('free_from_minor', sa.Integer), sa.column('is_default', sa.Boolean),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)))
orders_table = sa.table('orders', sa.column('id', sa.Integer),
                        sa.column('shipped_at', sa.DateTime(timezone=True)))
events_table = sa.table('order_events', sa.column('order_id', sa.Integer),
                        sa.column('to_status', sa.String),
                        sa.column('created_at', sa.DateTime(timezone=True)))


def upgrade():
    op.create_table('shipping_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee_minor', sa.Integer(), nullable=False),
    sa.Column('free_from_minor', sa.Integer(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('fee_minor >= 0', name=op.f('ck_shipping_templates_fee_not_negative')),
    sa.CheckConstraint('free_from_minor IS NULL OR free_from_minor >= 0', name=op.f('ck_shipping_templates_free_from_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipping_templates')),
    sa.UniqueConstraint('name', name=op.f('uq_shipping_templates_name'))
    )
    with op.batch_alter_table('shipping_templates', schema=None) as batch_op:
        batch_op.create_index('uq_shipping_templates_default', ['is_default'], unique=True, postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))

    op.create_table('shipping_regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('provinces', sa.JSON(), nullable=False),
    sa.Column('fee_minor', sa.Integer(), nullable=False),
    sa.Column('free_from_minor', sa.Integer(), nullable=True),
    sa.CheckConstraint('fee_minor >= 0', name=op.f('ck_shipping_regions_fee_not_negative')),
    sa.CheckConstraint('free_from_minor IS NULL OR free_from_minor >= 0', name=op.f('ck_shipping_regions_free_from_not_negative')),
    sa.ForeignKeyConstraint(['template_id'], ['shipping_templates.id'], name=op.f('fk_shipping_regions_template_id_shipping_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipping_regions')),
    sa.UniqueConstraint('template_id', 'position', name=op.f('uq_shipping_regions_template_id_position'))
    )
    with op.batch_alter_table('shipping_regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipping_regions_template_id'), ['template_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_orders_status_shipped', ['status', 'shipped_at'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_template_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_products_shipping_template_id'), ['shipping_template_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_products_shipping_template_id_shipping_templates'), 'shipping_templates', ['shipping_template_id'], ['id'])

    # The shipping settings become the default template.
    bind = op.get_bind()
    saved = dict(bind.execute(sa.select(settings_table.c.key, settings_table.c.value)
                              .where(settings_table.c.key.in_(SETTINGS))).all())
    values = {key: saved.get(key, default) for key, default in SETTINGS.items()}
    now = datetime.now(timezone.utc)
    bind.execute(templates_table.insert().values(
        name='默认运费', currency=current_app.config['SHOP_CURRENCY'],
        fee_minor=values['shipping_fee_minor'], free_from_minor=values['free_shipping_from_minor'],
        is_default=True, created_at=now, updated_at=now))
    bind.execute(settings_table.delete().where(settings_table.c.key.in_(SETTINGS)))

    # Orders already shipped: since the event that shipped them (the latest, if several).
    shipped = (sa.select(sa.func.max(events_table.c.created_at))
               .where(events_table.c.order_id == orders_table.c.id,
                      events_table.c.to_status == 'shipped'))
    was_shipped = (sa.select(events_table.c.order_id)
                   .where(events_table.c.order_id == orders_table.c.id,
                          events_table.c.to_status == 'shipped').exists())
    bind.execute(orders_table.update().values(shipped_at=shipped.scalar_subquery())
                 .where(was_shipped))


def downgrade():
    # The default template becomes the shipping settings again (regions and other
    # templates are lost; "never free" is a threshold nobody reaches).
    bind = op.get_bind()
    default = bind.execute(sa.select(templates_table.c.fee_minor, templates_table.c.free_from_minor)
                           .where(templates_table.c.is_default.is_(True))).first()
    if default is not None:
        fee, free_from = default
        bind.execute(settings_table.delete().where(settings_table.c.key.in_(SETTINGS)))
        bind.execute(settings_table.insert(), [
            {'key': 'shipping_fee_minor', 'value': fee},
            {'key': 'free_shipping_from_minor',
             'value': NEVER_FREE if free_from is None else free_from}])

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_products_shipping_template_id_shipping_templates'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_products_shipping_template_id'))
        batch_op.drop_column('shipping_template_id')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_shipped')
        batch_op.drop_column('shipped_at')

    with op.batch_alter_table('shipping_regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipping_regions_template_id'))

    op.drop_table('shipping_regions')
    with op.batch_alter_table('shipping_templates', schema=None) as batch_op:
        batch_op.drop_index('uq_shipping_templates_default', postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))

    op.drop_table('shipping_templates')
