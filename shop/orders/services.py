"""Order rules: the state machine, paying, cancelling and refunding an order. Placing one
is shop.orders.placement; what other domains do in an order's transaction runs as the
participants of shop.orders.lifecycle, whose LOCK ORDER every function here follows:
the order row first (locked(), or the guarded UPDATE of transition()), then its
payments, then the participants (shoppers' ledgers, group, campaign), the stock last.
Services flush and raise OrderError; they never commit."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import false, func, select, update
from sqlalchemy.orm import selectinload

from shop.catalog.models import StockMovement
from shop.catalog.services import move_stock
from shop.db import db, ledger_move, utcnow
from shop.money import allocate, format_minor
from shop.orders import HOLD_LABELS, STATUS_LABELS, lifecycle
from shop.orders.models import (PAID_STATUSES, Address, Order, OrderEvent, OrderLine,
                                OrderLineRefund, ShopSetting)
from shop.payments import PaymentRefused
from shop.payments import services as payments
from shop.payments.models import Payment, Refund
from shop.signals import (order_cancelled, order_paid, order_refunded, order_shipped,
                          send_after_commit)
from shop.wallet import services as wallet

TRANSITIONS = {
    "awaiting_payment": {"paid", "cancelled"},
    # paid -> completed: picked up at the store (shop.stores), never shipped
    "paid": {"shipped", "completed", "refund_requested", "partly_refunded", "refunded"},
    "shipped": {"completed", "refund_requested", "partly_refunded", "refunded"},
    "completed": {"refund_requested", "partly_refunded", "refunded"},
    "refund_requested": {"partly_refunded", "refunded", "paid", "shipped", "completed"},
    # a partial refund (a missing item, the shipping fee) does not stop the order
    "partly_refunded": {"partly_refunded", "refunded", "shipped", "completed", "refund_requested"},
    "cancelled": set(),
    "refunded": {"partly_refunded"},  # only when Stripe refuses a refund already counted
}


class OrderError(ValueError):
    pass


@dataclass(frozen=True)
class PickupPoint:
    """Where a pickup order goes instead of an address: who collects it, at which store.
    The pickup participant (shop.stores) checks the store when the order is placed and
    keeps its name and address on the order as they were."""

    name: str
    phone: str
    store_id: int


def destination(user_id: int, form) -> Address | PickupPoint:
    """Where the order of a DestinationForm goes: the address (saved for next time), or
    pickup at the chosen store."""
    if form.picks_up():
        return PickupPoint(name=form.name.data.strip(), phone=form.phone.data.strip(),
                           store_id=form.store_id.data)
    return save_address(user_id, **form.address_values())


# Integer settings an admin changes, kept in shop_settings (key: default):
# auto_complete_days, how long after shipping an order completes itself unless the
# shopper confirms receipt first (set with the shipping templates, shop.shipping).
SETTINGS = {"auto_complete_days": 10}


def get_setting(key: str) -> int:
    value = db.session.scalar(select(ShopSetting.value).where(ShopSetting.key == key))
    return SETTINGS[key] if value is None else value


def set_setting(key: str, value: int) -> None:
    setting = db.session.get(ShopSetting, key)
    if setting is None:
        db.session.add(ShopSetting(key=key, value=value))
    else:
        setting.value = value
    db.session.flush()


def save_address(user_id: int, *, name: str, phone: str, province: str, city: str,
                 district: str, detail: str) -> Address:
    """The shopper's address: an identical saved one is reused, otherwise a new one kept."""
    values = {"name": name.strip(), "phone": phone.strip(), "province": province.strip(),
              "city": city.strip(), "district": district.strip(), "detail": detail.strip()}
    existing = db.session.scalar(select(Address).filter_by(user_id=user_id, **values))
    if existing is not None:
        existing.updated_at = utcnow()  # most recently used comes first next time
        db.session.flush()
        return existing
    address = Address(user_id=user_id, **values)
    db.session.add(address)
    db.session.flush()
    return address


