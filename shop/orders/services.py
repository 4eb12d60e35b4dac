"""Order rules: the state machine, paying, cancelling and refunding an order. Placing one
is shop.orders.placement; what other domains do in an order's transaction runs as the
participants of shop.orders.lifecycle, whose LOCK ORDER every function here follows:
the order row first (locked(), or the guarded UPDATE of transition()), then its
payments, then the participants (shoppers' ledgers, group, campaign), the stock last.
Services flush and raise OrderError; they never commit."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, delete, false, func, or_, select, update
from sqlalchemy.orm import selectinload

from shop.cart import services as cart
from shop.catalog.models import ProductImage, Sku, StockMovement
from shop.catalog.services import move_stock
from shop.db import RowsPage, db, ledger_move, utcnow
from shop.money import allocate, format_minor
from shop.orders import HOLD_LABELS, STATUS_LABELS, addresses, lifecycle
from shop.orders.models import (PAID_STATUSES, Address, Order, OrderEvent, OrderLine,
                                OrderLineRefund, ShopSetting)
from shop.payments import PaymentRefused, gateway
from shop.payments import services as payments
from shop.payments.models import Payment, Refund
from shop.signals import (account_closing, account_closure_blockers, order_cancelled,
                          order_paid, order_refunded, order_shipped, send_after_commit)
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
    """Where the order of a validated AddressForm goes: the address picked from the book,
    one typed in place (added to the book), or pickup at the chosen store."""
    if form.picks_up():
        return PickupPoint(name=form.name.data.strip(),
                           phone=addresses.normalise_mobile(form.phone.data),
                           store_id=form.store_id.data)
    if form.uses_saved():
        return form.saved()
    return addresses.for_order(user_id, **form.address_values())


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


def default_address(user_id: int) -> Address | None:
    """The shopper's default address (shop.orders.addresses), for the order forms."""
    return addresses.default_address(user_id)


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


def release_unpaid(order_id: int, *, actor_id: int | None, reason: str) -> bool:
    """The one way an unpaid order is let go, whoever lets it go: the sweeper once its
    hold expires (reason "expired"), or its shopper (cancel_by_shopper). A card payment
    Stripe may have taken without our hearing of it (a late webhook) is read from Stripe
    first, with no lock held, and applied under the order's lock (it may pay the order);
    then, the order locked, cancel(). False when the order is no longer awaiting payment
    (paid or cancelled meanwhile): nothing is cancelled, what was read still stands. A
    card payment that succeeds after the cancel is refused and refunded in full by
    payments.apply_intent (the intent was closed: close_open_payments)."""
    for payment_id in payments.pending_card_payment_ids(utcnow(), order_id=order_id):
        payments.sync(payment_id)
    order = locked(order_id)
    if order is None or order.status != "awaiting_payment":
        return False
    cancel(order, actor_id=actor_id, reason=reason)
    return True


# The reason the shopper's own cancel writes on the order's event (REASON_LABELS).
CANCELLED_BY_SHOPPER = "cancelled by shopper"


def cancel_by_shopper(order: Order, *, user_id: int) -> None:
    """The shopper cancels an unpaid order of theirs: release_unpaid(), the path of the
    sweeper's expiry, so what the order held (stock, coupon, points, a wallet part, a
    group seat, flash units, a bargain) comes back once through cancel(), whoever comes
    first. A paid order is not cancelled this way (that is a refund request) and an
    order that has changed meanwhile is left as it is: OrderError, nothing changed."""
    if order.user_id != user_id:
        raise OrderError(_("This is not your order."))
    try:
        released = order.status == "awaiting_payment" and release_unpaid(
            order.id, actor_id=user_id, reason=CANCELLED_BY_SHOPPER)
    except payments.PaymentError as exc:  # Stripe did not answer: try again later
        raise OrderError(str(exc)) from None
    if released:
        return
    status = db.session.scalar(select(Order.status).where(Order.id == order.id))
    if status == "cancelled":
        raise OrderError(_("This order is already cancelled."))
    if status in PAID_STATUSES:
        raise OrderError(_("This order is paid, so it can no longer be cancelled. To give it "
                           "back, request a refund."))
    raise OrderError(_("This order can no longer be cancelled."))


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


