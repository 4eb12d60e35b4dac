"""Order rules. place_order() turns the cart into an order in one transaction: stock is
claimed through the stock ledger in SKU-id order (no deadlocks), every line and price
step is stored as a snapshot, and the idempotency token from the checkout form makes a
double tap place one order. Status moves only through transition(). Services flush and
raise OrderError; they never commit.

LOCK ORDER. Rows are locked in one order everywhere, so two transactions never wait on
each other in a circle: the order row; its payments and the shoppers' own ledgers
(wallet, points, growth, commissions); then what other domains lock for the order (a
group buy's group, then its campaign); SKU stock last, in SKU-id order. So cancel()
returns wallet parts before it sends order_cancelled, create_order() sends order_placed
before it claims stock, and cancel() and refund() return stock after their signal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop.cart import services as cart
from shop.catalog.models import Sku, StockMovement
from shop.catalog.services import CatalogError, move_stock
from shop.db import db, utcnow
from shop.orders import (HOLD_LABELS, STATUS_LABELS, order_cancelled, order_paid, order_placed,
                         order_refunded, pricing)
from shop import jobs
from shop.money import format_minor
from shop.orders.models import (PAID_STATUSES, Address, Order, OrderAdjustment, OrderEvent,
                                OrderLine)
from shop.payments import PaymentRefused, payment_succeeded, refund_failed
from shop.payments import services as payments
from shop.payments.models import Payment, Refund
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
    """Where a pickup order goes instead of an address (shop.stores makes one): who
    collects it, and the store, whose name and address the order keeps as they were."""

    name: str
    phone: str
    store_id: int
    store_line: str

    def one_line(self) -> str:
        return self.store_line


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


def quote(user_id: int, options: dict | None = None) -> tuple[list[cart.CartLine], pricing.Pricing]:
    """The cart's lines and the price of those that can be bought, as checkout shows it,
    with the shopper's choices (options: {"use_points": True})."""
    lines = cart.lines(cart.AccountCart(user_id))
    return lines, pricing.price([(l.sku.id, l.quantity, l.sku.price_minor)
                                 for l in lines if l.available], user_id, options)


def order_by_key(user_id: int, key: str) -> Order | None:
    """The order a form with this one-use token placed already, if any."""
    return db.session.scalar(select(Order).where(Order.user_id == user_id,
                                                 Order.idempotency_key == key))


def place_order(user_id: int, address: Address | PickupPoint, idempotency_key: str,
                options: dict | None = None) -> Order:
    """The cart becomes an order at the price quote() gives with these options."""
    if (order := order_by_key(user_id, idempotency_key)) is not None:
        return order
    # shipping follows where the order goes, whatever the options said
    options = dict(options or {}, pickup=isinstance(address, PickupPoint),
                   province="" if isinstance(address, PickupPoint) else address.province)
    lines, priced = quote(user_id, options)
    if not lines:
        raise OrderError(_("Your cart is empty."))
    if priced.refused:
        raise OrderError(priced.refused[0])
    for line in lines:  # what the shopper saw is what is ordered, or nothing is
        if not line.available:
            raise OrderError(_("%(title)s is no longer available; remove it from your cart.",
                               title=line.product.tr("title")))
        if line.quantity > line.max_quantity:
            raise OrderError(_("Only %(n)d of %(title)s can be had now.",
                               n=line.max_quantity, title=line.product.tr("title")))
    try:
        with db.session.begin_nested():
            order = create_order(user_id, address, idempotency_key,
                                 [(line.sku, line.product, line.quantity, line.sku.price_minor)
                                  for line in lines], priced)
            store = cart.AccountCart(user_id)
            for line in lines:
                store.remove(line.sku.id)
            db.session.flush()
    except IntegrityError:  # the same token placed an order meanwhile (a double tap)
        order = order_by_key(user_id, idempotency_key)
        if order is None:
            raise
    return order


