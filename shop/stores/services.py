"""Store rules. Services flush and raise StoreError (or PickupError, with the HTTP status
the refusal is shown with); they never commit.

- Which stores a shopper may choose: active stores, and only when every product of the
  order may be picked up (Product.pickup_enabled; a gift a promotion adds does not count).
  Nearest first when the browser gave its position (great-circle distance), otherwise
  by city, the shopper's own city first.
- A pickup order pays no shipping (the price step reads the "pickup" option), keeps
  the store's name and address as they were, and gets its code when it is paid: ten
  characters of the referral-code alphabet (31**10, about 8 * 10**14 codes), unique.
- Verifying (核销) a code: the staff member must be bound to the store (admins may act
  at every store); the code must exist, belong to that store, not be used, and its
  order must be paid (or partly refunded), not held back (a group still filling) and
  not refunded. The order row is locked first (LOCK ORDER of shop.orders), then the
  code is marked used by a guarded UPDATE, so of any number of simultaneous attempts
  exactly one succeeds. The order moves to completed with an event "picked up".
  Failed look-ups (no such code, another store's code: PickupError.miss) are what the
  views rate-limit, per staff member and store; a code of the store is never refused.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import CODE_ALPHABET, User
from shop.catalog.models import Product
from shop.db import db, utcnow
from shop.orders import HOLD_LABELS, STATUS_LABELS, lifecycle
from shop.orders import services as orders
from shop.orders.models import Order
from shop.stores import PICKUP_REASON
from shop.stores.models import PickupCode, Store, StoreStaff

CODE_LENGTH = 10
PICKUP_STATUSES = ("paid", "partly_refunded")  # paid, and not (wholly) refunded


class StoreError(ValueError):
    pass


class PickupError(StoreError):
    """A refused verification; `status` is the HTTP status it is shown with (404: no
    such code, 403: not this store's or not this staff member's, 409: not now). `miss`:
    the code is not one of this store's (none such, or another store's): what guessing
    looks like, and the only refusal the views' guess limit counts."""

    def __init__(self, message: str, status: int = 409, *, miss: bool = False):
        super().__init__(message)
        self.status = status
        self.miss = miss


# --- choosing a store ------------------------------------------------------------------


@dataclass(frozen=True)
class StoreChoice:
    store: Store
    distance_m: int | None = None  # from the shopper, when the browser told us where


def pickup_allowed(product_ids: list[int]) -> bool:
    """Every one of these products may be picked up (and there is at least one)."""
    ids = set(product_ids)
    if not ids:
        return False
    allowed = db.session.scalars(select(Product.id).where(
        Product.id.in_(ids), Product.pickup_enabled.is_(True))).all()
    return len(allowed) == len(ids)


def active_stores() -> list[Store]:
    return list(db.session.scalars(select(Store).where(Store.active.is_(True))
                                   .order_by(Store.city, Store.name, Store.id)))


def distance_m(lat_e6: int, lng_e6: int, store: Store) -> int | None:
    """Great-circle distance in metres (haversine, mean Earth radius): geometry, not
    money, so floating point is fine here."""
    if store.latitude_e6 is None or store.longitude_e6 is None:
        return None
    lat1, lng1 = math.radians(lat_e6 / 1e6), math.radians(lng_e6 / 1e6)
    lat2, lng2 = math.radians(store.latitude_e6 / 1e6), math.radians(store.longitude_e6 / 1e6)
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
    return round(2 * 6_371_008 * math.asin(math.sqrt(h)))


def store_choices(product_ids: list[int], *, city: str = "",
                  near: tuple[int, int] | None = None) -> list[StoreChoice]:
    """The stores the shopper may pick these products up at: [] when one of them can
    not be picked up. With `near` (lat, lng in microdegrees), nearest first (stores
    without coordinates last); otherwise the shopper's city first, then by city."""
    if not pickup_allowed(product_ids):
        return []
    stores = active_stores()
    if near is not None:
        choices = [StoreChoice(store, distance_m(*near, store)) for store in stores]
        return sorted(choices, key=lambda c: (c.distance_m is None, c.distance_m or 0))
    city = city.strip()
    mine = [s for s in stores if city and (s.city.startswith(city) or city.startswith(s.city))]
    return [StoreChoice(s) for s in mine + [s for s in stores if s not in mine]]


