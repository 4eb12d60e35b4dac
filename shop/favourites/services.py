"""Favourites and browsing history. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, undefer

from shop.catalog.models import Product
from shop.catalog.services import on_sale
from shop.db import db
from shop.favourites.models import Favourite
from shop.signals import account_closing

HISTORY_COOKIE = "seen"
HISTORY_SIZE = 30
LIST_SIZE = 100


class FavouriteError(ValueError):
    pass


def is_favourite(user_id: int, product_id: int) -> bool:
    return db.session.scalar(select(Favourite.id).where(
        Favourite.user_id == user_id, Favourite.product_id == product_id)) is not None


def toggle(user_id: int, product_id: int) -> bool:
    """Save the product, or forget it if it was saved: whether it is saved now. Only a
    product on sale can be saved. A DELETE first, then an INSERT the unique key guards:
    two taps at once end with the product saved once."""
    removed = db.session.execute(delete(Favourite).where(
        Favourite.user_id == user_id, Favourite.product_id == product_id)
        .execution_options(synchronize_session=False)).rowcount
    if removed:
        return False
    if db.session.scalar(on_sale().with_only_columns(Product.id).where(Product.id == product_id)) is None:
        raise LookupError(product_id)
    try:
        with db.session.begin_nested():
            db.session.add(Favourite(user_id=user_id, product_id=product_id))
    except IntegrityError:  # saved meanwhile by the other tap
        pass
    return True


def remove(user_id: int, product_id: int) -> bool:
    """Forget a saved product; False when it was not saved."""
    return bool(db.session.execute(delete(Favourite).where(
        Favourite.user_id == user_id, Favourite.product_id == product_id)
        .execution_options(synchronize_session=False)).rowcount)


@dataclass(frozen=True)
class Listed:
    """A product as the favourites and history pages show it."""

    product: Product
    price_minor: int  # its card's price (Product.lead_price_minor)
    sold_out: bool  # no option in stock, or no longer on sale
    on_sale: bool


def _listed(product: Product) -> Listed:
    in_stock = any(s.active and s.stock > 0 for s in product.skus)
    return Listed(product, product.lead_price_minor, not in_stock or not product.on_sale, product.on_sale)


def favourites_of(user_id: int) -> list[Listed]:
    """The shopper's saved products, the latest first, with their price now and whether
    they are sold out (three queries: favourites with products, SKUs, images)."""
    products = db.session.scalars(
        select(Product).options(undefer(Product.lead_price_minor))
        .join(Favourite, Favourite.product_id == Product.id)
        .where(Favourite.user_id == user_id)
        .options(selectinload(Product.skus), selectinload(Product.images))
        .order_by(Favourite.created_at.desc(), Favourite.id.desc()).limit(LIST_SIZE))
    return [_listed(p) for p in products]


# --- browsing history (a signed cookie; see the package's docstring) --------------------


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt="shop.favourites.seen")


def seen(raw: str | None, owner: str) -> list[int]:
    """The product ids of the history cookie's value, newest first; none when it is not
    the shop's, or was kept for another visitor of the browser (`owner`: the session's
    visitor id, which signing out changes). One kept before the visitor had an id (the
    analytics give it on the first page view's beacon) is theirs too."""
    if not raw:
        return []
    try:
        kept_for, ids = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return []
    if kept_for not in (owner, "") or not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and 0 < i < 2**31][:HISTORY_SIZE]


def viewed(ids: list[int], product_id: int) -> list[int] | None:
    """The history after viewing the product (first, at most HISTORY_SIZE kept), or None
    when it is first already (nothing to write)."""
    if ids[:1] == [product_id]:
        return None
    return [product_id, *(i for i in ids if i != product_id)][:HISTORY_SIZE]


def cookie_value(ids: list[int], owner: str) -> str:
    return _serializer().dumps([owner, ids])


def history(ids: list[int]) -> list[Listed]:
    """The viewed products still on sale, newest first (three queries)."""
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(
        on_sale().where(Product.id.in_(ids))
        .options(selectinload(Product.skus), selectinload(Product.images)))}
    return [_listed(found[i]) for i in ids if i in found]


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """A closed account's favourites go (shop.accounts.closure)."""
    db.session.execute(delete(Favourite).where(Favourite.user_id == user.id)
                       .execution_options(synchronize_session=False))
