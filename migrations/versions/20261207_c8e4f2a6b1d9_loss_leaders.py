"""loss_leaders: prices an admin set below their SKU's floor (cost + margin floor +
commission, shop.referrals.margin) on purpose, with who confirmed them and when; one row
per priced object (flash item, group campaign, bargain campaign, limited-time price,
points-mall item) and SKU.

Revision ID: c8e4f2a6b1d9
Revises: b6d2e8f4a1c3
Create Date: 2026-12-07 21:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c8e4f2a6b1d9'
down_revision = 'b6d2e8f4a1c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('loss_leaders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('floor_minor', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('flash', 'group', 'bargain', 'timed', 'mall')", name=op.f('ck_loss_leaders_kind_known')),
    sa.CheckConstraint('price_minor >= 0 AND floor_minor > price_minor', name=op.f('ck_loss_leaders_below_floor')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_loss_leaders_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_loss_leaders_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loss_leaders')),
    sa.UniqueConstraint('kind', 'object_id', 'sku_id', name=op.f('uq_loss_leaders_kind_object_id_sku_id'))
    )


def downgrade():
    op.drop_table('loss_leaders')