def latest_address(user_id: int) -> Address | None:
    return db.session.scalar(select(Address).where(Address.user_id == user_id)
                             .order_by(Address.updated_at.desc(), Address.id.desc()).limit(1))


# What other domains show on an order's pages (its group, the points it used, its
# pickup): name -> function of the order, read by the order pages' views into their
# context, so templates call no other domain's functions and orders imports none.
PAGE_PARTS: dict = {}


def page_parts(order: Order) -> dict:
    return {name: part(order) for name, part in PAGE_PARTS.items()}


def order_by_key(user_id: int, key: str) -> Order | None:
    """The order a form with this one-use token placed already, if any."""
    return db.session.scalar(select(Order).where(Order.user_id == user_id,
                                                 Order.idempotency_key == key))


def record_event(order: Order, from_status: str | None, to_status: str,
                 actor_id: int | None, reason: str) -> None:
    db.session.add(OrderEvent(order_id=order.id, from_status=from_status, to_status=to_status,
                              actor_id=actor_id, reason=reason))


def transition(order: Order, to_status: str, *, actor_id: int | None, reason: str) -> None:
    """Move the order to `to_status` if the state machine allows it from where it is.
    A guarded UPDATE ... WHERE status = :from makes two racing moves end with one."""
    from_status = order.status
    if to_status not in TRANSITIONS[from_status] or (
            (from_status, to_status) == ("paid", "completed") and not order.is_pickup):
        raise OrderError(_("This order can not go from %(a)s to %(b)s.",
                           a=STATUS_LABELS[from_status], b=STATUS_LABELS[to_status]))
    moved = db.session.execute(
        update(Order).where(Order.id == order.id, Order.status == from_status)
        .values(status=to_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise OrderError(_("This order has just changed; reload it."))
    db.session.refresh(order, ["status", "updated_at"])
    record_event(order, from_status, to_status, actor_id, reason)
    db.session.flush()


def release_hold(order: Order, *, actor_id: int | None, reason: str) -> None:
    """What held the order back (its group filling) is done: it may ship. An event row
    says when and why; releasing twice changes nothing."""
    released = db.session.execute(
        update(Order).where(Order.id == order.id, Order.hold.is_not(None))
        .values(hold=None, updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(order, ["hold", "status", "updated_at"])
    if released:
        record_event(order, order.status, order.status, actor_id, reason)
        db.session.flush()


def locked(order_id: int) -> Order:
    """The order row locked for this transaction (PostgreSQL), freshly read: the first
    lock of every path that changes an order (LOCK ORDER)."""
    return db.session.get(Order, order_id, with_for_update=True, populate_existing=True)


def mark_paid(order: Order, *, actor_id: int | None, reason: str) -> None:
    """Everything due has been paid (the caller holds the order's lock): its other open
    card payment closes (payments, before the participants: LOCK ORDER), the order moves
    to paid, the participants of "paid" run (a group may refuse: OrderError undoes it
    all), and the shopper is told after the commit."""
    payments.close_open_payments(order.id)
    transition(order, "paid", actor_id=actor_id, reason=reason)
    lifecycle.run("paid", order)
    send_after_commit(order_paid, order.id)


def cancel(order: Order, *, actor_id: int | None, reason: str) -> None:
    """Cancel an unpaid order, in the LOCK ORDER: the order, its payments (an open card
    payment closes, any part paid from the wallet comes back), the participants (coupons,
    points, seats, units come back), its stock last; each exactly once (the transition is
    guarded and ledger references are unique)."""
    order = locked(order.id)
    with _all_or_nothing():
        transition(order, "cancelled", actor_id=actor_id, reason=reason)
        payments.close_open_payments(order.id)
        refunds = [payments.refund_payment(payment, payment.refundable_minor,
                                           key=f"cancel-{order.id}", reason="order cancelled",
                                           actor_id=actor_id)
                   for payment in _payments(order, method="wallet") if payment.refundable_minor]
        _back_to_wallet(order, refunds, actor_id)
        lifecycle.run("cancelled", order)
        return_stock(order, reason="order_cancelled", ref_type="order_cancel")
        db.session.flush()
    send_after_commit(order_cancelled, order.id)


def _back_to_wallet(order: Order, refunds: list[Refund], actor_id: int | None) -> None:
    """The wallet gets back what refunds of wallet payments gave, each referenced by its
    refund: after every payment is done (LOCK ORDER: payments, then shoppers' ledgers)."""
    wallet_ids = set(db.session.scalars(select(Payment.id).where(
        Payment.order_id == order.id, Payment.method == "wallet")))
    for refund in refunds:
        if refund.payment_id in wallet_ids:
            wallet.move(order.user_id, refund.amount_minor, reason="refund", ref_type="refund",
                        ref_id=str(refund.id), actor_id=actor_id)


@contextmanager
def _all_or_nothing():
    """A savepoint around a change of an order: a refusal from any step (a participant
    that will not, the stock already back) undoes every step before it, and what the
    session holds is read again, so the page that says no shows the order as it is."""
    try:
        with db.session.begin_nested():
            yield
    except Exception:
        db.session.expire_all()
        raise


def _payments(order: Order, method: str | None = None) -> list[Payment]:
    query = select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded")
    if method:
        query = query.where(Payment.method == method)
    return list(db.session.scalars(query.order_by(Payment.id)))


def paid_minor(order: Order) -> int:
    return sum(p.amount_minor for p in _payments(order))


def amount_due(order: Order) -> int:
    return order.total_minor - paid_minor(order) if order.status == "awaiting_payment" else 0


def pay_with_wallet(order: Order, user_id: int, *, partial: bool = False) -> int:
    """Pay what is due from the shopper's wallet: all of it, or with partial=True as much
    as the balance covers (the card pays the rest). The payment row, the debit (referenced
    by that payment) and, when nothing is left due, the move to paid stand or fall
    together; the order row is locked and what is due recomputed, so two taps can not
    both pay. Returns what is still due."""
    order = locked(order.id)
    due = amount_due(order)
    if due <= 0:
        raise OrderError(_("This order is not awaiting payment."))
    amount = min(due, wallet.balance(user_id)) if partial else due
    if amount <= 0:
        return due
    try:
        with db.session.begin_nested():
            if amount == due:  # the open card payment closes before the wallet moves
                payments.close_open_payments(order.id)
            payment = payments.record_wallet_payment(user_id=user_id, order_id=order.id,
                                                     amount_minor=amount, currency=order.currency)
            wallet.move(user_id, -amount, reason="order payment", ref_type="payment",
                        ref_id=payment.key, actor_id=user_id)
            if amount == due:
                mark_paid(order, actor_id=user_id, reason="wallet")
    except wallet.WalletError as exc:
        raise OrderError(str(exc)) from None
    return due - amount


def pay_by_card(order: Order, user_id: int, *, use_wallet: bool) -> Payment | None:
    """Start paying by card what is due, the wallet first if asked. Returns the order's
    one open card payment, for exactly what is due (a new one, with its PaymentIntent, if
    there was none or it was for another amount), or None when the wallet covered it all.
    Under the order's lock, so taps in parallel wait for each other and share it."""
    order = locked(order.id)
    due = amount_due(order)
    if due <= 0:
        raise OrderError(_("This order is not awaiting payment."))
    by_card = due - (min(due, wallet.balance(user_id)) if use_wallet else 0)
    existing = payments.open_card_payment(order.id)
    if existing is not None and existing.amount_minor != by_card:
        payments.close_open_payments(order.id)  # for another amount: closed, before the wallet
        existing = None
    if use_wallet:
        due = pay_with_wallet(order, user_id, partial=True)
        if due == 0:
            return None
    if existing is not None:
        return existing
    try:
        return payments.start_card_payment(
            user_id=user_id, purpose="order", order_id=order.id, amount_minor=due,
            currency=order.currency, description=f"Order {order.number}",
            key=payments.next_key(order_id=order.id))
    except payments.PaymentError as exc:
        raise OrderError(str(exc)) from None


def _lock_for_payment(payment: Payment) -> None:
    locked(payment.order_id)


def _card_paid(payment: Payment) -> None:
    """A card payment for an order succeeded (its order is locked): the order is paid if
    that is exactly what was due; otherwise the money is refused (and refunded)."""
    order = locked(payment.order_id)
    if order.status != "awaiting_payment":
        raise PaymentRefused(_("This order is no longer awaiting payment."))
    if order.total_minor - paid_minor(order) != 0:  # this payment is counted already
        raise PaymentRefused(_("The amount paid is not the amount due."))
    try:  # a participant of "paid" may refuse the order now (its group buy has closed)
        mark_paid(order, actor_id=payment.user_id, reason=f"card {payment.intent_id}")
    except OrderError as exc:
        raise PaymentRefused(str(exc)) from None


def _card_refund_failed(payment: Payment, failed: Refund) -> None:
    """Stripe refused a card refund: the money is refundable again, and so are the lines
    it was given back for (in proportion to what that refund gave each); a fully
    refunded order is partly refunded until an admin refunds it another way. What the
    refund reversed (commissions, points) stays reversed: refunding again finds it so."""
    order = locked(payment.order_id)
    key = failed.key.rsplit("-", 1)[0]  # the order refund's key (refund(): "<key>-<payment id>")
    given = db.session.execute(select(OrderLineRefund.order_line_id, OrderLineRefund.amount_minor)
                               .where(OrderLineRefund.order_id == order.id,
                                      OrderLineRefund.key == key)
                               .order_by(OrderLineRefund.order_line_id)).all()
    if given:
        back = allocate(min(failed.amount_minor, sum(a for _l, a in given)), [a for _l, a in given])
        for (line_id, _amount), part in zip(given, back):
            if part:
                _move_line(line_id, order.id, -part, key=f"failed-{failed.id}")
        for line in order.lines:
            db.session.refresh(line, ["refunded_minor"])
    if order.status == "refunded":
        transition(order, "partly_refunded", actor_id=None, reason="a card refund failed")


payments.purpose("order", lock=_lock_for_payment, succeeded=_card_paid,
                 refund_failed=_card_refund_failed)


# --- refunds ----------------------------------------------------------------------------

def refundable_minor(order: Order) -> int:
    return sum(p.refundable_minor for p in _payments(order))


def payments_of(order: Order) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.order_id == order.id)
                                   .order_by(Payment.id)))


def refunds_of(order: Order) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.order_id == order.id)
                                   .order_by(Refund.id)))