def create_order(user_id: int, address: Address | PickupPoint, idempotency_key: str,
                 lines: list[tuple],
                 priced: pricing.Pricing, *, kind: str = "standard", hold: str | None = None,
                 pay_by: datetime | None = None, take_stock: bool = True) -> Order:
    """An order of lines (sku, product, quantity, unit_price_minor) at `priced`, plus the
    gifts a step gave (at 0), awaiting payment until ORDER_HOLD_MINUTES from now (or
    `pay_by` if sooner), delivered to the address or collected at the PickupPoint's
    store: stock claimed through the stock ledger in SKU-id order (no
    deadlocks; take_stock=False when the units were set aside already, a flash sale's),
    lines and price steps stored as snapshots; with nothing to pay, paid at once. `hold`
    keeps it from shipping once paid until release_hold() (a group buy still filling).
    Raises OrderError (sold out, or a receiver of order_placed refusing); the caller
    holds the savepoint that undoes it all."""
    expires_at = utcnow() + timedelta(minutes=current_app.config["ORDER_HOLD_MINUTES"])
    if pay_by is not None:
        expires_at = min(expires_at, pay_by)
    order = Order(user_id=user_id, idempotency_key=idempotency_key, kind=kind, hold=hold,
                  status="awaiting_payment", currency=priced.currency,
                  subtotal_minor=priced.subtotal_minor, total_minor=priced.total_minor,
                  ship_name=address.name, ship_phone=address.phone,
                  ship_address=address.one_line(), expires_at=expires_at,
                  pickup_store_id=address.store_id if isinstance(address, PickupPoint) else None)
    db.session.add(order)
    db.session.flush()
    gifts = [(sku, sku.product, gift.quantity, 0) for gift in priced.gifts
             if (sku := db.session.get(Sku, gift.sku_id)) is not None]
    lines = sorted([*lines, *gifts], key=lambda l: (l[0].id, -l[3]))
    order_lines = [OrderLine(order_id=order.id, sku_id=sku.id, product_id=product.id,
                             title=product.title, quantity=quantity,
                             sku_label=" / ".join(product.tr_option(v) for v in sku.option_values),
                             unit_price_minor=unit_price, total_minor=unit_price * quantity)
                   for sku, product, quantity, unit_price in lines]
    for position, adjustment in enumerate(priced.adjustments):
        db.session.add(OrderAdjustment(order_id=order.id, position=position,
                                       kind=adjustment.kind, label=adjustment.label,
                                       detail=adjustment.detail[:80], ref_id=adjustment.ref_id,
                                       amount_minor=adjustment.amount_minor))
    order_placed.send(order, lines=order_lines, pricing=priced)
    db.session.add_all(order_lines)
    wanted: dict[int, list] = {}  # a SKU bought and given (a gift) is claimed once
    for sku, product, quantity, _unit_price in sorted(lines if take_stock else gifts,
                                                      key=lambda l: l[0].id):
        wanted.setdefault(sku.id, [product, 0])[1] += quantity
    for sku_id, (product, quantity) in wanted.items():
        try:  # stock last: see LOCK ORDER above
            move_stock(sku_id, -quantity, reason="order", ref_type="order", ref_id=str(order.id))
        except CatalogError:
            raise OrderError(_("%(title)s has just sold out.", title=product.tr("title"))) from None
    _record(order, None, "awaiting_payment", user_id, "placed")
    db.session.flush()
    if order.total_minor == 0:  # points cover it all (a deduction, a redemption)
        transition(order, "paid", actor_id=user_id, reason="nothing to pay")
        _notify_paid(order)
    return order


def _record(order: Order, from_status: str | None, to_status: str, actor_id: int | None,
            reason: str) -> None:
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
    _record(order, from_status, to_status, actor_id, reason)
    db.session.flush()
    if to_status == "paid" and from_status == "awaiting_payment":
        order_paid.send(order)


