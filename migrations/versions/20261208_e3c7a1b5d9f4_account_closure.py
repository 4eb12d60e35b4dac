"""Account closure: users.closed_at, when the shopper closed the account (its personal
data erased or anonymised by shop.accounts.closure; the row stays, inactive for good, so
the orders and ledgers kept for the books still point somewhere).

Revision ID: e3c7a1b5d9f4
Revises: d2b6f0a4c8e3
Create Date: 2026-12-08 00:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'e3c7a1b5d9f4'
down_revision = 'd2b6f0a4c8e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # A closed account stays closed without the column: it is inactive, and has no email,
    # number or password left to sign in with.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