def request_refund(order: Order, *, user_id: int, reason: str) -> None:
    if order.status not in ("paid", "shipped", "completed"):
        raise OrderError(_("A refund can not be requested for this order now."))
    transition(order, "refund_requested", actor_id=user_id, reason=reason)


def decline_refund(order: Order, *, actor_id: int, reason: str) -> None:
    """Back to where the order was when the refund was requested."""
    before = db.session.scalar(
        select(OrderEvent.from_status).where(OrderEvent.order_id == order.id,
                                             OrderEvent.to_status == "refund_requested")
        .order_by(OrderEvent.id.desc()).limit(1))
    if order.status != "refund_requested" or before is None:
        raise OrderError(_("No refund is requested for this order."))
    transition(order, before, actor_id=actor_id, reason=reason)


def refund_split(order: Order, amount_minor: int, line_id: int | None = None) -> dict[int, int]:
    """How a refund of `amount_minor` is given back line by line ({line id: amount}):
    all of it on one line when an admin refunds that line (at most what it has left),
    otherwise the goods first, in proportion to what each line has left of them, and
    the lines' shares of shipping last."""
    lines = sorted(order.lines, key=lambda line: line.id)
    if line_id is not None:
        line = next((line for line in lines if line.id == line_id), None)
        if line is None:
            raise OrderError(_("This line is not one of the order's."))
        if amount_minor > line.refundable_minor:
            raise OrderError(_("At most %(amount)s of this line can still be refunded.",
                               amount=format_minor(line.refundable_minor, order.currency)))
        return {line.id: amount_minor}
    goods = [max(0, line.goods_minor - line.refunded_minor) for line in lines]
    shipping = [line.refundable_minor - g for line, g in zip(lines, goods)]
    if amount_minor > sum(goods) + sum(shipping):
        raise OrderError(_("At most %(amount)s can still be refunded.",
                           amount=format_minor(sum(goods) + sum(shipping), order.currency)))
    on_goods = min(amount_minor, sum(goods))
    parts = allocate(on_goods, goods) if on_goods else [0] * len(lines)
    rest = amount_minor - on_goods
    if rest:
        parts = [a + b for a, b in zip(parts, allocate(rest, shipping))]
    return {line.id: part for line, part in zip(lines, parts) if part}


