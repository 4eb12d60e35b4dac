"""Backoffice rules of promotions: saving coupons (their quantity through the coupon
ledger), full reductions with their tiers, buy-N-get-M offers, limited-time prices and
flash sessions with their items (flash stock by set_aside's rules), the look-ups
the forms check ids with, and the usage figures the lists show (one grouped query per
list, never one per row).

Like services.py these flush and raise PromotionError (FieldError when the refusal
belongs to one field of the form); they never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from shop.catalog.models import Sku
from shop.db import db, ledger_move, utcnow
from shop.orders.models import PAID_STATUSES, Order, OrderAdjustment
from shop.promotions.models import (Coupon, CouponEntry, FlashItem, FlashOrder, FlashSession,
                                    Promotion, PromotionTier, TimedPrice, UserCoupon)
from shop.promotions import rules, services
from shop.promotions.services import PromotionError
from shop.referrals import margin

PAID = sorted(PAID_STATUSES)
PER_PAGE = 30


class FieldError(PromotionError):
    """A refusal that belongs to one field of the form: the view shows it there (422)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- look-ups for the forms -------------------------------------------------------------


def sku_of_product(sku_id: int, product_id: int) -> bool:
    return db.session.scalar(select(Sku.id).where(Sku.id == sku_id,
                                                  Sku.product_id == product_id)) is not None


# --- coupons ----------------------------------------------------------------------------


@dataclass
class CouponFigures:
    claimed: int = 0        # handed out (claimed, welcome gifts, grants)
    used: int = 0           # used on an order now (given back ones are not)
    orders: int = 0         # paid orders that used one
    discount_minor: int = 0  # what it took off those
    gmv_minor: int = 0      # what those orders came to


def coupon_figures(ids: list[int]) -> dict[int, CouponFigures]:
    figures = {i: CouponFigures() for i in ids}
    if not ids:
        return figures
    used = UserCoupon.status == "used"
    paid = and_(used, Order.status.in_(PAID))
    rows = db.session.execute(
        select(UserCoupon.coupon_id, func.count(UserCoupon.id),
               func.sum(case((used, 1), else_=0)), func.sum(case((paid, 1), else_=0)),
               func.sum(case((paid, UserCoupon.discount_minor), else_=0)),
               func.sum(case((paid, Order.total_minor), else_=0)))
        .outerjoin(Order, Order.id == UserCoupon.order_id)
        .where(UserCoupon.coupon_id.in_(ids)).group_by(UserCoupon.coupon_id))
    for coupon_id, claimed, n_used, orders, discount, gmv in rows:
        figures[coupon_id] = CouponFigures(*(int(n or 0) for n in (claimed, n_used, orders,
                                                                   discount, gmv)))
    return figures


def coupons_listing(page: int = 1, per_page: int = PER_PAGE):
    """Coupons, newest first, a page of them: (pagination, [(coupon, figures)])."""
    pagination = db.paginate(select(Coupon).order_by(Coupon.id.desc()), page=page,
                             per_page=per_page, error_out=False, count=True)
    figures = coupon_figures([c.id for c in pagination.items])
    return pagination, [(c, figures[c.id]) for c in pagination.items]


def _restock(coupon_id: int, delta: int, actor_id: int) -> None:
    ledger_move(Coupon.remaining, [Coupon.id == coupon_id], delta,
                lambda after: CouponEntry(coupon_id=coupon_id, action="restock", delta=delta,
                                          remaining_after=after, ref_type="admin",
                                          ref_id=uuid.uuid4().hex, actor_id=actor_id),
                error=PromotionError,
                refused=_("More of this coupon have been handed out meanwhile; try again."),
                duplicate=_("This change was already recorded."))


