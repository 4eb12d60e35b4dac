"""Shared steps of the promotions tests: promotion rows built with the models (inside an
app context, flushed, not committed: the caller commits or rolls back), a cart filled,
the balances a refused action must leave as they were."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from shop.cart.models import CartItem
from shop.catalog.models import Sku
from shop.db import db, utcnow
from shop.promotions import services
from shop.promotions.models import (Coupon, CouponEntry, FlashBuyer, FlashItem, FlashSession,
                                    Promotion, PromotionTier, TimedPrice, UserCoupon)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", "Accept-Language": "en"}


def _add(row):
    db.session.add(row)
    db.session.flush()
    return row


def coupon(**values) -> Coupon:
    """A coupon, by default 5.00 off anything, valid for a month, claimable once each."""
    now = utcnow()
    values.setdefault("kind", "amount")
    if values["kind"] == "amount":
        values.setdefault("amount_minor", 500)
    if "valid_days" not in values:
        values.setdefault("valid_until", now + 30 * DAY)
    values = {"name": f"券{uuid.uuid4().hex[:6]}", "currency": "CNY", "valid_from": now - DAY,
              "scope": "all", "scope_ids": [], **values}
    if values.get("total_quantity") is not None:
        values.setdefault("remaining", values["total_quantity"])
    made = _add(Coupon(**values))
    if made.remaining:  # the quantity to hand out opens the coupon's ledger
        _add(CouponEntry(coupon_id=made.id, action="restock", delta=made.remaining,
                         remaining_after=made.remaining, ref_type="opening", ref_id=str(made.id)))
    return made


def hold(user_id: int, made: Coupon, *, expires_at=None, starts_at=None,
         status: str = "available", order_id: int | None = None) -> UserCoupon:
    """The coupon in the shopper's hands, as an admin's grant leaves it (no claim rules)."""
    number = (db.session.scalar(select(func.max(UserCoupon.claim_no)).where(
        UserCoupon.coupon_id == made.id, UserCoupon.user_id == user_id)) or 0) + 1
    now = utcnow()
    return _add(UserCoupon(coupon_id=made.id, user_id=user_id, claim_no=number, source="grant",
                           status=status, order_id=order_id,
                           starts_at=starts_at or now - HOUR,
                           expires_at=expires_at or made.valid_until or now + 7 * DAY))


def reduction(tiers, **values) -> Promotion:
    """A full reduction on now; tiers: dicts of PromotionTier columns."""
    now = utcnow()
    values = {"kind": "full_reduction", "name": f"满减{uuid.uuid4().hex[:6]}", "currency": "CNY",
              "starts_at": now - HOUR, "ends_at": now + DAY, "basis": "amount", "scope": "all",
              "scope_ids": [], **values}
    made = Promotion(**values)
    made.tiers = [PromotionTier(**tier) for tier in tiers]
    return _add(made)


def buy_get(sku_id: int, buy_n: int, get_m: int, **values) -> Promotion:
    now = utcnow()
    values = {"kind": "buy_get", "name": f"买{buy_n}送{get_m}", "currency": "CNY",
              "starts_at": now - HOUR, "ends_at": now + DAY, "sku_id": sku_id, "buy_n": buy_n,
              "get_m": get_m, **values}
    return _add(Promotion(**values))


def timed(product_id: int, **values) -> TimedPrice:
    """A limited-time price on now: by default 20 % off every SKU of the product."""
    now = utcnow()
    values.setdefault("kind", "percent")
    if values["kind"] == "percent":
        values.setdefault("percent_bp", 2000)
    values = {"name": f"限时{uuid.uuid4().hex[:6]}", "product_id": product_id,
              "starts_at": now - HOUR, "ends_at": now + DAY, **values}
    return _add(TimedPrice(**values))


def flash(sku_id: int, *, price: int = 500, allotted: int = 3, per_user_limit: int = 1,
          starts_in: timedelta = -HOUR, lasts: timedelta = 2 * HOUR, **session) -> FlashItem:
    """A flash session (on now by default) with one item, its stock set aside from the SKU."""
    now = utcnow()
    session.setdefault("name", f"秒杀{uuid.uuid4().hex[:6]}")
    made = _add(FlashSession(starts_at=now + starts_in, ends_at=now + starts_in + lasts, **session))
    item = _add(FlashItem(session_id=made.id, sku_id=sku_id, currency="CNY", price_minor=price,
                          allotted=0, stock_left=0, per_user_limit=per_user_limit))
    if allotted:
        services.set_aside(item, allotted, actor_id=None)
    return item


def end_session(session_id: int, ago: timedelta = timedelta(seconds=1)) -> None:
    """The session is over (its window moved into the past)."""
    made = db.session.get(FlashSession, session_id)
    made.ends_at = utcnow() - ago
    made.starts_at = made.ends_at - 2 * HOUR
    db.session.flush()


def in_cart(user_id: int, sku_id: int, quantity: int = 1) -> None:
    db.session.add(CartItem(user_id=user_id, sku_id=sku_id, quantity=quantity))
    db.session.flush()


def cart_of(app, user_id: int) -> list[tuple[int, int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(CartItem.sku_id, CartItem.quantity).where(CartItem.user_id == user_id)
            .order_by(CartItem.sku_id))]


def rows(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def count(app, model, *where) -> int:
    with app.app_context():
        return rows(model, *where)


def flash_state(item_id: int) -> dict:
    """What a flash purchase moves: the item's stock, the SKU's stock, the allowances."""
    item = db.session.get(FlashItem, item_id, populate_existing=True)
    return {"stock_left": item.stock_left, "released": item.released,
            "sku_stock": db.session.scalar(select(Sku.stock).where(Sku.id == item.sku_id)),
            "buyers": dict(db.session.execute(select(FlashBuyer.user_id, FlashBuyer.quantity)
                                              .where(FlashBuyer.item_id == item_id)).all())}


def order_form(**values) -> dict:
    from tests.conftest import ADDRESS

    return {**ADDRESS, "token": uuid.uuid4().hex, **values}


def saved_address(user_id: int):
    """The test address saved for the shopper (inside an app context)."""
    from shop.orders import addresses
    from tests.conftest import ADDRESS

    return addresses.for_order(user_id, **ADDRESS)