def card_next(order: Order, user_id: int) -> Payment | None:
    """For an order the shopper has just placed: its card payment, started in that same
    request as pay_by_card starts it (its key from the order's id: a second tap finds the
    same one open), when the card is the only way to pay it, that is card payments are
    on and the shopper's wallet holds nothing; the placing page then leads straight to
    the card form. None when the order page has a choice to offer (the wallet pays all
    or part of it), when nothing is due, or when the gateway refused to start one (its
    savepoint undone: the order stands and its page offers the card again)."""
    if not gateway.enabled() or wallet.balance(user_id) > 0 or amount_due(order) <= 0:
        return None
    try:
        with db.session.begin_nested():
            return pay_by_card(order, user_id, use_wallet=False)
    except OrderError:
        return None


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


def expired_order_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(
        select(Order.id).where(Order.status == "awaiting_payment", Order.expires_at < now)
        .order_by(Order.id)
    ))


# --- the shopper's order list: its tabs, a page of rows, buying again ------------------

# The tabs of "My orders" (/orders?tab=<key>), in the order shown; the keys are fixed
# (the Me page links to them). "all" holds every order; each other order is under
# exactly one of the others, cancelled ones under none (a closed order waits for nothing
# from anyone; they show under "all" only, as shops in China list 交易关闭).
SHOPPER_TABS = ("all", "unpaid", "unshipped", "shipped", "pickup", "done", "refunds")


def shopper_tab():
    """The tab an order is under, as one SQL CASE whose first true branch wins, so no
    order is under two. How every status maps (ORDER_STATUSES):

    - awaiting_payment                          -> unpaid   待付款
    - refund_requested, refunded                -> refunds  退款/售后
    - partly_refunded after it was completed    -> refunds  (its after-sales)
    - completed                                 -> done     已完成
    - paid, partly_refunded, picked up at a store
      (a group buy still filling included)      -> pickup   待自提
    - shipped, partly_refunded once shipped     -> shipped  待收货
    - paid, partly_refunded, to be delivered,
      not shipped (a group buy still filling,
      its order held: it ships once complete)   -> unshipped 待发货
    - cancelled                                 -> none (only under "all")
    """
    completed_before = select(OrderEvent.id).where(
        OrderEvent.order_id == Order.id, OrderEvent.to_status == "completed").exists()
    return case(
        (Order.status == "awaiting_payment", "unpaid"),
        (Order.status.in_(("refund_requested", "refunded")), "refunds"),
        (and_(Order.status == "partly_refunded", completed_before), "refunds"),
        (Order.status == "completed", "done"),
        (and_(Order.status.in_(OPEN), Order.pickup_store_id.is_not(None)), "pickup"),
        (and_(Order.status.in_(AWAITING_RECEIPT), Order.shipped_at.is_not(None)), "shipped"),
        (Order.status.in_(OPEN), "unshipped"),
        else_=None)


def shopper_tab_counts(user_id: int) -> dict[str, int]:
    """How many of the shopper's orders each tab holds, in one grouped query."""
    tab = shopper_tab().label("tab")
    inner = select(tab).where(Order.user_id == user_id).subquery()
    rows = db.session.execute(select(inner.c.tab, func.count()).group_by(inner.c.tab)).all()
    counts = dict.fromkeys(SHOPPER_TABS, 0)
    counts.update({key: n for key, n in rows if key is not None})
    counts["all"] = sum(n for _key, n in rows)
    return counts


@dataclass
class ShopperRow:
    """One row of "My orders": the order (its lines loaded), its tab, and the cover image
    of its first line's product (None when it has none)."""

    order: Order
    tab: str | None
    cover: object  # shop.catalog.models.ProductImage | None

    @property
    def first(self) -> OrderLine | None:
        return self.order.lines[0] if self.order.lines else None


