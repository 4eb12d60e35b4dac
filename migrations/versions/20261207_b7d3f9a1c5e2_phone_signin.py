"""Sign-in by phone and a one-time code: phone_codes (only the code's HMAC is kept),
users.signin_phone (E.164, unique; set only by a code sent to it, so the free-text
users.phone of the profile is left as it is: nothing to normalise, no clash to settle)
and users.email nullable (an account made by phone need not give one).

Revision ID: b7d3f9a1c5e2
Revises: a2c6e0b4d8f3
Create Date: 2026-12-07 23:59:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'b7d3f9a1c5e2'
down_revision = 'a2c6e0b4d8f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('phone_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes'))
    )
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_codes_phone'), ['phone'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signin_phone', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_signin_phone'), ['signin_phone'])
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)


def downgrade():
    # Accounts made by phone may have no email: they get an address that can never be
    # delivered (.invalid is reserved), so their orders and ledgers stay where they are.
    op.execute("UPDATE users SET email = 'phone-' || id || '@account.invalid' WHERE email IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_users_signin_phone'), type_='unique')
        batch_op.drop_column('signin_phone')
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_codes_phone'))
    op.drop_table('phone_codes')
