"""users.session_version: every session carries it; signing out, a password change or the
account being disabled moves it on, ending every session made before.

Revision ID: d9f1b3c5e7a2
Revises: c4e8a2f19d63
Create Date: 2026-12-07 19:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd9f1b3c5e7a2'
down_revision = 'c4e8a2f19d63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