def shopper_orders(user_id: int, tab: str, counts: dict[str, int], *, page: int = 1,
                   per_page: int = 20) -> RowsPage:
    """A page of the shopper's orders under `tab` (SHOPPER_TABS), newest first, as
    ShopperRow: a fixed number of queries whatever the page holds (the orders with their
    tab, their lines, the first lines' covers); the total comes from `counts`
    (shopper_tab_counts), already read for the tabs."""
    which = shopper_tab()
    query = select(Order, which).where(Order.user_id == user_id)
    if tab != "all":
        query = query.where(which == tab)
    query = (query.order_by(Order.id.desc()).limit(per_page).offset((page - 1) * per_page)
             .options(selectinload(Order.lines)))
    found = db.session.execute(query).all()
    covers = _covers({order.lines[0].product_id for order, _tab in found if order.lines})
    rows = [ShopperRow(order, key, covers.get(order.lines[0].product_id) if order.lines else None)
            for order, key in found]
    return RowsPage(rows, page, per_page, counts.get(tab, 0))


def _covers(product_ids) -> dict:
    """Product id -> its first image (shop.catalog's ProductImage), in one query."""
    covers: dict = {}
    if product_ids:
        for image in db.session.scalars(select(ProductImage).where(
                ProductImage.product_id.in_(sorted(product_ids)))
                .order_by(ProductImage.position, ProductImage.id)):
            covers.setdefault(image.product_id, image)
    return covers


@dataclass(frozen=True)
class BuyAgain:
    """What buying an order again did: the lines put in the cart (line, units added,
    units bought: fewer added when the stock or the limit allowed no more), and those
    left out with why."""

    added: list
    left_out: list


def buy_again(order: Order, *, user_id: int) -> BuyAgain:
    """Put the order's items that are still on sale into the shopper's cart, at the
    quantities bought, capped by what may be had now (stock, the product's limit, what
    the cart holds already); the cart prices them at today's prices at checkout, as it
    always does (nothing of the order's price is carried over: not a group's, a flash
    sale's or a bargain's). Lines of one SKU count together. Changes only the cart."""
    if order.user_id != user_id:
        raise OrderError(_("This is not your order."))
    wanted: dict[int, int] = {}
    for line in order.lines:
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
    skus = {sku.id: sku for sku in db.session.scalars(
        select(Sku).where(Sku.id.in_(sorted(wanted))).options(selectinload(Sku.product)))}
    store = cart.AccountCart(user_id)
    in_cart = store.quantities()
    added, left_out, seen = [], [], set()
    for line in order.lines:
        if line.sku_id in seen:
            continue
        seen.add(line.sku_id)
        sku = skus.get(line.sku_id)
        if sku is None or not sku.active or not sku.product.on_sale:
            left_out.append((line, _("no longer on sale")))
            continue
        room = cart.max_quantity(sku) - in_cart.get(sku.id, 0)
        if sku.stock <= 0:
            left_out.append((line, _("sold out")))
        elif room <= 0:
            left_out.append((line, _("your cart already holds as many as you may buy")))
        else:
            units = min(wanted[sku.id], room)
            try:
                cart.add(store, sku.id, units)
            except cart.CartError as exc:  # changed since it was read
                left_out.append((line, str(exc)))
                continue
            added.append((line, units, wanted[sku.id]))
    return BuyAgain(added, left_out)


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


# --- the backoffice: who sees which orders, the list, its tabs and its counts -------------

# The store ids a staff member works at, as a function of their user id: set by
# shop.stores (which owns StoreStaff; orders import no store code). Unset, store staff
# see no order at all (closed by default).
STAFF_STORES: dict = {}