def save_coupon(coupon: Coupon | None, *, values: dict, total_quantity: int | None,
                currency: str, actor_id: int) -> Coupon:
    """Create or change a coupon. The quantity to hand out (`remaining`) moves through
    the coupon ledger: all of it on creation; on a change of the total by the same
    amount (the total never below what has been handed out); from unlimited to limited
    it is the total less what has been handed out."""
    if coupon is None:
        coupon = Coupon(currency=currency, total_quantity=total_quantity,
                        remaining=0 if total_quantity is not None else None, **values)
        db.session.add(coupon)
        db.session.flush()
        if total_quantity:
            _restock(coupon.id, total_quantity, actor_id)
        db.session.refresh(coupon, ["remaining"])
        return coupon
    # two admins (or an admin and claims) at once: one after the other
    coupon = db.session.get(Coupon, coupon.id, with_for_update=True, populate_existing=True)
    old = coupon.total_quantity
    if total_quantity != old:
        if old is not None:
            handed_out = old - coupon.remaining
        else:
            handed_out = db.session.scalar(select(func.count(UserCoupon.id))
                                           .where(UserCoupon.coupon_id == coupon.id))
        if total_quantity is not None and total_quantity < handed_out:
            raise FieldError("total_quantity",
                             _("%(n)d have been handed out already; the total can not be lower.",
                               n=handed_out))
    for name, value in values.items():
        setattr(coupon, name, value)
    db.session.flush()
    if total_quantity == old:
        return coupon
    if total_quantity is None:  # unlimited from now on
        coupon.total_quantity = coupon.remaining = None
    elif old is None:
        coupon.total_quantity, coupon.remaining = total_quantity, 0
        db.session.flush()
        if total_quantity > handed_out:
            _restock(coupon.id, total_quantity - handed_out, actor_id)
    else:
        change = total_quantity - old
        if change > 0:  # the total first, so remaining stays within it
            coupon.total_quantity = total_quantity
            db.session.flush()
        _restock(coupon.id, change, actor_id)
        coupon.total_quantity = total_quantity
    db.session.flush()
    db.session.refresh(coupon, ["remaining", "total_quantity"])
    return coupon


# --- full reductions and buy N get M ------------------------------------------------------


@dataclass
class OfferFigures:
    orders: int = 0          # paid orders it took something off
    discount_minor: int = 0  # what it took off those
    gmv_minor: int = 0       # what those orders came to


def offer_figures(kinds: tuple[str, ...], ids: list[int]) -> dict[int, OfferFigures]:
    """Figures from the price steps stored with paid orders (ref_id: the offer)."""
    figures = {i: OfferFigures() for i in ids}
    if not ids:
        return figures
    per_order = (select(OrderAdjustment.ref_id.label("ref_id"),
                        OrderAdjustment.order_id.label("order_id"),
                        func.sum(OrderAdjustment.amount_minor).label("off"))
                 .join(Order, Order.id == OrderAdjustment.order_id)
                 .where(OrderAdjustment.kind.in_(kinds), OrderAdjustment.ref_id.in_(ids),
                        Order.status.in_(PAID))
                 .group_by(OrderAdjustment.ref_id, OrderAdjustment.order_id).subquery())
    rows = db.session.execute(
        select(per_order.c.ref_id, func.count(), func.sum(per_order.c.off),
               func.sum(Order.total_minor))
        .join(Order, Order.id == per_order.c.order_id).group_by(per_order.c.ref_id))
    for ref_id, orders, off, gmv in rows:
        figures[ref_id] = OfferFigures(int(orders), -int(off or 0), int(gmv or 0))
    return figures


def promotions_listing(page: int = 1, per_page: int = PER_PAGE):
    """Full reductions and buy-N-get-M offers, newest first: (pagination, [(promotion,
    figures)])."""
    pagination = db.paginate(
        select(Promotion).options(joinedload(Promotion.sku).joinedload(Sku.product))
        .order_by(Promotion.id.desc()), page=page, per_page=per_page, error_out=False, count=True)
    figures = offer_figures(("full_reduction", "buy_get"), [p.id for p in pagination.items])
    return pagination, [(p, figures[p.id]) for p in pagination.items]


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise FieldError("ends_at", _("The end must come after the start."))


def save_promotion(promotion: Promotion | None, *, kind: str, values: dict,
                   tiers: list[dict] | None = None, currency: str) -> Promotion:
    """Create or change a full reduction (with its tiers, replaced as a whole) or a
    buy-N-get-M offer."""
    _check_window(values["starts_at"], values["ends_at"])
    if kind == "full_reduction":
        if not tiers:
            raise FieldError("tiers", _("Give at least one tier."))
        if len({t["threshold"] for t in tiers}) != len(tiers):
            raise FieldError("tiers", _("Each tier needs its own threshold."))
    if promotion is None:
        promotion = Promotion(kind=kind, currency=currency)
        db.session.add(promotion)
    elif promotion.kind != kind:
        raise PromotionError(_("A promotion keeps its kind."))
    for name, value in values.items():
        setattr(promotion, name, value)
    db.session.flush()
    if kind == "full_reduction":
        promotion.tiers.clear()
        db.session.flush()  # the old thresholds go before the new ones come
        promotion.tiers.extend(PromotionTier(**tier) for tier in tiers)
        db.session.flush()
    return promotion