def _move_line(line_id: int, order_id: int, delta: int, *, key: str) -> None:
    """The one way a line's refunded amount changes: a guarded update and its ledger row."""
    ledger_move(OrderLine.refunded_minor, [OrderLine.id == line_id,
                                           OrderLine.refunded_minor + delta <= OrderLine.paid_minor],
                delta,
                lambda after: OrderLineRefund(order_id=order_id, order_line_id=line_id, key=key,
                                              amount_minor=delta, refunded_after_minor=after),
                error=OrderError, refused=_("That is more than this line can still refund."),
                duplicate=_("This refund was already made."))


def refund(order: Order, amount_minor: int, *, key: str, reason: str, actor_id: int,
           restock: bool, line_id: int | None = None) -> list:
    """Refund part or all of what was paid, in the LOCK ORDER: the order row, then its
    payments (card payments first, through Stripe after the commit, then wallet payments),
    the wallet they came from, then the lines it is given back for (refund_split(): one
    line, or the goods first and shipping last), then the participants (commissions,
    points, growth, coupons... each reversed on what each line paid), the stock last if
    restock (the line's, or all that is left of the order's). Never more than is
    refundable: each payment's and each line's refundable amount is a guarded balance with
    a ledger row. All or nothing: a participant that refuses undoes it all. An order
    nothing was paid for in money (points only) is refunded with an amount of 0: the
    participants give back what it took."""
    order = locked(order.id)
    if order.status not in PAID_STATUSES:
        raise OrderError(_("This order can not be refunded now."))
    available = refundable_minor(order)
    nothing_paid = not _payments(order)  # paid in points only: a refund of 0 returns them
    if amount_minor <= 0 and not (nothing_paid and amount_minor == 0):
        raise OrderError(_("The amount must be more than zero."))
    if amount_minor > available:
        raise OrderError(_("At most %(amount)s can still be refunded.",
                           amount=format_minor(available, order.currency)))
    split = refund_split(order, amount_minor, line_id)
    with _all_or_nothing():
        refunds, left = [], amount_minor
        for payment in sorted(_payments(order), key=lambda p: (p.method != "card", p.id)):
            part = min(left, payment.refundable_minor)
            if part <= 0:
                continue
            try:
                refunds.append(payments.refund_payment(payment, part, key=f"{key}-{payment.id}",
                                                       reason=reason, actor_id=actor_id))
            except payments.PaymentError as exc:
                raise OrderError(str(exc)) from None
            left -= part
        _back_to_wallet(order, refunds, actor_id)
        for refunded_line_id in sorted(split):
            _move_line(refunded_line_id, order.id, split[refunded_line_id], key=key)
        for line in order.lines:  # the guarded updates went around the loaded rows
            db.session.refresh(line, ["refunded_minor"])
        to_status = "refunded" if amount_minor == available else "partly_refunded"
        transition(order, to_status, actor_id=actor_id, reason=reason)
        paid = paid_minor(order)
        lifecycle.run("refunded", order, key=key, refunded_minor=paid - refundable_minor(order),
                      paid_minor=paid, restock=restock)
        if restock and not return_stock(order, reason="order_refunded", ref_type="order_refund",
                                        line_id=line_id) and order.kind != "flash":
            raise OrderError(_("The stock of this order was already returned."))
    send_after_commit(order_refunded, order.id, key=key)
    return refunds