@dataclass(frozen=True)
class Scope:
    """The orders one backoffice user may see and act on: every order (store_ids None, an
    admin), or only those picked up at one of their stores (store staff). Every backoffice
    query of orders goes through where(); every action on one order through allows()."""

    store_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.store_ids is None

    def where(self, query):
        if self.store_ids is None:
            return query
        if not self.store_ids:
            return query.where(false())
        return query.where(Order.pickup_store_id.in_(sorted(self.store_ids)))

    def allows(self, order: Order | None) -> bool:
        return order is not None and (self.store_ids is None
                                      or order.pickup_store_id in self.store_ids)


def order_scope(user) -> Scope:
    """The one place the backoffice's reach is decided: admins see every order; store
    staff the orders collected at their stores; anyone else none."""
    if user.role == "admin":
        return Scope(None)
    lookup = STAFF_STORES.get("store_ids")
    if user.role != "staff" or lookup is None:
        return Scope(frozenset())
    return Scope(frozenset(lookup(user.id)))


OPEN = ("paid", "partly_refunded")  # paid and not (wholly) refunded, nor finished


def tab_conditions() -> dict:
    """The list's tabs (shop.orders.TAB_LABELS) as conditions on orders; at most one holds
    for an order, so the counts of the tabs add up to "all"."""
    return {
        "unpaid": Order.status == "awaiting_payment",
        # paid, but held back until something happens (a group buy still filling)
        "held": and_(Order.status.in_(OPEN), Order.hold.is_not(None), Order.shipped_at.is_(None)),
        # paid, delivered, free to ship, not shipped yet
        "to_ship": and_(Order.status.in_(OPEN), Order.pickup_store_id.is_(None),
                        Order.shipped_at.is_(None), Order.hold.is_(None)),
        "shipped": and_(Order.status.in_(AWAITING_RECEIPT), Order.shipped_at.is_not(None)),
        "awaiting_pickup": and_(Order.status.in_(OPEN), Order.pickup_store_id.is_not(None),
                                Order.hold.is_(None)),
        "completed": Order.status == "completed",
        "refund_requested": Order.status == "refund_requested",
        "refunded": Order.status == "refunded",
        "cancelled": Order.status == "cancelled",
    }


@dataclass(frozen=True)
class OrderFilter:
    """The backoffice list's filters: a tab (or one status), words to search, how it was
    paid, and a range of days (since inclusive, until exclusive, aware datetimes)."""

    status: str = ""
    q: str = ""
    method: str = ""
    since: datetime | None = None
    until: datetime | None = None


def order_id_of(number: str) -> int | None:
    """The id an order number names (its date, then the id), or None when it names no
    id a row can have (not digits, too short, past a 32-bit integer)."""
    if number.isascii() and number.isdigit() and 8 < len(number) < 20 and int(number[8:]) < 2**31:
        return int(number[8:])
    return None


def _searched(query, q: str):
    """An order number; otherwise part of the customer's name, phone or email, of who
    receives it, or of a product title bought."""
    from shop.accounts.models import User

    q = q.strip()
    if not q:
        return query
    needle = q.lower()

    def has(column):
        return func.lower(column).contains(needle, autoescape=True)

    customer = select(User.id).where(User.id == Order.user_id, or_(
        has(User.nickname), has(User.email), has(func.coalesce(User.phone, "")))).exists()
    bought = select(OrderLine.id).where(OrderLine.order_id == Order.id,
                                        has(OrderLine.title)).exists()
    found = [has(Order.ship_name), has(Order.ship_phone), customer, bought]
    # Digits may be an order number (its date, then the id) as well as a phone number.
    if (order_id := order_id_of(q)) is not None:
        found.append(Order.id == order_id)
    return query.where(or_(*found))


def _filtered(scope: Scope, filters: OrderFilter, *, with_status: bool = True):
    query = scope.where(select(Order))
    if with_status and filters.status:
        tabs = tab_conditions()
        if filters.status in tabs:
            query = query.where(tabs[filters.status])
        elif filters.status in TRANSITIONS:
            query = query.where(Order.status == filters.status)
    query = _searched(query, filters.q)
    if filters.method in ("card", "wallet"):
        query = query.where(select(Payment.id).where(
            Payment.order_id == Order.id, Payment.method == filters.method,
            Payment.status == "succeeded").exists())
    if filters.since is not None:
        query = query.where(Order.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Order.created_at < filters.until)
    return query


