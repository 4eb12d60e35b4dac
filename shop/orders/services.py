"""Order rules. place_order() turns the cart into an order in one transaction: stock is
claimed through the stock ledger in SKU-id order (no deadlocks), every line and price
step is stored as a snapshot, and the idempotency token from the checkout form makes a
double tap place one order. Status moves only through transition(). Services flush and
raise OrderError; they never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop.cart import services as cart
from shop.catalog.services import CatalogError, move_stock
from shop.db import db, utcnow
from shop.orders import pricing
from shop.orders.models import Address, Order, OrderAdjustment, OrderEvent, OrderLine
from shop.wallet import services as wallet

TRANSITIONS = {
    "awaiting_payment": {"paid", "cancelled"},
    "paid": {"shipped", "refund_requested", "partly_refunded", "refunded"},
    "shipped": {"completed", "refund_requested", "partly_refunded", "refunded"},
    "completed": {"refund_requested", "partly_refunded", "refunded"},
    "refund_requested": {"partly_refunded", "refunded", "paid", "shipped", "completed"},
    "partly_refunded": {"partly_refunded", "refunded"},
    "cancelled": set(),
    "refunded": set(),
}


class OrderError(ValueError):
    pass


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


def quote(user_id: int) -> tuple[list[cart.CartLine], pricing.Pricing]:
    """The cart's lines and the price of those that can be bought, as checkout shows it."""
    lines = cart.lines(cart.AccountCart(user_id))
    return lines, pricing.price([(l.sku.id, l.quantity, l.sku.price_minor)
                                 for l in lines if l.available], user_id)


def _existing(user_id: int, key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.user_id == user_id,
                                                 Order.idempotency_key == key))


def place_order(user_id: int, address: Address, idempotency_key: str) -> Order:
    if (order := _existing(user_id, idempotency_key)) is not None:
        return order
    lines, priced = quote(user_id)
    if not lines:
        raise OrderError(_("Your cart is empty."))
    for line in lines:  # what the shopper saw is what is ordered, or nothing is
        if not line.available:
            raise OrderError(_("%(title)s is no longer available; remove it from your cart.",
                               title=line.product.tr("title")))
        if line.quantity > line.max_quantity:
            raise OrderError(_("Only %(n)d of %(title)s can be had now.",
                               n=line.max_quantity, title=line.product.tr("title")))
    hold = timedelta(minutes=current_app.config["ORDER_HOLD_MINUTES"])
    try:
        with db.session.begin_nested():
            order = Order(user_id=user_id, idempotency_key=idempotency_key,
                          status="awaiting_payment", currency=priced.currency,
                          subtotal_minor=priced.subtotal_minor, total_minor=priced.total_minor,
                          ship_name=address.name, ship_phone=address.phone,
                          ship_address=address.one_line(), expires_at=utcnow() + hold)
            db.session.add(order)
            db.session.flush()
            for line in sorted(lines, key=lambda l: l.sku.id):  # fixed order: no deadlocks
                try:
                    move_stock(line.sku.id, -line.quantity, reason="order", ref_type="order",
                               ref_id=str(order.id))
                except CatalogError:
                    raise OrderError(_("%(title)s has just sold out.",
                                       title=line.product.tr("title"))) from None
                label = " / ".join(line.product.tr_option(v) for v in line.sku.option_values)
                db.session.add(OrderLine(
                    order_id=order.id, sku_id=line.sku.id, product_id=line.product.id,
                    title=line.product.title, sku_label=label, quantity=line.quantity,
                    unit_price_minor=line.sku.price_minor, total_minor=line.total_minor))
            for position, adjustment in enumerate(priced.adjustments):
                db.session.add(OrderAdjustment(order_id=order.id, position=position,
                                               kind=adjustment.kind, label=adjustment.label,
                                               amount_minor=adjustment.amount_minor))
            _record(order, None, "awaiting_payment", user_id, "placed")
            store = cart.AccountCart(user_id)
            for line in lines:
                store.remove(line.sku.id)
            db.session.flush()
    except IntegrityError:  # the same token placed an order meanwhile (a double tap)
        order = _existing(user_id, idempotency_key)
        if order is None:
            raise
    return order


def _record(order: Order, from_status: str | None, to_status: str, actor_id: int | None,
            reason: str) -> None:
    db.session.add(OrderEvent(order_id=order.id, from_status=from_status, to_status=to_status,
                              actor_id=actor_id, reason=reason))


def transition(order: Order, to_status: str, *, actor_id: int | None, reason: str) -> None:
    """Move the order to `to_status` if the state machine allows it from where it is.
    A guarded UPDATE ... WHERE status = :from makes two racing moves end with one."""
    from_status = order.status
    if to_status not in TRANSITIONS[from_status]:
        raise OrderError(_("This order can not go from %(a)s to %(b)s.", a=from_status, b=to_status))
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


def cancel(order: Order, *, actor_id: int | None, reason: str) -> None:
    """Cancel an unpaid order and return its stock (exactly once: the transition is
    guarded and the ledger reference is unique)."""
    transition(order, "cancelled", actor_id=actor_id, reason=reason)
    for line in order.lines:
        move_stock(line.sku_id, line.quantity, reason="order_cancelled",
                   ref_type="order_cancel", ref_id=str(order.id))


def pay_with_wallet(order: Order, user_id: int) -> None:
    """Pay the whole order from the shopper's wallet: the debit (referenced by the order,
    so it can happen once) and the move to paid stand or fall together."""
    if order.status != "awaiting_payment":
        raise OrderError(_("This order is not awaiting payment."))
    try:
        with db.session.begin_nested():
            wallet.move(user_id, -order.total_minor, reason="order payment",
                        ref_type="order", ref_id=str(order.id), actor_id=user_id)
            transition(order, "paid", actor_id=user_id, reason="wallet")
    except wallet.WalletError as exc:
        raise OrderError(str(exc)) from None


def ship(order: Order, *, carrier: str, tracking_number: str, actor_id: int) -> None:
    transition(order, "shipped", actor_id=actor_id, reason=f"{carrier} {tracking_number}")
    order.carrier, order.tracking_number = carrier.strip(), tracking_number.strip()
    db.session.flush()


def admin_orders(*, status: str = "", q: str = "", since=None, until=None, page: int = 1):
    """Orders for the backoffice, newest first. `q` is a customer's email or an order
    number; since/until are dates in the shop's time zone, until inclusive."""
    from shop.accounts.models import User

    query = select(Order).order_by(Order.id.desc())
    if status in TRANSITIONS:
        query = query.where(Order.status == status)
    if q:
        if q.isdigit() and len(q) > 8:
            query = query.where(Order.id == int(q[8:]))
        else:
            query = query.join(User, User.id == Order.user_id).where(User.email == q.strip().lower())
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