def _check_pickup(order: Order, *, placement, lines: list, **_kwargs) -> None:
    """Placed: a pickup order's store exists and still takes pickups, and every product
    bought may be picked up (a gift the shop adds comes along whatever it is); the order
    keeps the store, and its name and address as they are now."""
    if not isinstance(placement.destination, orders.PickupPoint):
        return
    store = db.session.get(Store, placement.destination.store_id)
    if store is None or not store.active:
        raise orders.OrderError(_("This store does not take pickups; choose another."))
    gifts = {gift.sku_id for gift in placement.priced.gifts}
    bought = {line.product_id for line in lines
              if not (line.sku_id in gifts and line.unit_price_minor == 0)}
    refused = db.session.scalar(select(Product).where(
        Product.id.in_(bought), Product.pickup_enabled.is_(False)).limit(1))
    if refused is not None:
        raise orders.OrderError(_("%(title)s can not be picked up at a store; choose delivery.",
                                  title=refused.tr("title")))
    order.pickup_store_id, order.ship_address = store.id, store.one_line()
    db.session.flush()


# --- the pickup code --------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What staff typed or scanned, as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:32]


def _issue_code(order: Order) -> None:
    """A pickup order just paid gets its code (once: the order id is the key)."""
    if not order.is_pickup or db.session.get(PickupCode, order.id) is not None:
        return
    for _attempt in range(5):  # a code already taken (1 in 10**14 per code issued): again
        try:
            with db.session.begin_nested():
                db.session.add(PickupCode(order_id=order.id, store_id=order.pickup_store_id,
                                          code=new_code()))
            return
        except IntegrityError:
            continue
    raise orders.OrderError(_("Something went wrong on our side. Please try again."))


def pickup_of(order: Order) -> PickupCode | None:
    """The order's code, once it is paid (on the order page, which only its owner sees)."""
    if not order.is_pickup:
        return None
    return db.session.get(PickupCode, order.id)


def pickup_store(order: Order) -> Store | None:
    return db.session.get(Store, order.pickup_store_id) if order.is_pickup else None


@dataclass(frozen=True)
class Pickup:
    store: Store
    code: PickupCode | None


def _page_part(order: Order) -> Pickup | None:
    """What the order pages show of a pickup: the store, and the code once paid."""
    return Pickup(pickup_store(order), pickup_of(order)) if order.is_pickup else None


lifecycle.join("pickup", placed=_check_pickup, paid=_issue_code)
orders.PAGE_PARTS["pickup"] = _page_part


def staff_store_ids(user_id: int) -> list[int]:
    """The stores a staff member is bound to: the orders backoffice shows them the orders
    collected there, and only those (shop.orders.services.order_scope)."""
    return list(db.session.scalars(select(StoreStaff.store_id).where(StoreStaff.user_id == user_id)))


orders.STAFF_STORES["store_ids"] = staff_store_ids


# --- verification (核销) ----------------------------------------------------------------


def stores_of_staff(user: User) -> list[Store]:
    """The stores this user verifies pickups at: their own, or every one for an admin.
    A store that stopped taking pickups still hands over the orders already paid."""
    query = select(Store).order_by(Store.active.desc(), Store.city, Store.name, Store.id)
    if user.role != "admin":
        query = query.join(StoreStaff, StoreStaff.store_id == Store.id).where(
            StoreStaff.user_id == user.id)
    return list(db.session.scalars(query))


def _check_staff(user: User, store_id: int) -> Store:
    store = next((s for s in stores_of_staff(user) if s.id == store_id), None)
    if store is None:
        raise PickupError(_("You do not verify pickups at this store."), 403)
    return store


def look_up(user: User, store_id: int, text: str) -> tuple[PickupCode, Order]:
    """The code's pickup and order, if this staff member may hand it over here now."""
    _check_staff(user, store_id)
    code = normalise_code(text)
    pickup = db.session.scalar(select(PickupCode).where(PickupCode.code == code)) if code else None
    if pickup is None:
        raise PickupError(_("No order has this pickup code. Check it and try again."), 404,
                          miss=True)
    if pickup.store_id != store_id:
        raise PickupError(_("This code is for another store: %(store)s.",
                            store=pickup.store.name), 403, miss=True)
    order = db.session.get(Order, pickup.order_id)
    _check_order(pickup, order)
    return pickup, order


