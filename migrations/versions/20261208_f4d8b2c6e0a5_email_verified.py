"""users.email_verified_at: when the owner of the account's email proved it by opening a
link sent to it (a sign-in link, a password reset, the confirmation link). /register
takes an address without proof; proving it later removes the password and passkeys set
before (shop.accounts.email_links), so whoever registered someone else's address first
does not keep a way into the account its owner then uses.

Existing accounts:
- with an email and no password, or made by phone (a sign-in number): verified at
  migration time. The first were made by a sign-in link (opening it proved the
  address); an account made by phone gets an email only through the confirmation link
  (which proved it), a password only after that: nothing but a link put their address
  there.
- any other with a password: left unverified (NULL). Their address was typed at
  /register and never proven, or proven by a sign-in link before a password was set,
  which left no trace; an account pre-registered with someone else's address looks
  exactly like them, so marking them verified would keep the hole open for exactly the
  accounts that already exploit it. Their owners lose
  nothing meanwhile: the password signs in as before, the account page offers to send
  the confirmation (confirming while signed in keeps the password); only a sign-in or
  reset link used before confirming removes the password set before, and says so.
- closed accounts have no email: NULL.

The downgrade drops the column: an upgrade after it starts again from the rules above.

Revision ID: f4d8b2c6e0a5
Revises: e3c7a1b5d9f4
Create Date: 2026-12-08 01:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'f4d8b2c6e0a5'
down_revision = 'e3c7a1b5d9f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True),
                                      nullable=True))
    users = sa.table('users', sa.column('email', sa.String()),
                     sa.column('password_hash', sa.String()),
                     sa.column('signin_phone', sa.String()),
                     sa.column('email_verified_at', sa.DateTime(timezone=True)))
    op.execute(users.update()
               .where(users.c.email.is_not(None),
                      sa.or_(users.c.password_hash == '', users.c.signin_phone.is_not(None)))
               .values(email_verified_at=sa.func.current_timestamp()))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
