"""One way to place an order, whatever the channel: the cart (checkout), a group buy, a
bargain, a flash sale or the points mall. Each channel's service checks what it offers
(read-only, for a clear message), describes the purchase as a Placement, and calls
place(), which then, in one savepoint:

  1. validates the lines (on sale, in stock, within the limits) and the form token;
  2. prices them: the pipeline of shop.pricing for the channel, or the channel's own
     final price (a bargain, a redemption);
  3. stores the snapshots: the order row, its lines with each one's list price, share of
     every adjustment and what was paid for it, the adjustments;
  4. runs the participants of "placed" in the declared lock order (shop.orders.lifecycle:
     coupons, points, who earns, the article, the group seat, the flash or mall units...);
     a participant refuses with OrderError and nothing is placed;
  5. claims the stock through the stock ledger, lowest SKU id first (the lock order's
     last rank), and writes the "placed" event;
  6. with nothing to pay (points cover it all), marks the order paid at once.

The form's one-use token (`key`) makes a double tap one order: a second request with the
same token gets the order the first placed, also when both race (a unique key decides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop import pricing
from shop.cart import services as cart
from shop.catalog.models import Sku
from shop.catalog.services import CatalogError, move_stock
from shop.db import db, utcnow
from shop.orders import lifecycle
from shop.orders.models import Order, OrderAdjustment, OrderLine, OrderLineAdjustment
from shop.orders.services import (Address, OrderError, PickupPoint, mark_paid, order_by_key,
                                  record_event)
from shop.signals import order_placed, send_after_commit


@dataclass
class Placement:
    """What a channel asks to place. `lines`: (sku, quantity, unit price) at the channel's
    price; `channel`: the pricing channel ("cart", "group", "flash"), or None when the
    lines' price is final (a bargain, a redemption: no step applies); `claims`: what the
    channel's participant takes, keyed by participant ({"group": seat, "flash": item,
    "mall": (item, points), "bargain": bargain}); `options`: the shopper's choices
    (coupon, points), never amounts; `context`: what the price steps need (the flash
    session)."""

    user_id: int
    key: str
    destination: Address | PickupPoint | None  # None: a quote, shipping by the options
    lines: list[tuple[Sku, int, int]]
    kind: str = "standard"
    channel: str | None = "cart"
    options: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)
    hold: str | None = None          # keeps a paid order from shipping (a group filling)
    pay_by: datetime | None = None   # the latest time to pay, if sooner than the hold
    take_stock: bool = True          # False: the units were set aside (a flash sale's)
    from_cart: bool = False          # the lines leave the shopper's cart once placed
    buy_now: bool = False            # from_cart's checks, but one item chosen apart: the cart stays
    priced: pricing.Pricing | None = None  # filled in by place()


def price(placement: Placement) -> pricing.Pricing:
    """The price of a placement as checkout shows it (the same call place() makes)."""
    lines = [(sku.id, quantity, unit) for sku, quantity, unit in placement.lines]
    if placement.channel is None:
        return pricing.Pricing(current_app.config["SHOP_CURRENCY"],
                               [pricing.PricedLine(*line) for line in lines])
    options = dict(placement.options)
    if isinstance(placement.destination, PickupPoint):  # shipping follows where it goes,
        options.update(pickup=True, province="")        # whatever the options said
    elif placement.destination is not None:
        options.update(pickup=False, province=placement.destination.province_code)
    return pricing.price(lines, placement.user_id, options, channel=placement.channel,
                         context=placement.context)


def cart_quote(user_id: int, options: dict | None = None,
               destination: Address | PickupPoint | None = None,
               buy_now: cart.BuyNow | None = None) -> tuple[list[cart.CartLine], Placement]:
    """The shopper's cart lines (or the one item of `buy_now`) and the placement of those
    that can be bought, priced as checkout shows it with the shopper's choices (options:
    {"use_points": True, "coupon": "7", "pickup": False, "province": "33"}: a division code)."""
    lines = cart.lines(buy_now or cart.AccountCart(user_id))
    placement = Placement(user_id=user_id, key="", destination=destination,
                          lines=[(l.sku, l.quantity, l.sku.price_minor) for l in lines
                                 if l.available],
                          options=dict(options or {}), from_cart=True,
                          buy_now=buy_now is not None)
    placement.priced = price(placement)
    return lines, placement


def place_from_cart(user_id: int, destination: Address | PickupPoint, key: str,
                    options: dict | None = None, buy_now: cart.BuyNow | None = None) -> Order:
    """Checkout: the cart (or the item of `buy_now`) becomes an order at the price
    cart_quote() gives, or nothing is ordered when a line the shopper saw is no longer
    to be had."""
    lines, placement = cart_quote(user_id, options, destination, buy_now)
    placement.key = key
    if (order := _placed_before(placement)) is not None:
        return order
    for line in lines:  # what the shopper saw is what is ordered, or nothing is
        if not line.available:
            raise OrderError(_("%(title)s is no longer available; remove it from your cart.",
                               title=line.product.tr("title")))
    return place(placement)


def place(placement: Placement) -> Order:
    """Place the order described (see the module's steps); OrderError when it can not be."""
    if (order := _placed_before(placement)) is not None:
        return order
    _validate(placement)
    placement.priced = priced = price(placement)
    if priced.refused:
        raise OrderError(priced.refused[0])
    try:
        with db.session.begin_nested():
            order, lines = _store(placement, priced)
            lifecycle.run("placed", order, placement=placement, lines=lines)
            _take_stock(order, placement, priced)
            record_event(order, None, "awaiting_payment", placement.user_id, "placed")
            if placement.from_cart and not placement.buy_now:
                store = cart.AccountCart(placement.user_id)
                for sku, _quantity, _unit in placement.lines:
                    store.remove(sku.id)
            db.session.flush()
            if order.total_minor == 0:  # points cover it all (a deduction, a redemption)
                mark_paid(order, actor_id=placement.user_id, reason="nothing to pay")
    except IntegrityError:  # the same token placed an order meanwhile (a double tap)
        if (order := _placed_before(placement)) is None:
            raise
        return order
    send_after_commit(order_placed, order.id)
    return order


def _placed_before(placement: Placement) -> Order | None:
    order = order_by_key(placement.user_id, placement.key)
    if order is not None and order.kind != placement.kind:
        raise OrderError(_("This form was already used; reload the page."))
    return order


def _validate(placement: Placement) -> None:
    """What the shopper saw is what is ordered, or nothing is: every line on sale and,
    from the cart, within its stock and the product's limit (a channel checks its own
    quantities; the stock ledger has the last word)."""
    if not placement.lines:
        raise OrderError(_("Your cart is empty."))
    for sku, quantity, _unit in placement.lines:
        title = sku.product.tr("title")
        if not placement.from_cart:
            if not (sku.active and sku.product.on_sale):
                raise OrderError(_("This item is no longer for sale."))
            continue
        if not (sku.active and sku.product.on_sale and sku.stock > 0):
            raise OrderError(_("%(title)s is no longer available; remove it from your cart.",
                               title=title))
        if quantity > cart.max_quantity(sku):
            raise OrderError(_("Only %(n)d of %(title)s can be had now.",
                               n=cart.max_quantity(sku), title=title))


def _store(placement: Placement, priced: pricing.Pricing) -> tuple[Order, list[OrderLine]]:
    """The order row, its adjustments and its lines with their shares (snapshots)."""
    expires_at = utcnow() + timedelta(minutes=current_app.config["ORDER_HOLD_MINUTES"])
    if placement.pay_by is not None:
        expires_at = min(expires_at, placement.pay_by)
    destination = placement.destination
    pickup = isinstance(destination, PickupPoint)
    # a pickup's store and address are the pickup participant's to check and write
    order = Order(user_id=placement.user_id, idempotency_key=placement.key, kind=placement.kind,
                  hold=placement.hold, status="awaiting_payment", currency=priced.currency,
                  subtotal_minor=priced.subtotal_minor, total_minor=priced.total_minor,
                  ship_name=destination.name, ship_phone=destination.phone,
                  ship_address="" if pickup else destination.one_line(), expires_at=expires_at)
    db.session.add(order)
    db.session.flush()
    adjustments = [OrderAdjustment(order_id=order.id, position=position, kind=a.kind,
                                   label=a.label, detail=a.detail[:80], ref_id=a.ref_id,
                                   amount_minor=a.amount_minor)
                   for position, a in enumerate(priced.adjustments)]
    db.session.add_all(adjustments)
    skus = {sku.id: sku for sku, _q, _u in placement.lines}
    skus.update({sku.id: sku for sku in db.session.scalars(select(Sku).where(
        Sku.id.in_({g.sku_id for g in priced.gifts} - set(skus))))} if priced.gifts else {})
    shares = priced.line_shares()
    lines = []
    for index, priced_line in enumerate(priced.all_lines):
        sku = skus[priced_line.sku_id]
        mine = [row[index] for row in shares]
        discount = -sum(part for a, part in zip(priced.adjustments, mine) if a.kind != "shipping")
        shipping = sum(part for a, part in zip(priced.adjustments, mine) if a.kind == "shipping")
        lines.append(OrderLine(
            order_id=order.id, sku_id=sku.id, product_id=sku.product_id, title=sku.product.title,
            sku_label=" / ".join(sku.product.tr_option(v) for v in sku.option_values),
            quantity=priced_line.quantity, unit_price_minor=priced_line.unit_price_minor,
            total_minor=priced_line.total_minor, discount_minor=discount,
            shipping_minor=shipping, paid_minor=priced_line.total_minor - discount + shipping))
    if sum(line.paid_minor for line in lines) != order.total_minor:
        raise AssertionError("the lines do not add up to the order's total")  # a pricing bug
    db.session.add_all(lines)
    db.session.flush()
    db.session.add_all(
        OrderLineAdjustment(order_line_id=line.id, adjustment_id=adjustment.id, amount_minor=part)
        for adjustment, row in zip(adjustments, shares)
        for line, part in zip(lines, row) if part)
    db.session.flush()
    return order, lines


def _take_stock(order: Order, placement: Placement, priced: pricing.Pricing) -> None:
    """Claim the units through the stock ledger, lowest SKU id first (LOCK ORDER: last):
    the lines unless set aside before (a flash sale's), and the gifts; a SKU bought and
    given is claimed once."""
    wanted: dict[int, int] = {}
    if placement.take_stock:
        for sku, quantity, _unit in placement.lines:
            wanted[sku.id] = wanted.get(sku.id, 0) + quantity
    for gift in priced.gifts:
        wanted[gift.sku_id] = wanted.get(gift.sku_id, 0) + gift.quantity
    for sku_id in sorted(wanted):
        try:
            move_stock(sku_id, -wanted[sku_id], reason="order", ref_type="order",
                       ref_id=str(order.id))
        except CatalogError:
            title = db.session.get(Sku, sku_id).product.tr("title")
            raise OrderError(_("%(title)s has just sold out.", title=title)) from None
