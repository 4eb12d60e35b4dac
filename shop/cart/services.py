"""Cart rules. A cart is a mapping SKU id -> quantity kept in one of two stores: the
session for visitors, cart_items rows for accounts. Prices are always read from the SKUs;
nothing the client sends besides ids and quantities is used. Services flush, never commit.

Every change of a store is noted on the request (changed()), whoever makes it (the cart
pages, an order placed from the cart, the merge at sign-in): the badge's count in the
session is recounted once at the request's end (shop.cart.views).

"Buy now" does not touch the cart: the one item chosen waits in the session (BuyNow, a
store of one line the checkout reads instead of the cart) until it is bought.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from shop.signals import account_closing, item_added
from shop.cart.models import CartItem
from shop.catalog.models import Product, Sku
from shop.db import db

SESSION_KEY = "cart"          # {"<sku id>": quantity} for visitors
COUNT_KEY = "cart_count"      # units in the cart, for the badge without a query per page
BUY_NOW_KEY = "buy_now"       # {"sku": id, "quantity": n}: the item of "Buy now"
MAX_QUANTITY = 999


class CartError(ValueError):
    pass


def changed(owner: int | None) -> None:
    """Note that this request changed the cart of `owner` (a user id; None: the
    visitor's cart in the session), for the badge's recount at the request's end."""
    if has_request_context():
        g.setdefault("carts_changed", set()).add(owner)


def changes() -> set:
    """The owners whose cart this request changed (taken: the next call gets none)."""
    return g.pop("carts_changed", set()) if has_request_context() else set()


class SessionCart:
    """A visitor's cart, in the signed session cookie."""

    def __init__(self, session):
        self.session = session

    def quantities(self) -> dict[int, int]:
        return {int(k): v for k, v in self.session.get(SESSION_KEY, {}).items()}

    def set(self, sku_id: int, quantity: int) -> None:
        items = dict(self.session.get(SESSION_KEY, {}))
        items[str(sku_id)] = quantity
        self.session[SESSION_KEY] = items
        changed(None)

    def remove(self, sku_id: int) -> None:
        items = dict(self.session.get(SESSION_KEY, {}))
        items.pop(str(sku_id), None)
        self.session[SESSION_KEY] = items
        changed(None)


class AccountCart:
    """A signed-in shopper's cart, in cart_items (one row per SKU, unique)."""

    def __init__(self, user_id: int):
        self.user_id = user_id

    def quantities(self) -> dict[int, int]:
        rows = db.session.execute(
            select(CartItem.sku_id, CartItem.quantity).where(CartItem.user_id == self.user_id)
        )
        return dict(rows.all())

    def set(self, sku_id: int, quantity: int) -> None:
        updated = db.session.execute(
            update(CartItem).where(CartItem.user_id == self.user_id, CartItem.sku_id == sku_id)
            .values(quantity=quantity)
        ).rowcount
        if not updated:
            try:
                with db.session.begin_nested():
                    db.session.add(CartItem(user_id=self.user_id, sku_id=sku_id, quantity=quantity))
            except IntegrityError:  # the same shopper's other tab added it meanwhile
                self.set(sku_id, quantity)
        changed(self.user_id)

    def remove(self, sku_id: int) -> None:
        db.session.execute(
            delete(CartItem).where(CartItem.user_id == self.user_id, CartItem.sku_id == sku_id)
        )
        changed(self.user_id)


class BuyNow:
    """The one item chosen with "Buy now", in the session: read like a cart by lines()
    and the checkout, and forgotten once bought (clear())."""

    def __init__(self, session):
        self.session = session

    def quantities(self) -> dict[int, int]:
        chosen = self.session.get(BUY_NOW_KEY)
        return {chosen["sku"]: chosen["quantity"]} if isinstance(chosen, dict) else {}

    def clear(self) -> None:
        self.session.pop(BUY_NOW_KEY, None)


@dataclass
class CartLine:
    sku: Sku
    quantity: int

    @property
    def product(self) -> Product:
        return self.sku.product

    @property
    def available(self) -> bool:
        return self.sku.active and self.product.on_sale and self.sku.stock > 0

    @property
    def max_quantity(self) -> int:
        return max_quantity(self.sku)

    @property
    def total_minor(self) -> int:
        return self.sku.price_minor * self.quantity


def max_quantity(sku: Sku) -> int:
    """The most units of this SKU one cart may hold: its stock, and the product's limit."""
    limits = [sku.stock, MAX_QUANTITY]
    if sku.product.purchase_limit:
        limits.append(sku.product.purchase_limit)
    return max(0, min(limits))


def lines(store) -> list[CartLine]:
    """The cart's lines with their SKUs, products and images (two queries in all)."""
    quantities = store.quantities()
    if not quantities:
        return []
    skus = db.session.scalars(
        select(Sku).where(Sku.id.in_(quantities))
        .options(joinedload(Sku.product).selectinload(Product.images))
        .order_by(Sku.id)
    ).unique().all()
    return [CartLine(sku, quantities[sku.id]) for sku in skus]


def subtotal_minor(cart_lines: list[CartLine]) -> int:
    return sum(line.total_minor for line in cart_lines if line.available)


def count(store) -> int:
    return sum(store.quantities().values())


def _sku_for_sale(sku_id: int) -> Sku:
    sku = db.session.scalar(select(Sku).where(Sku.id == sku_id).options(joinedload(Sku.product)))
    if sku is None or not sku.active or not sku.product.on_sale:
        raise CartError(_("This item is not for sale."))
    return sku


def _check(sku: Sku, quantity: int) -> None:
    most = max_quantity(sku)
    if most == 0:
        raise CartError(_("This item is sold out."))
    if not 1 <= quantity <= most:
        raise CartError(_("You can have 1 to %(n)d of this item.", n=most))


def add(store, sku_id: int, quantity: int, *, via: int | None = None) -> int:
    """Put `quantity` more units of a SKU in the cart; returns the line's new quantity.
    `via`: the article whose product card it came from, for the item_added listeners."""
    sku = _sku_for_sale(sku_id)
    new = store.quantities().get(sku_id, 0) + quantity
    _check(sku, new)
    store.set(sku_id, new)
    db.session.flush()
    item_added.send(sku, quantity=quantity, via=via)
    return new


def buy_now(session, sku_id: int, quantity: int, *, via: int | None = None) -> None:
    """Choose `quantity` units of a SKU to buy at once, the cart as it is (the same checks
    as adding them; the item_added listeners credit the article of `via` alike)."""
    sku = _sku_for_sale(sku_id)
    _check(sku, quantity)
    session[BUY_NOW_KEY] = {"sku": sku_id, "quantity": quantity}
    item_added.send(sku, quantity=quantity, via=via)


def set_quantity(store, sku_id: int, quantity: int) -> None:
    if sku_id not in store.quantities():
        raise CartError(_("This item is not in your cart."))
    _check(_sku_for_sale(sku_id), quantity)
    store.set(sku_id, quantity)
    db.session.flush()


def remove(store, sku_id: int) -> None:
    store.remove(sku_id)
    db.session.flush()


def merge(visitor: SessionCart, account: AccountCart) -> None:
    """At sign-in: the visitor's lines join the account's, each capped at what may be had;
    lines no longer for sale are dropped. The visitor's cart is then empty."""
    mine = account.quantities()
    theirs = visitor.quantities()
    skus = db.session.scalars(select(Sku).where(Sku.id.in_(theirs))
                              .options(joinedload(Sku.product))).all() if theirs else []
    for sku in sorted(skus, key=lambda s: s.id):
        if not sku.active or not sku.product.on_sale:
            continue
        sku_id, quantity = sku.id, theirs[sku.id]
        most = max_quantity(sku)
        if most:
            account.set(sku_id, min(mine.get(sku_id, 0) + quantity, most))
    visitor.session.pop(SESSION_KEY, None)
    changed(account.user_id)  # also when nothing joined: the count is refreshed at sign-in
    db.session.flush()


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """A closed account's cart is emptied (shop.accounts.closure)."""
    db.session.execute(delete(CartItem).where(CartItem.user_id == user.id)
                       .execution_options(synchronize_session=False))
