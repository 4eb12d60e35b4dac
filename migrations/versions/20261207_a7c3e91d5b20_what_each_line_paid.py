"""What each order line paid, one open card payment per order, opening ledger rows.

- order_lines gets discount_minor, shipping_minor, paid_minor and refunded_minor, with
  order_line_adjustments (a line's share of each adjustment) and order_line_refunds
  (the ledger of refunded_minor); commission_lines and points_line_earnings keep what
  each line earned.
- Backfill of orders placed before (as well as it can, since their per-line split was
  not kept): each discount is split over the lines in proportion to what was still due
  on each when it applied (list price less the discounts before it), as the price
  pipeline did for a discount without its own split; a limited-time price, a coupon or
  a buy-N-get-M limited to some lines is therefore spread over all the lines. Shipping is
  split over what each line paid for its goods. What was refunded of each order is
  given back line by line, the goods first and shipping last (key "backfill").
  Commissions and points earned are split over their order's lines in proportion to what
  each paid for its goods (the rates that applied are not known any more).
- Each order's card payments still open, but its newest, are closed (a job of the old
  code could leave several); a payment of theirs that Stripe takes later is refunded by
  the webhook (apply_intent refuses money on a closed payment). Then a partial unique
  index keeps it at one.
- Opening rows for ledgers whose rows did not add up to their balance: a coupon's
  remaining set without a row (the demo's) gets a "restock" row, a group's seats (made
  at its size) an "opened" row.

Revision ID: a7c3e91d5b20
Revises: 6d2b3cbc9c50
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e91d5b20'
down_revision = '6d2b3cbc9c50'
branch_labels = None
depends_on = None


def _allocate(total, weights):
    """shop.money.allocate as it is today (a migration does not import the app)."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def upgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_minor', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('shipping_minor', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paid_minor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refunded_minor', sa.Integer(), server_default='0', nullable=False))
    op.create_table('order_line_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['adjustment_id'], ['order_adjustments.id'], name=op.f('fk_order_line_adjustments_adjustment_id_order_adjustments')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_order_line_adjustments_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line_adjustments')),
    sa.UniqueConstraint('order_line_id', 'adjustment_id', name=op.f('uq_order_line_adjustments_order_line_id_adjustment_id'))
    )
    op.create_index(op.f('ix_order_line_adjustments_adjustment_id'), 'order_line_adjustments', ['adjustment_id'], unique=False)
    op.create_index(op.f('ix_order_line_adjustments_order_line_id'), 'order_line_adjustments', ['order_line_id'], unique=False)
    op.create_table('order_line_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('refunded_after_minor', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor <> 0', name=op.f('ck_order_line_refunds_amount_not_zero')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_line_refunds_order_id_orders')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_order_line_refunds_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line_refunds')),
    sa.UniqueConstraint('order_line_id', 'key', name=op.f('uq_order_line_refunds_order_line_id_key'))
    )
    op.create_index(op.f('ix_order_line_refunds_order_id'), 'order_line_refunds', ['order_id'], unique=False)
    op.create_index(op.f('ix_order_line_refunds_order_line_id'), 'order_line_refunds', ['order_line_id'], unique=False)
    op.create_table('commission_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commission_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('base_minor', sa.Integer(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commission_id'], ['commissions.id'], name=op.f('fk_commission_lines_commission_id_commissions')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_commission_lines_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commission_lines')),
    sa.UniqueConstraint('commission_id', 'order_line_id', name=op.f('uq_commission_lines_commission_id_order_line_id'))
    )
    op.create_index(op.f('ix_commission_lines_commission_id'), 'commission_lines', ['commission_id'], unique=False)
    op.create_table('points_line_earnings',
    sa.Column('order_line_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_line_earnings_order_id_orders')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_points_line_earnings_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('order_line_id', name=op.f('pk_points_line_earnings'))
    )
    op.create_index(op.f('ix_points_line_earnings_order_id'), 'points_line_earnings', ['order_id'], unique=False)

    _backfill_lines()

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('paid_minor', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f('ck_order_lines_discount_within_total'), 'discount_minor >= 0 AND discount_minor <= total_minor')
        batch_op.create_check_constraint(op.f('ck_order_lines_shipping_not_negative'), 'shipping_minor >= 0')
        batch_op.create_check_constraint(op.f('ck_order_lines_paid_adds_up'), 'paid_minor = total_minor - discount_minor + shipping_minor')
        batch_op.create_check_constraint(op.f('ck_order_lines_refunded_within_paid'), 'refunded_minor >= 0 AND refunded_minor <= paid_minor')

    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE payments SET status = 'canceled', "
        "last_error = 'Closed: the order has a newer card payment.' "
        "WHERE method = 'card' AND status = 'pending' AND order_id IS NOT NULL "
        "AND id < (SELECT max(p.id) FROM payments p WHERE p.order_id = payments.order_id "
        "AND p.method = 'card' AND p.status = 'pending')"))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('uq_payments_open_card', ['order_id'], unique=True,
                              sqlite_where=sa.text("method = 'card' AND status = 'pending'"),
                              postgresql_where=sa.text("method = 'card' AND status = 'pending'"))

    _opening_rows()