def tab_counts(scope: Scope, filters: OrderFilter = OrderFilter()) -> dict[str, int]:
    """How many orders each tab holds under the other filters, in one grouped query;
    "all" is their sum."""
    tabs = tab_conditions()
    which = case(*[(condition, key) for key, condition in tabs.items()], else_="other")
    inner = _filtered(scope, filters, with_status=False).with_only_columns(
        which.label("tab")).subquery()
    rows = db.session.execute(select(inner.c.tab, func.count()).group_by(inner.c.tab)).all()
    counts = {key: 0 for key in tabs}
    counts.update({tab: n for tab, n in rows})
    counts["all"] = sum(n for _tab, n in rows)
    return counts


def count_to_ship(scope: Scope) -> int:
    """Paid orders to deliver, free to ship and not shipped yet (the list's
    ?status=to_ship; those a group buy still holds back are under ?status=held)."""
    return db.session.scalar(scope.where(select(func.count()).select_from(Order)
                                         .where(tab_conditions()["to_ship"])))


def count_awaiting_pickup(scope: Scope) -> int:
    """Paid pickup orders free to collect and not collected yet (?status=awaiting_pickup)."""
    return db.session.scalar(scope.where(select(func.count()).select_from(Order)
                                         .where(tab_conditions()["awaiting_pickup"])))


def count_refunds_to_handle(scope: Scope) -> int:
    """Refund requests waiting for an answer (orders.admin_aftersales)."""
    return db.session.scalar(scope.where(select(func.count()).select_from(Order)
                                         .where(Order.status == "refund_requested")))


@dataclass
class OrderRow:
    """One order of a backoffice list with what it shows beside it, loaded in bulk."""

    order: Order
    customer: object  # shop.accounts.models.User
    payments: list[Payment]
    covers: dict  # product id -> its first ProductImage


def _rows(orders: list[Order]) -> list[OrderRow]:
    """The orders' customers, payments and the covers of what they bought: one query
    each, whatever the number of orders (their lines are loaded with them)."""
    from shop.accounts.models import User

    ids = [order.id for order in orders]
    if not ids:
        return []
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({o.user_id for o in orders})))}
    paid: dict[int, list[Payment]] = {}
    for payment in db.session.scalars(select(Payment).where(Payment.order_id.in_(ids))
                                      .order_by(Payment.id)):
        paid.setdefault(payment.order_id, []).append(payment)
    covers = _covers({line.product_id for order in orders for line in order.lines})
    return [OrderRow(order, users.get(order.user_id), paid.get(order.id, []), covers)
            for order in orders]


def admin_orders(scope: Scope, filters: OrderFilter, *, page: int = 1, per_page: int = 30):
    """A page of the backoffice list, newest first: (pagination, [OrderRow])."""
    query = _filtered(scope, filters).order_by(Order.id.desc()).options(
        selectinload(Order.lines))
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=True, count=True)
    return pagination, _rows(list(pagination.items))


def export_batches(scope: Scope, filters: OrderFilter, size: int = 200):
    """Every order of the filtered list, newest first, as lists of OrderRow of at most
    `size` orders: a bounded number of queries per batch, whatever the total (the CSV
    export streams them). Keyset pagination on the id, so rows added meanwhile do not
    shift the batches."""
    after = None
    while True:
        query = _filtered(scope, filters).order_by(Order.id.desc()).limit(size).options(
            selectinload(Order.lines))
        if after is not None:
            query = query.where(Order.id < after)
        orders = list(db.session.scalars(query))
        if not orders:
            return
        yield _rows(orders)
        after = orders[-1].id
        db.session.expunge_all()  # a long export keeps no more than a batch in memory
        if len(orders) < size:
            return