def _check_order(pickup: PickupCode, order: Order) -> None:
    if pickup.picked_up_at is not None:
        raise PickupError(_("This code was already used: the order was picked up on %(time)s.",
                            time=format_datetime(pickup.picked_up_at, "short")))
    if order.status == "completed":  # picked up between reading the code and the order
        raise PickupError(_("This code was just used."))
    if order.status in ("refunded", "refund_requested"):
        raise PickupError(_("This order is refunded or awaiting a refund; it can not be "
                            "picked up."))
    if order.status not in PICKUP_STATUSES:
        raise PickupError(_("This order can not be picked up: it is %(status)s.",
                            status=str(STATUS_LABELS[order.status]).lower()))
    if order.hold is not None:
        raise PickupError(_("This order can not be picked up yet: %(why)s.",
                            why=HOLD_LABELS.get(order.hold, order.hold)))


def verify(user: User, store_id: int, text: str) -> Order:
    """Hand the order over: the code is used, the order completed. Exactly one of any
    number of simultaneous attempts succeeds; the others get PickupError (409)."""
    pickup, order = look_up(user, store_id, text)
    order = db.session.get(Order, order.id, with_for_update=True, populate_existing=True)
    db.session.refresh(pickup)
    _check_order(pickup, order)
    used = db.session.execute(
        update(PickupCode).where(PickupCode.order_id == order.id,
                                 PickupCode.picked_up_at.is_(None))
        .values(picked_up_at=utcnow(), picked_up_by_id=user.id)
        .execution_options(synchronize_session=False)).rowcount
    if not used:
        raise PickupError(_("This code was just used."))
    try:
        orders.transition(order, "completed", actor_id=user.id, reason=PICKUP_REASON)
    except orders.OrderError as exc:
        raise PickupError(str(exc)) from None
    db.session.refresh(pickup)
    return order


# --- the backoffice: stores and their staff ---------------------------------------------


def all_stores() -> list[Store]:
    return list(db.session.scalars(select(Store).order_by(Store.active.desc(), Store.city,
                                                          Store.name, Store.id)))


def save_store(store: Store | None, **values) -> Store:
    """Create or edit a store; values are the Store columns an admin sets."""
    if store is None:
        store = Store()
        db.session.add(store)
    for key, value in values.items():
        setattr(store, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return store


def staff_of(store: Store) -> list[User]:
    return list(db.session.scalars(
        select(User).join(StoreStaff, StoreStaff.user_id == User.id)
        .where(StoreStaff.store_id == store.id).order_by(User.nickname, User.id)))


def add_staff(store: Store, user: User) -> User:
    """Bind an account (picked by name: accounts made by phone have no email) to the
    store. A shopper's account becomes store staff; an editor's is refused (one role per
    account), an admin needs no binding."""
    if user.role == "admin":
        raise StoreError(_("Admins verify pickups at every store already."))
    if user.role == "editor":
        raise StoreError(_("This account is an editor's; use another account for store work."))
    if db.session.scalar(select(StoreStaff.id).where(StoreStaff.store_id == store.id,
                                                     StoreStaff.user_id == user.id)):
        raise StoreError(_("%(name)s already works at this store.", name=user.nickname))
    user.role = "staff"
    db.session.add(StoreStaff(store_id=store.id, user_id=user.id))
    db.session.flush()
    return user


def remove_staff(store: Store, user_id: int) -> User:
    """Unbind the account from the store; with no store left it is a shopper's again (the
    staff role opens the backoffice's orders)."""
    binding = db.session.scalar(select(StoreStaff).where(StoreStaff.store_id == store.id,
                                                         StoreStaff.user_id == user_id))
    if binding is None:
        raise StoreError(_("This person does not work at this store."))
    db.session.delete(binding)
    db.session.flush()
    user = db.session.get(User, user_id)
    if user.role == "staff" and db.session.scalar(
            select(StoreStaff.id).where(StoreStaff.user_id == user_id).limit(1)) is None:
        user.role = "shopper"
        db.session.flush()
    return user
