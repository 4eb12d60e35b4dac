"""loss_leaders of member levels: kind 'member' (a level's discount that puts SKUs below
their floor, one row per SKU, shop.referrals.margin) joins the kinds the CHECK allows.

Revision ID: f4b8d2a6c0e1
Revises: c8e4f2a6b1d9
Create Date: 2026-12-07 23:30:00
"""
from alembic import op

revision = 'f4b8d2a6c0e1'
down_revision = 'c8e4f2a6b1d9'
branch_labels = None
depends_on = None

KINDS = "kind IN ('flash', 'group', 'bargain', 'timed', 'mall', 'member')"
KINDS_BEFORE = "kind IN ('flash', 'group', 'bargain', 'timed', 'mall')"


def upgrade():
    # SQLite rebuilds the table (batch mode; the named CHECK is reflected and replaced),
    # PostgreSQL drops and adds the constraint
    with op.batch_alter_table('loss_leaders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_loss_leaders_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_loss_leaders_kind_known'), KINDS)


def downgrade():
    # the levels' records can not stay under the narrower CHECK: they go
    op.execute("DELETE FROM loss_leaders WHERE kind = 'member'")
    with op.batch_alter_table('loss_leaders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_loss_leaders_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_loss_leaders_kind_known'), KINDS_BEFORE)