def release_hold(order: Order, *, actor_id: int | None, reason: str) -> None:
    """What held the order back (its group filling) is done: it may ship. An event row
    says when and why; releasing twice changes nothing."""
    released = db.session.execute(
        update(Order).where(Order.id == order.id, Order.hold.is_not(None))
        .values(hold=None, updated_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(order, ["hold", "status", "updated_at"])
    if released:
        _record(order, order.status, order.status, actor_id, reason)
        db.session.flush()


def cancel(order: Order, *, actor_id: int | None, reason: str) -> None:
    """Cancel an unpaid order: its stock comes back, and so does any part already paid
    from the wallet (each exactly once: the transition is guarded and ledger references
    are unique). A card payment still open is refused if it succeeds later."""
    transition(order, "cancelled", actor_id=actor_id, reason=reason)
    payments.close_open_payments(order.id)
    for payment in _payments(order, method="wallet"):
        if payment.refundable_minor:
            payments.refund_payment(payment, payment.refundable_minor, key=f"cancel-{order.id}",
                                    reason="order cancelled", actor_id=actor_id,
                                    to_wallet=_back_to_wallet(order, actor_id))
    order_cancelled.send(order)
    return_stock(order, reason="order_cancelled", ref_type="order_cancel")
    db.session.flush()


def _back_to_wallet(order: Order, actor_id: int | None):
    return lambda refund: wallet.move(order.user_id, refund.amount_minor, reason="refund",
                                      ref_type="refund", ref_id=str(refund.id), actor_id=actor_id)


def _payments(order: Order, method: str | None = None) -> list[Payment]:
    query = select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded")
    if method:
        query = query.where(Payment.method == method)
    return list(db.session.scalars(query.order_by(Payment.id)))


def paid_minor(order: Order) -> int:
    return sum(p.amount_minor for p in _payments(order))


def amount_due(order: Order) -> int:
    return order.total_minor - paid_minor(order) if order.status == "awaiting_payment" else 0


def _locked(order_id: int) -> Order:
    """The order row locked for this transaction (PostgreSQL), freshly read."""
    return db.session.get(Order, order_id, with_for_update=True, populate_existing=True)


def pay_with_wallet(order: Order, user_id: int, *, partial: bool = False) -> int:
    """Pay what is due from the shopper's wallet: all of it, or with partial=True as much
    as the balance covers (the card pays the rest). The payment row, the debit (referenced
    by that payment) and, when nothing is left due, the move to paid stand or fall
    together; the order row is locked and what is due recomputed, so two taps can not
    both pay. Returns what is still due."""
    order = _locked(order.id)
    due = amount_due(order)
    if due <= 0:
        raise OrderError(_("This order is not awaiting payment."))
    amount = min(due, wallet.balance(user_id)) if partial else due
    if amount <= 0:
        return due
    try:
        with db.session.begin_nested():
            payment = payments.record_wallet_payment(user_id=user_id, order_id=order.id,
                                                     amount_minor=amount, currency=order.currency)
            wallet.move(user_id, -amount, reason="order payment", ref_type="payment",
                        ref_id=payment.key, actor_id=user_id)
            if amount == due:
                transition(order, "paid", actor_id=user_id, reason="wallet")
                _notify_paid(order)
    except wallet.WalletError as exc:
        raise OrderError(str(exc)) from None
    return due - amount


def pay_by_card(order: Order, user_id: int, *, use_wallet: bool) -> Payment | None:
    """Start paying by card what is due, the wallet first if asked. Returns the card
    payment to confirm, or None when the wallet covered everything."""
    due = pay_with_wallet(order, user_id, partial=True) if use_wallet else amount_due(order)
    if use_wallet and due == 0:
        return None
    if due <= 0:
        raise OrderError(_("This order is not awaiting payment."))
    existing = payments.open_card_payment(purpose="order", order_id=order.id, amount_minor=due)
    if existing is not None:
        return existing
    try:
        return payments.start_card_payment(
            user_id=user_id, purpose="order", order_id=order.id, amount_minor=due,
            currency=order.currency, description=f"Order {order.number}")
    except payments.PaymentError as exc:
        raise OrderError(str(exc)) from None


@payment_succeeded.connect
def _card_paid(payment: Payment) -> None:
    """A card payment for an order succeeded: the order is paid if that is exactly what
    was due; otherwise the money is refused (and refunded)."""
    if payment.purpose != "order":
        return
    order = _locked(payment.order_id)
    if order.status != "awaiting_payment":
        raise PaymentRefused(_("This order is no longer awaiting payment."))
    if order.total_minor - paid_minor(order) != 0:  # this payment is counted already
        raise PaymentRefused(_("The amount paid is not the amount due."))
    try:  # a receiver of order_paid may refuse the order now (its group buy has closed)
        transition(order, "paid", actor_id=payment.user_id, reason=f"card {payment.intent_id}")
    except OrderError as exc:
        raise PaymentRefused(str(exc)) from None
    _notify_paid(order)


@refund_failed.connect
def _refund_failed(payment: Payment) -> None:
    """Stripe refused a card refund: the money is refundable again, so a fully refunded
    order is partly refunded until an admin refunds it another way."""
    if payment.purpose != "order":
        return
    order = _locked(payment.order_id)
    if order.status == "refunded":
        transition(order, "partly_refunded", actor_id=None, reason="a card refund failed")


def _notify_paid(order: Order) -> None:
    """The order is paid: card payments still open for it close (a phone that pays one
    anyway is refunded), and the shopper gets the confirmation email."""
    from shop import notices

    payments.close_open_payments(order.id)
    jobs.enqueue(notices.order_confirmation, order.id)


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


def refund(order: Order, amount_minor: int, *, key: str, reason: str, actor_id: int,
           restock: bool) -> list:
    """Refund part or all of what was paid, card payments first (through Stripe), then
    wallet payments (back to the wallet). Never more than is refundable: each payment's
    refundable balance is a guarded column, and the order row is locked meanwhile. An
    order nothing was paid for in money (points only) is refunded with an amount of 0:
    order_refunded lets the points domain give back what it took."""
    order = _locked(order.id)
    if order.status not in PAID_STATUSES:
        raise OrderError(_("This order can not be refunded now."))
    available = refundable_minor(order)
    nothing_paid = not _payments(order)  # paid in points only: a refund of 0 returns them
    if amount_minor <= 0 and not (nothing_paid and amount_minor == 0):
        raise OrderError(_("The amount must be more than zero."))
    if amount_minor > available:
        raise OrderError(_("At most %(amount)s can still be refunded.",
                           amount=format_minor(available, order.currency)))
    refunds, left = [], amount_minor
    for payment in sorted(_payments(order), key=lambda p: (p.method != "card", p.id)):
        part = min(left, payment.refundable_minor)
        if part <= 0:
            continue
        try:
            refunds.append(payments.refund_payment(
                payment, part, key=f"{key}-{payment.id}", reason=reason, actor_id=actor_id,
                to_wallet=_back_to_wallet(order, actor_id)))
        except payments.PaymentError as exc:
            raise OrderError(str(exc)) from None
        left -= part
    to_status = "refunded" if amount_minor == available else "partly_refunded"
    transition(order, to_status, actor_id=actor_id, reason=reason)
    paid = paid_minor(order)
    order_refunded.send(order, refunded_minor=paid - refundable_minor(order), paid_minor=paid,
                        key=key, restock=restock)
    if restock:
        try:
            return_stock(order, reason="order_refunded", ref_type="order_refund")
        except CatalogError:
            raise OrderError(_("The stock of this order was already returned.")) from None
    return refunds


def return_stock(order: Order, *, reason: str, ref_type: str) -> None:
    """What the order took off the shelf goes back, once per (order, ref_type) by the
    ledger. Units it did not take from the SKUs (a flash sale's, set aside before) are
    for the domain that set them aside."""
    taken = db.session.execute(select(StockMovement.sku_id, StockMovement.delta).where(
        StockMovement.ref_type == "order", StockMovement.ref_id == str(order.id))
        .order_by(StockMovement.sku_id)).all()
    for sku_id, delta in taken:
        move_stock(sku_id, -delta, reason=reason, ref_type=ref_type, ref_id=str(order.id))


def ship(order: Order, *, carrier: str, tracking_number: str, actor_id: int) -> None:
    from shop import notices

    if order.is_pickup:
        raise OrderError(_("This order is picked up at the store; it does not ship."))
    if order.hold is not None:
        raise OrderError(_("This order can not ship yet: %(why)s.",
                           why=HOLD_LABELS.get(order.hold, order.hold)))
    transition(order, "shipped", actor_id=actor_id, reason=f"{carrier} {tracking_number}")
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    order.shipped_at = utcnow()  # from then on, auto_complete_days until it completes itself
    db.session.flush()
    jobs.enqueue(notices.order_shipped, order.id)


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
        if q.isdigit() and len(q) > 8:
            query = query.where(Order.id == int(q[8:]))
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
    return pricing.get_setting("auto_complete_days")


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
    order = _locked(order_id)
    due = completes_at(order) if order is not None else None
    if due is None or due > (now or utcnow()):
        return False
    transition(order, "completed", actor_id=None, reason="auto-completed")
    return True