# --- limited-time prices --------------------------------------------------------------------


def timed_prices_listing(page: int = 1, per_page: int = PER_PAGE):
    pagination = db.paginate(select(TimedPrice).options(joinedload(TimedPrice.product),
                                                      joinedload(TimedPrice.sku).joinedload(Sku.product))
                             .order_by(TimedPrice.id.desc()), page=page, per_page=per_page,
                             error_out=False, count=True)
    figures = offer_figures(("timed_price",), [t.id for t in pagination.items])
    return pagination, [(t, figures[t.id]) for t in pagination.items]


def _timed_prices(values: dict) -> list[margin.Priced]:
    """What each SKU in the offer's scope would sell at (its own price when lower)."""
    query = select(Sku).options(joinedload(Sku.product)).order_by(Sku.position, Sku.id)
    if values.get("sku_id") is not None:
        query = query.where(Sku.id == values["sku_id"])
    else:
        query = query.where(Sku.product_id == values["product_id"], Sku.active.is_(True))
    skus = list(db.session.scalars(query))
    return [margin.Priced(sku, rules.timed_unit(values["kind"], values.get("price_minor"),
                                                values.get("percent_bp"), sku.price_minor),
                          margin.label_of(sku) if len(skus) > 1 else "")
            for sku in skus]


def save_timed_price(timed: TimedPrice | None, *, values: dict, actor_id: int | None = None,
                     loss_leader: bool = False) -> TimedPrice:
    """Create or change a limited-time price. Every SKU it covers is checked against its
    floor (shop.referrals.margin): below it, refused unless confirmed as a loss leader."""
    _check_window(values["starts_at"], values["ends_at"])
    if values.get("sku_id") is not None and not sku_of_product(values["sku_id"],
                                                                values["product_id"]):
        raise FieldError("sku_id", _("That SKU is not one of the product's."))
    below = margin.check("timed", timed.id if timed else None, _timed_prices(values),
                         field="price" if values["kind"] == "price" else "percent_bp",
                         confirmed=loss_leader)
    if timed is None:
        timed = TimedPrice()
        db.session.add(timed)
    for name, value in values.items():
        setattr(timed, name, value)
    db.session.flush()
    margin.record("timed", timed.id, below, actor_id=actor_id)
    return timed


# --- flash sales ------------------------------------------------------------------------


@dataclass
class FlashFigures:
    items: int = 0
    allotted: int = 0        # flash stock set aside
    stock_left: int = 0      # not sold yet
    sold: int = 0            # units in orders not given back
    orders: int = 0          # paid orders
    gmv_minor: int = 0       # what those came to
    released: bool = False   # what was left went back to the SKU (an item's figures)


def _flash_sales(group_by, where) -> dict[int, tuple[int, int, int]]:
    """{key: (units sold, paid orders, their total)} over the flash orders (sums are
    numeric on PostgreSQL: made ints here)."""
    paid = Order.status.in_(PAID)
    rows = db.session.execute(
        select(group_by, func.sum(case((FlashOrder.returned.is_(False), FlashOrder.quantity),
                                       else_=0)),
               func.sum(case((paid, 1), else_=0)), func.sum(case((paid, Order.total_minor),
                                                                 else_=0)))
        .select_from(FlashOrder).join(FlashItem, FlashItem.id == FlashOrder.item_id)
        .join(Order, Order.id == FlashOrder.order_id).where(where).group_by(group_by))
    return {key: (int(sold or 0), int(orders or 0), int(gmv or 0)) for key, sold, orders, gmv in rows}