def admin_order(scope: Scope, order_id: int) -> Order | None:
    """One order the user may see, or None (a 404: another store's order is not shown)."""
    order = db.session.get(Order, order_id)
    return order if scope.allows(order) else None


# --- the backoffice: an order's price, who placed it, what happened to it -----------------


@dataclass
class LineShare:
    line: OrderLine
    shares: list[int]  # its share of each of the order's adjustments, in their order


@dataclass
class Breakdown:
    """An order's price as it was made: each line's list price, its share of every
    adjustment (discounts negative, shipping positive) and what was paid for it; then the
    order's totals and where the money came from and went back to."""

    adjustments: list  # OrderAdjustment, in their order
    lines: list[LineShare]
    subtotal_minor: int
    shipping_minor: int
    discount_minor: int
    total_minor: int
    paid_by: dict  # method -> amount of its succeeded payments
    paid_minor: int
    refunded_minor: int


def breakdown(order: Order) -> Breakdown:
    from shop.orders.models import OrderLineAdjustment

    adjustments = list(order.adjustments)
    position = {adjustment.id: i for i, adjustment in enumerate(adjustments)}
    shares = {line.id: [0] * len(adjustments) for line in order.lines}
    if order.lines:
        for share in db.session.scalars(select(OrderLineAdjustment).where(
                OrderLineAdjustment.order_line_id.in_(list(shares)))):
            if share.adjustment_id in position:
                shares[share.order_line_id][position[share.adjustment_id]] = share.amount_minor
    paid_by: dict[str, int] = {}
    for payment in _payments(order):
        paid_by[payment.method] = paid_by.get(payment.method, 0) + payment.amount_minor
    return Breakdown(
        adjustments=adjustments,
        lines=[LineShare(line, shares[line.id]) for line in order.lines],
        subtotal_minor=order.subtotal_minor,
        shipping_minor=sum(line.shipping_minor for line in order.lines),
        discount_minor=sum(line.discount_minor for line in order.lines),
        total_minor=order.total_minor,
        paid_by=paid_by, paid_minor=sum(paid_by.values()),
        refunded_minor=sum(line.refunded_minor for line in order.lines))


def people(ids) -> dict:
    """Users by id (customers, who moved an order), in one query."""
    from shop.accounts.models import User

    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


# --- the backoffice: refund requests waiting for an answer ---------------------------------


@dataclass
class RefundAsk:
    order: Order
    customer: object
    reason: str
    asked_at: datetime | None
    refundable_minor: int


def refund_queue(scope: Scope, *, page: int = 1, per_page: int = 30):
    """Orders whose refund request waits for an admin, the oldest request first, with
    the request's reason and time: (pagination, [RefundAsk]). Approving (a refund) or
    declining it moves the order out of refund_requested, and so out of the queue."""
    asked = (select(OrderEvent.order_id, func.max(OrderEvent.id).label("event_id"))
             .where(OrderEvent.to_status == "refund_requested")
             .group_by(OrderEvent.order_id).subquery())
    query = scope.where(select(Order).where(Order.status == "refund_requested")) \
        .outerjoin(asked, asked.c.order_id == Order.id) \
        .order_by(asked.c.event_id.asc(), Order.id.asc())
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=True, count=True)
    orders = list(pagination.items)
    ids = [o.id for o in orders]
    events, refundable = {}, {}
    if ids:
        for event in db.session.scalars(select(OrderEvent).where(
                OrderEvent.order_id.in_(ids), OrderEvent.to_status == "refund_requested")
                .order_by(OrderEvent.id)):
            events[event.order_id] = event  # the latest wins
        refundable = dict(db.session.execute(
            select(Payment.order_id, func.sum(Payment.refundable_minor)).where(
                Payment.order_id.in_(ids), Payment.status == "succeeded")
            .group_by(Payment.order_id)).all())
    customers = people(o.user_id for o in orders)
    return pagination, [
        RefundAsk(o, customers.get(o.user_id), events[o.id].reason if o.id in events else "",
                  events[o.id].created_at if o.id in events else None,
                  int(refundable.get(o.id) or 0)) for o in orders]