def return_stock(order: Order, *, reason: str, ref_type: str, line_id: int | None = None) -> int:
    """What the order took off the shelf goes back through the stock ledger, SKU by SKU
    in id order (LOCK ORDER: stock last): for one line (line_id, its row referenced
    "<order>-<line>"), or all that is left of the order (referenced by the order). Never
    more than the order took of a SKU (the ledger's "order" rows; a flash sale's units
    were set aside before, and its domain gives them back) less what came back already
    under this ref_type. Returns the units moved."""
    taken = dict(db.session.execute(
        select(StockMovement.sku_id, -func.sum(StockMovement.delta)).where(
            StockMovement.ref_type == "order", StockMovement.ref_id == str(order.id))
        .group_by(StockMovement.sku_id)).all())
    back = db.session.execute(select(StockMovement.sku_id, StockMovement.ref_id, StockMovement.delta).where(
        StockMovement.ref_type == ref_type,
        (StockMovement.ref_id == str(order.id))
        | StockMovement.ref_id.startswith(f"{order.id}-", autoescape=True))).all()
    left = {sku_id: units - sum(d for s, _r, d in back if s == sku_id) for sku_id, units in taken.items()}
    if line_id is None:
        wanted = {sku_id: units for sku_id, units in left.items() if units > 0}
        reference = str(order.id)
    else:
        line = next(line for line in order.lines if line.id == line_id)
        done = any(ref == f"{order.id}-{line_id}" or ref == str(order.id) for _s, ref, _d in back)
        units = 0 if done else min(line.quantity, left.get(line.sku_id, 0))
        wanted = {line.sku_id: units} if units > 0 else {}
        reference = f"{order.id}-{line_id}"
    for sku_id in sorted(wanted):
        move_stock(sku_id, wanted[sku_id], reason=reason, ref_type=ref_type, ref_id=reference)
    return sum(wanted.values())


