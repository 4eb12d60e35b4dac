"""Emails in one form: NFKC, then lower case (shop.text.normalise_email).

Accounts registered before were only lower-cased, so `ＡＤＭＩＮ@example.com` could stand
beside `admin@example.com`. Each stored email is rewritten in the new form unless another
account already has (or would get) that form: such look-alike accounts are not touched,
and each group is reported in the migration's log (a warning naming the accounts' ids
and emails) for an admin to merge or rename.

Revision ID: c4e8a2f19d63
Revises: a7c3e91d5b20
Create Date: 2026-12-07 19:30:00
"""
import logging
import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = 'c4e8a2f19d63'
down_revision = 'a7c3e91d5b20'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _normal(email: str) -> str:
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def upgrade():
    conn = op.get_bind()
    groups = defaultdict(list)
    for user_id, email in conn.execute(sa.text("SELECT id, email FROM users ORDER BY id")):
        groups[_normal(email)].append((user_id, email))
    for normal, accounts in groups.items():
        if len(accounts) > 1:
            log.warning("look-alike accounts share the email %s once normalised, left as they "
                        "are for an admin to merge or rename: %s", normal,
                        ", ".join(f"#{user_id} {email}" for user_id, email in accounts))
            continue
        (user_id, email), = accounts
        if email != normal:
            conn.execute(sa.text("UPDATE users SET email = :e WHERE id = :i"),
                         {"e": normal, "i": user_id})


def downgrade():
    pass  # the old form of an email is not kept: nothing to give back