# --- the backoffice: shipping many orders from a spreadsheet -------------------------------

SHIP_FILE_MAX_BYTES = 256 * 1024
SHIP_FILE_MAX_ROWS = 2000
TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def read_ship_file(data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV (order number, carrier, tracking number), as text:
    UTF-8 with or without a BOM (what Excel and WPS save as "CSV UTF-8"), else GBK/GB18030
    (what they save as plain CSV on a Chinese system). A first row that is not an order
    (a header) is dropped; blank rows are skipped. Raises OrderError when the file can not
    be read."""
    if len(data) > SHIP_FILE_MAX_BYTES:
        raise OrderError(_("The file is too large: at most %(n)d KB.",
                           n=SHIP_FILE_MAX_BYTES // 1024))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise OrderError(_("The file is neither UTF-8 nor GBK text; save it as CSV."))
    if "\x00" in text:
        raise OrderError(_("The file is neither UTF-8 nor GBK text; save it as CSV."))
    try:
        rows = [[cell.strip() for cell in row]
                for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error:
        raise OrderError(_("The file is not a CSV file.")) from None
    rows = [row for row in rows if any(row)]
    if rows and not rows[0][0].lstrip("'").isdigit():
        rows = rows[1:]  # a header: "订单号,快递公司,运单号" or the like
    if not rows:
        raise OrderError(_("The file has no rows to ship."))
    if len(rows) > SHIP_FILE_MAX_ROWS:
        raise OrderError(_("At most %(n)d rows at a time.", n=SHIP_FILE_MAX_ROWS))
    return rows


@dataclass
class ShipRow:
    """One row of a batch: what it says, the order it names, and why it can not ship
    (error), or None when it can."""

    line: int  # the row's place in the file (1: the first order row)
    number: str
    carrier: str
    tracking_number: str
    order: Order | None = None
    error: str | None = None


def _ship_refusal(order: Order) -> str | None:
    """Why this order can not be shipped now, or None (the checks of ship(), said first)."""
    if order.is_pickup:
        return _("This order is picked up at the store; it does not ship.")
    if order.carrier or order.shipped_at is not None:
        return _("Already shipped: %(carrier)s %(number)s.", carrier=order.carrier or "",
                 number=order.tracking_number or "")
    if order.status not in OPEN:
        return _("Not shippable now: the order is %(status)s.",
                 status=str(STATUS_LABELS[order.status]).lower())
    if order.hold is not None:
        return _("This order can not ship yet: %(why)s.",
                 why=HOLD_LABELS.get(order.hold, order.hold))
    return None


def check_ship_rows(scope: Scope, rows: list[list[str]]) -> list[ShipRow]:
    """Every row checked against the orders as they are now, within the user's scope, in
    one query for all the orders: which can ship and why the others can not. Changes
    nothing."""
    checked, wanted = [], {}
    for i, row in enumerate(rows, start=1):
        cells = (row + ["", "", ""])[:3]
        item = ShipRow(i, cells[0].lstrip("'"), cells[1], cells[2])
        checked.append(item)
        if len(row) > 3 and any(row[3:]):
            item.error = _("Only three columns: order number, carrier, tracking number.")
        elif not (item.number and item.carrier and item.tracking_number):
            item.error = _("Give the order number, the carrier and the tracking number.")
        elif len(item.carrier) > 64:
            item.error = _("The carrier's name is too long (at most 64 characters).")
        elif not TRACKING_NUMBER.match(item.tracking_number):
            item.error = _("The tracking number takes letters, digits and dashes only.")
        elif order_id_of(item.number) is None:
            item.error = _("This is not an order number.")
        else:
            wanted[item.number] = order_id_of(item.number)
    orders = {}
    if wanted:
        orders = {o.id: o for o in db.session.scalars(
            select(Order).where(Order.id.in_(set(wanted.values()))))}
    seen: set[str] = set()
    for item in checked:
        if item.error is not None:
            continue
        order = orders.get(wanted[item.number])
        if order is None or order.number != item.number:
            item.error = _("No order has this number.")
        elif not scope.allows(order):
            item.error = _("This order is not one of your stores'.")
        elif item.number in seen:
            item.error = _("This order is on an earlier row already.")
        else:
            item.order = order
            item.error = _ship_refusal(order)
        seen.add(item.number)
    return checked


def ship_rows(scope: Scope, rows: list[list[str]], *, actor_id: int) -> list[ShipRow]:
    """Ship every row that can ship, checked again now (never trusting an earlier
    preview), each through ship() (one event per order) in a savepoint of its own, so a
    row that fails on the way (the order changed meanwhile) leaves the others shipped
    and itself untouched, with its error. Returns the rows, each shipped or with why not."""
    checked = check_ship_rows(scope, rows)
    # lowest order id first (DESIGN's lock order): two files naming the same orders in
    # another order never wait on each other; the rows are reported in the file's order
    for item in sorted(checked, key=lambda item: item.order.id if item.order else 0):
        if item.error is not None:
            continue
        try:
            with db.session.begin_nested():
                order = locked(item.order.id)
                item.error = _ship_refusal(order)
                if item.error is None:
                    ship(order, carrier=item.carrier, tracking_number=item.tracking_number,
                         actor_id=actor_id)
        except OrderError as exc:
            db.session.expire_all()
            item.error = str(exc)
    return checked


# --- account closure (shop.accounts.closure) ---------------------------------------------

# An order in any other state still needs its buyer (to pay, receive, collect, or hear
# about a refund), so the account can not close yet; a partly refunded one is finished
# once it had been completed (refunded after delivery), not while it is still on its way.
FINISHED = ("completed", "cancelled", "refunded")


def _unfinished(user_id: int):
    completed_once = select(OrderEvent.id).where(OrderEvent.order_id == Order.id,
                                                 OrderEvent.to_status == "completed").exists()
    return and_(Order.user_id == user_id, Order.status.not_in(FINISHED),
                or_(Order.status != "partly_refunded", ~completed_once))


# The unfinished orders the close page links to (more are rare; the message covers them).
BLOCKING_ORDERS_SHOWN = 20


@account_closure_blockers.connect
def _closure_blockers(user, **_kwargs) -> list:
    """The orders of theirs not finished yet, each linked, block closing: after-sales may
    still need the person."""
    from shop.accounts.closure import Blocker

    orders = db.session.scalars(select(Order).where(_unfinished(user.id)).order_by(Order.id)
                                .limit(BLOCKING_ORDERS_SHOWN)).all()
    if not orders:
        return []
    return [Blocker(_("An order of yours is not finished yet: once each is completed, "
                      "cancelled or refunded, you can close your account."),
                    tuple((f"{_('Order %(number)s', number=order.number)} · "
                           f"{STATUS_LABELS[order.status]}",
                           "orders.detail", {"order_id": order.id}) for order in orders))]


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """Their addresses are erased and their orders' delivery snapshot (name, number,
    address; a pickup order's address is the store's, kept) is blanked: with every order
    finished (_closure_blockers) and the account closed, no after-sales can need it. The
    orders stay, with their lines, payments and events, for the books; what the shopper
    typed as an event's reason (a refund request) goes."""
    db.session.execute(delete(Address).where(Address.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Order).where(Order.user_id == user.id)
                       .values(ship_name="", ship_phone="",
                               ship_address=case((Order.pickup_store_id.is_(None), ""),
                                                 else_=Order.ship_address))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(OrderEvent).where(OrderEvent.actor_id == user.id,
                                                OrderEvent.to_status == "refund_requested")
                       .values(reason="").execution_options(synchronize_session=False))
