"""Business data backfill: a fact for every order placed before tracking began (its paid
day from its 'paid' event, its refunds from the succeeded ones; visitor unknown, source
direct; paid ones are left for the sweeper to add to sales counts), an acquisition
(direct, on the day the account was made) for every existing account, and an index on
groups.settled_at for the dashboard's group-buy success rate.

Revision ID: e1f0b4c2a7d9
Revises: c3c80d02f2d6
Create Date: 2026-11-23 04:40:00
"""
import os
from datetime import timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = 'e1f0b4c2a7d9'
down_revision = 'c3c80d02f2d6'
branch_labels = None
depends_on = None

BATCH = 5000
UTC_DATETIME = sa.DateTime(timezone=True)


def _day(moment, zone):
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).date()


def upgrade():
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index('ix_groups_settled_at', ['settled_at'], unique=False)

    zone = ZoneInfo(os.environ.get("SHOP_TIMEZONE", "Asia/Shanghai"))
    bind = op.get_bind()
    facts = sa.table('order_facts', sa.column('order_id'), sa.column('user_id'), sa.column('visitor'),
                     sa.column('kind'), sa.column('currency'), sa.column('total_minor'),
                     sa.column('refunded_minor'), sa.column('source'), sa.column('ref_code'),
                     sa.column('placed_day', sa.Date), sa.column('paid_day', sa.Date),
                     sa.column('paid_at', UTC_DATETIME), sa.column('counted', sa.Boolean))
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT o.id, o.user_id, o.kind, o.currency, o.total_minor, o.created_at, "
            " (SELECT min(e.created_at) FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'paid') AS paid_at, "
            " (SELECT coalesce(sum(r.amount_minor), 0) FROM refunds r WHERE r.order_id = o.id AND r.status = 'succeeded') AS refunded "
            "FROM orders o WHERE o.id > :last AND o.total_minor > 0 "
            "AND NOT EXISTS (SELECT 1 FROM order_facts f WHERE f.order_id = o.id) "
            "ORDER BY o.id LIMIT :n").columns(created_at=UTC_DATETIME, paid_at=UTC_DATETIME),
            {"last": last, "n": BATCH}).all()
        if not rows:
            break
        bind.execute(facts.insert(), [{
            "order_id": r.id, "user_id": r.user_id, "visitor": f"u{r.user_id}", "kind": r.kind,
            "currency": r.currency, "total_minor": r.total_minor,
            "refunded_minor": min(int(r.refunded), r.total_minor), "source": "direct", "ref_code": None,
            "placed_day": _day(r.created_at, zone), "paid_day": _day(r.paid_at, zone),
            "paid_at": r.paid_at.replace(tzinfo=r.paid_at.tzinfo or timezone.utc) if r.paid_at else None,
            "counted": False} for r in rows])
        last = rows[-1].id

    acquisitions = sa.table('acquisitions', sa.column('user_id'), sa.column('day', sa.Date),
                            sa.column('source'))
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT u.id, u.created_at FROM users u WHERE u.id > :last "
            "AND NOT EXISTS (SELECT 1 FROM acquisitions a WHERE a.user_id = u.id) "
            "ORDER BY u.id LIMIT :n").columns(created_at=UTC_DATETIME),
            {"last": last, "n": BATCH}).all()
        if not rows:
            break
        bind.execute(acquisitions.insert(), [
            {"user_id": r.id, "day": _day(r.created_at, zone), "source": "direct"} for r in rows])
        last = rows[-1].id


def downgrade():
    # the backfilled rows stay: they are facts like any other
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index('ix_groups_settled_at')