def ship(order: Order, *, carrier: str, tracking_number: str, actor_id: int) -> None:
    if order.is_pickup:
        raise OrderError(_("This order is picked up at the store; it does not ship."))
    if order.hold is not None:
        raise OrderError(_("This order can not ship yet: %(why)s.",
                           why=HOLD_LABELS.get(order.hold, order.hold)))
    transition(order, "shipped", actor_id=actor_id, reason=f"{carrier} {tracking_number}")
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    order.shipped_at = utcnow()  # from then on, auto_complete_days until it completes itself
    db.session.flush()
    send_after_commit(order_shipped, order.id)


def admin_orders(*, status: str = "", q: str = "", since=None, until=None, method: str = "",
                 page: int = 1):
    """Orders for the backoffice, newest first. `q` is a customer's email or an order
    number; since/until are dates in the shop's time zone, until inclusive; `method`
    keeps orders with a successful payment by card or from the wallet."""
    from shop.accounts.models import User
    from shop.accounts.services import normalise_email

    query = select(Order).order_by(Order.id.desc())
    if status in TRANSITIONS:
        query = query.where(Order.status == status)
    if q:
        if q.isdigit() and len(q) > 8:  # an order number: its date, then the id
            query = query.where(Order.id == int(q[8:]) if int(q[8:]) < 2**31 else false())
        else:
            query = query.join(User, User.id == Order.user_id).where(User.email == normalise_email(q))
    if method in ("card", "wallet"):
        query = query.where(select(Payment.id).where(
            Payment.order_id == Order.id, Payment.method == method,
            Payment.status == "succeeded").exists())
    if since is not None:
        query = query.where(Order.created_at >= since)
    if until is not None:
        query = query.where(Order.created_at < until)
    return db.paginate(query, page=page, per_page=30, error_out=True, count=True)