def _backfill_lines():
    conn = op.get_bind()
    orders = conn.execute(sa.text("SELECT id, total_minor, status FROM orders ORDER BY id")).all()
    for order_id, total, status in orders:
        lines = conn.execute(sa.text(
            "SELECT id, total_minor, quantity FROM order_lines WHERE order_id = :o ORDER BY id"),
            {"o": order_id}).all()
        if not lines:
            continue
        adjustments = conn.execute(sa.text(
            "SELECT id, kind, amount_minor FROM order_adjustments WHERE order_id = :o "
            "ORDER BY position"), {"o": order_id}).all()
        due = [line.total_minor for line in lines]
        discount, shipping, shares = [0] * len(lines), [0] * len(lines), []
        for adjustment in adjustments:
            if adjustment.kind == "shipping" or adjustment.amount_minor >= 0:
                continue
            off = min(-adjustment.amount_minor, sum(max(0, d) for d in due))
            parts = _allocate(off, [max(0, d) for d in due])
            shares.append((adjustment.id, [-p for p in parts]))
            for i, part in enumerate(parts):
                due[i] -= part
                discount[i] += part
        goods = sum(due)
        fee = max(0, total - goods)  # shipping: what the total holds beyond the goods
        if fee:
            weights = next((w for w in (due, [l.total_minor for l in lines],
                                        [l.quantity for l in lines]) if any(w)))
            shipping = _allocate(fee, weights)
            ship_adjustments = [a for a in adjustments if a.kind == "shipping"]
            if ship_adjustments:
                shares.append((ship_adjustments[0].id, shipping))
        for i, line in enumerate(lines):
            conn.execute(sa.text(
                "UPDATE order_lines SET discount_minor = :d, shipping_minor = :s, paid_minor = :p "
                "WHERE id = :id"), {"d": discount[i], "s": shipping[i],
                                    "p": line.total_minor - discount[i] + shipping[i], "id": line.id})
        for adjustment_id, parts in shares:
            for line, part in zip(lines, parts):
                if part:
                    conn.execute(sa.text(
                        "INSERT INTO order_line_adjustments (order_line_id, adjustment_id, amount_minor) "
                        "VALUES (:l, :a, :m)"), {"l": line.id, "a": adjustment_id, "m": part})
        refunded = conn.execute(sa.text(
            "SELECT coalesce(sum(amount_minor - refundable_minor), 0) FROM payments "
            "WHERE order_id = :o AND status = 'succeeded'"), {"o": order_id}).scalar()
        if refunded:
            paid = [line.total_minor - discount[i] + shipping[i] for i, line in enumerate(lines)]
            on_goods = min(refunded, sum(due))
            parts = _allocate(on_goods, [max(0, d) for d in due])
            rest = min(refunded - on_goods, sum(shipping))
            if rest:
                parts = [a + b for a, b in zip(parts, _allocate(rest, shipping))]
            for line, part, most in zip(lines, parts, paid):
                part = min(part, most)
                if part:
                    conn.execute(sa.text("UPDATE order_lines SET refunded_minor = :r WHERE id = :id"),
                                 {"r": part, "id": line.id})
                    conn.execute(sa.text(
                        "INSERT INTO order_line_refunds (order_id, order_line_id, key, amount_minor, "
                        "refunded_after_minor, created_at) VALUES (:o, :l, 'backfill', :m, :m, "
                        "CURRENT_TIMESTAMP)"), {"o": order_id, "l": line.id, "m": part})
        goods_paid = {line.id: line.total_minor - discount[i] for i, line in enumerate(lines)}
        for commission_id, amount in conn.execute(sa.text(
                "SELECT id, amount_minor FROM commissions WHERE order_id = :o"), {"o": order_id}):
            weights = [goods_paid[line.id] for line in lines]
            for line, part in zip(lines, _allocate(amount, weights) if any(weights) else [0] * len(lines)):
                if goods_paid[line.id]:
                    conn.execute(sa.text(
                        "INSERT INTO commission_lines (commission_id, order_line_id, base_minor, "
                        "rate_bp, amount_minor) VALUES (:c, :l, :b, :r, :m)"),
                        {"c": commission_id, "l": line.id, "b": goods_paid[line.id],
                         "r": part * 10_000 // goods_paid[line.id], "m": part})
        earned = conn.execute(sa.text(
            "SELECT amount FROM points_entries WHERE ref_type = 'order' AND ref_id = :o"),
            {"o": str(order_id)}).scalar()
        if earned:
            weights = [goods_paid[line.id] for line in lines]
            for line, part in zip(lines, _allocate(earned, weights) if any(weights) else [0] * len(lines)):
                if part:
                    conn.execute(sa.text(
                        "INSERT INTO points_line_earnings (order_line_id, order_id, points) "
                        "VALUES (:l, :o, :p)"), {"l": line.id, "o": order_id, "p": part})


def _opening_rows():
    conn = op.get_bind()
    for coupon_id, remaining, summed, created in conn.execute(sa.text(
            "SELECT c.id, c.remaining, coalesce(sum(e.delta), 0), c.created_at FROM coupons c "
            "LEFT JOIN coupon_entries e ON e.coupon_id = c.id WHERE c.remaining IS NOT NULL "
            "GROUP BY c.id, c.remaining, c.created_at")).all():
        if remaining != summed:
            conn.execute(sa.text(
                "INSERT INTO coupon_entries (coupon_id, action, delta, remaining_after, ref_type, "
                "ref_id, created_at) VALUES (:c, 'restock', :d, :d, 'opening', :c, :t)"),
                {"c": coupon_id, "d": remaining - summed, "t": created})
    for group_id, seats, summed, created in conn.execute(sa.text(
            "SELECT g.id, g.seats_left, coalesce(sum(e.delta), 0), g.created_at FROM groups g "
            "LEFT JOIN group_seat_entries e ON e.group_id = g.id "
            "GROUP BY g.id, g.seats_left, g.created_at")).all():
        if seats != summed:
            conn.execute(sa.text(
                "INSERT INTO group_seat_entries (group_id, delta, seats_after, reason, ref_type, "
                "ref_id, created_at) VALUES (:g, :d, :d, 'opened', 'group', :g, :t)"),
                {"g": group_id, "d": seats - summed, "t": created})


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('uq_payments_open_card')
    op.drop_index(op.f('ix_points_line_earnings_order_id'), table_name='points_line_earnings')
    op.drop_table('points_line_earnings')
    op.drop_index(op.f('ix_commission_lines_commission_id'), table_name='commission_lines')
    op.drop_table('commission_lines')
    op.drop_index(op.f('ix_order_line_refunds_order_line_id'), table_name='order_line_refunds')
    op.drop_index(op.f('ix_order_line_refunds_order_id'), table_name='order_line_refunds')
    op.drop_table('order_line_refunds')
    op.drop_index(op.f('ix_order_line_adjustments_order_line_id'), table_name='order_line_adjustments')
    op.drop_index(op.f('ix_order_line_adjustments_adjustment_id'), table_name='order_line_adjustments')
    op.drop_table('order_line_adjustments')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_lines_refunded_within_paid'), type_='check')
        batch_op.drop_constraint(op.f('ck_order_lines_paid_adds_up'), type_='check')
        batch_op.drop_constraint(op.f('ck_order_lines_shipping_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_order_lines_discount_within_total'), type_='check')
        batch_op.drop_column('refunded_minor')
        batch_op.drop_column('paid_minor')
        batch_op.drop_column('shipping_minor')
        batch_op.drop_column('discount_minor')