def flash_sessions_listing(page: int = 1, per_page: int = PER_PAGE):
    """Sessions, latest start first, with their items' figures added up."""
    pagination = db.paginate(select(FlashSession).order_by(FlashSession.starts_at.desc(),
                                                           FlashSession.id.desc()),
                             page=page, per_page=per_page, error_out=False, count=True)
    ids = [s.id for s in pagination.items]
    figures = {i: FlashFigures() for i in ids}
    if ids:
        for session_id, n, allotted, left in db.session.execute(
                select(FlashItem.session_id, func.count(FlashItem.id), func.sum(FlashItem.allotted),
                       func.sum(FlashItem.stock_left))
                .where(FlashItem.session_id.in_(ids)).group_by(FlashItem.session_id)):
            figures[session_id] = FlashFigures(int(n), int(allotted or 0), int(left or 0))
        for session_id, (sold, orders, gmv) in _flash_sales(
                FlashItem.session_id, FlashItem.session_id.in_(ids)).items():
            f = figures[session_id]
            f.sold, f.orders, f.gmv_minor = sold, orders, gmv
    return pagination, [(s, figures[s.id]) for s in pagination.items]


def flash_items(session_id: int) -> list[tuple[FlashItem, FlashFigures]]:
    """The session's items (with SKU and product) and each one's figures."""
    items = list(db.session.scalars(
        select(FlashItem).options(joinedload(FlashItem.sku).joinedload(Sku.product))
        .where(FlashItem.session_id == session_id).order_by(FlashItem.id)).unique())
    sales = _flash_sales(FlashItem.id, FlashItem.session_id == session_id)
    rows = []
    for item in items:
        sold, orders, gmv = sales.get(item.id, (0, 0, 0))
        rows.append((item, FlashFigures(1, item.allotted, item.stock_left, sold, orders, gmv,
                                        item.released)))
    return rows


def save_flash_session(session: FlashSession | None, *, values: dict) -> FlashSession:
    _check_window(values["starts_at"], values["ends_at"])
    if session is None:
        session = FlashSession()
        db.session.add(session)
    for name, value in values.items():
        setattr(session, name, value)
    db.session.flush()
    return session


def add_flash_item(session: FlashSession, *, sku_id: int, price_minor: int, allotted: int,
                   per_user_limit: int, currency: str, actor_id: int,
                   loss_leader: bool = False) -> FlashItem:
    """A SKU joins the session at its flash price, with `allotted` units set aside from
    its stock. A SKU already in the session is refused; so is more than it has, and a
    price below the SKU's floor not confirmed as a loss leader (shop.referrals.margin)."""
    if session.ends_at <= utcnow():
        raise PromotionError(_("This session has ended; add items to one to come."))
    sku = db.session.get(Sku, sku_id)
    if sku is None:
        raise FieldError("sku_id", _("No SKU has this number."))
    below = margin.check("flash", None, [margin.Priced(sku, price_minor)], field="price",
                         confirmed=loss_leader)
    taken = select(FlashItem.id).where(FlashItem.session_id == session.id,
                                       FlashItem.sku_id == sku_id)
    if db.session.scalar(taken) is not None:
        raise FieldError("sku_id", _("This SKU is in the session already."))
    try:
        with db.session.begin_nested():
            item = FlashItem(session_id=session.id, sku_id=sku_id, currency=currency,
                             price_minor=price_minor, per_user_limit=per_user_limit,
                             allotted=0, stock_left=0)
            db.session.add(item)
            db.session.flush()
            services.set_aside(item, allotted, actor_id=actor_id)
    except IntegrityError:  # the same SKU added by another admin meanwhile
        raise FieldError("sku_id", _("This SKU is in the session already.")) from None
    margin.record("flash", item.id, below, actor_id=actor_id)
    return item


def change_flash_item(item: FlashItem, *, price_minor: int, per_user_limit: int, allotted: int,
                      actor_id: int, loss_leader: bool = False) -> FlashItem:
    """A new flash price, limit or flash stock (set aside from, or put back to, the SKU;
    never below what is sold), the price checked against the SKU's floor as when the
    item was added. All or nothing."""
    below = margin.check("flash", item.id, [margin.Priced(item.sku, price_minor)], field="price",
                         confirmed=loss_leader)
    with db.session.begin_nested():
        services.set_aside(item, allotted, actor_id=actor_id)  # locks the item's row first
        item.price_minor, item.per_user_limit = price_minor, per_user_limit
        db.session.flush()
        margin.record("flash", item.id, below, actor_id=actor_id)
    return item