def expired_order_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(
        select(Order.id).where(Order.status == "awaiting_payment", Order.expires_at < now)
        .order_by(Order.id)
    ))


def orders_of(user_id: int) -> list[Order]:
    return list(db.session.scalars(
        select(Order).where(Order.user_id == user_id).order_by(Order.id.desc()).limit(100)
    ))


def order_of(user_id: int, order_id: int) -> Order | None:
    """The order if it belongs to this shopper; None otherwise (shown as 404)."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id, Order.user_id == user_id)
        .options(selectinload(Order.lines), selectinload(Order.adjustments),
                 selectinload(Order.events))
    )


# --- receipt ------------------------------------------------------------------------------


def auto_complete_days() -> int:
    """Days after shipping when an order completes itself unless the shopper confirms
    receipt first (set with the shipping templates, shop.shipping)."""
    return get_setting("auto_complete_days")


# Shipped and not yet received: shipped, or shipped and partly refunded (an item missing).
AWAITING_RECEIPT = ("shipped", "partly_refunded")


def _refund_asked_at(order_id: int) -> datetime | None:
    return db.session.scalar(select(func.max(OrderEvent.created_at)).where(
        OrderEvent.order_id == order_id, OrderEvent.to_status == "refund_requested"))


def completes_at(order: Order, days: int | None = None) -> datetime | None:
    """When a shipped order completes itself; None if it is not waiting for that. The
    days count from shipping, or from the shopper's latest refund request after it (a
    declined request gives the shopper the whole time again)."""
    if order.status not in AWAITING_RECEIPT or order.shipped_at is None:
        return None
    asked = _refund_asked_at(order.id)
    start = max(order.shipped_at, asked) if asked is not None else order.shipped_at
    return start + timedelta(days=auto_complete_days() if days is None else days)


def confirm_receipt(order: Order, *, user_id: int) -> None:
    """The shopper has the parcel: a shipped order of theirs is completed."""
    if order.user_id != user_id:
        raise OrderError(_("This is not your order."))
    if order.status not in AWAITING_RECEIPT or order.shipped_at is None:
        raise OrderError(_("Only an order on its way can be confirmed as received."))
    transition(order, "completed", actor_id=user_id, reason="received")


def completion_due_ids(now: datetime) -> list[int]:
    """Shipped orders whose auto_complete_days have passed (since shipping and since any
    refund request), for the sweeper; auto_complete() checks each again under its lock."""
    before = now - timedelta(days=auto_complete_days())
    asked_since = select(OrderEvent.id).where(OrderEvent.order_id == Order.id,
                                              OrderEvent.to_status == "refund_requested",
                                              OrderEvent.created_at >= before).exists()
    return list(db.session.scalars(
        select(Order.id).where(Order.status.in_(AWAITING_RECEIPT), Order.shipped_at < before,
                               ~asked_since).order_by(Order.id)))


def auto_complete(order_id: int, now: datetime | None = None) -> bool:
    """Complete one shipped order nobody confirmed in time (the sweeper); False when it is
    no longer due (confirmed, refunded or completed meanwhile), so running twice is safe."""
    order = locked(order_id)
    due = completes_at(order) if order is not None else None
    if due is None or due > (now or utcnow()):
        return False
    transition(order, "completed", actor_id=None, reason="auto-completed")
    return True
