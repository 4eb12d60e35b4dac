"""Promotions under real parallel HTTP requests on PostgreSQL: 100 buyers for 10 units of
flash stock, 64 shoppers for the last coupon, one shopper's claims racing the per-user
limit, one coupon in five checkouts at once, and one shopper's flash purchases racing
the per-user limit. Exact counts, read back from the database and its ledgers."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from shop.accounts.models import User
from shop.cart.models import CartItem
from shop.catalog.models import Sku, StockMovement
from shop.catalog.services import move_stock
from shop.db import db, utcnow
from shop.orders.models import Order, OrderAdjustment
from shop.promotions import backoffice, services
from shop.promotions.models import (Coupon, CouponEntry, FlashBuyer, FlashItem, FlashOrder,
                                    FlashSession, FlashStockEntry, UserCoupon)
from tests.concurrency.http import AGENT, form_fields, request, session_cookie, together
from tests.conftest import ADDRESS
from tests.factories import PASSWORD_HASH, UserFactory, product_with_skus

pytestmark = pytest.mark.postgres


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 stays a 303 (tests.concurrency.http follows it to a 200)


_OPENER = urllib.request.build_opener(_NoRedirect)


def _together_ok(calls: list) -> list:
    """together(), and no call raised."""
    results = together(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


def _post(url: str, cookie: str, form: dict, headers: dict | None = None) -> tuple[int, str, str]:
    """(status, body, Location) of one POST, redirects not followed, in English."""
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers={
        "Cookie": f"session={cookie}", "User-Agent": AGENT, "Accept-Language": "en",
        **(headers or {})})
    try:
        with _OPENER.open(req, timeout=120) as response:
            return response.status, response.read().decode(), response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Location", "")


def _alert(html: str) -> str:
    """The refusal the page shows (its role="alert" box), or ""."""
    match = re.search(r'role="alert">([^<]*)<', html)
    return match.group(1).strip() if match else ""


def _order_id(location: str) -> int:
    match = re.search(r"/orders/(\d+)$", location)
    assert match, location
    return int(match.group(1))


def _shoppers(app, n: int, prefix: str) -> list[int]:
    """n shoppers made in one statement (the sign-in form is rate limited: their
    sessions are made with session_cookie)."""
    with app.app_context():
        db.session.execute(insert(User), [
            {"email": f"{prefix}{i}@example.com", "password_hash": PASSWORD_HASH,
             "nickname": f"{prefix}{i}", "role": "shopper"} for i in range(n)])
        ids = db.session.scalars(select(User.id).where(User.email.like(f"{prefix}%"))
                                 .order_by(User.id)).all()
        db.session.commit()
    assert len(ids) == n
    return list(ids)


def _sku_with_stock(app, stock: int) -> int:
    """A SKU on sale whose stock came in through the stock ledger (so the ledger sums to
    the stock)."""
    _product, (sku, _other) = product_with_skus(skus=(("红", 1990, 0), ("蓝", 1990, 0)))
    with app.app_context():
        move_stock(sku.id, stock, reason="restock", ref_type="test", ref_id="start")
        db.session.commit()
    return sku.id


def _flash_item(app, *, units: int, per_user_limit: int, sku_stock: int) -> tuple[int, int]:
    """A flash session on now with one item of the SKU at 9.90, `units` set aside from
    the SKU's stock by an admin. (item id, sku id)."""
    admin = UserFactory(role="admin")
    sku_id = _sku_with_stock(app, sku_stock)
    with app.app_context():
        now = utcnow()
        session = FlashSession(name="Race", starts_at=now - timedelta(minutes=1),
                               ends_at=now + timedelta(hours=1))
        db.session.add(session)
        db.session.flush()
        item = FlashItem(session_id=session.id, sku_id=sku_id, currency="CNY", price_minor=990,
                         allotted=0, stock_left=0, per_user_limit=per_user_limit)
        db.session.add(item)
        db.session.flush()
        services.set_aside(item, units, actor_id=admin.id)
        db.session.commit()
        item_id = item.id
    with app.app_context():
        item = db.session.get(FlashItem, item_id)
        assert (item.allotted, item.stock_left) == (units, units)
        assert db.session.get(Sku, sku_id).stock == sku_stock - units
    return item_id, sku_id


def _flash_form(app, live_server, item_id: int, cookie: str) -> tuple[str, dict]:
    """The shopper opens the flash item's page: its CSRF token and one-use form token."""
    status, html, cookie = request(f"{live_server.url}/flash/items/{item_id}", cookie)
    assert status == 200 and 'name="token"' in html, html[:300]
    return cookie, dict(ADDRESS, quantity="1", **form_fields(html, "csrf_token", "token"))


def _coupon(app, *, total: int | None, per_user_limit: int = 1, amount_minor: int = 500) -> int:
    admin = UserFactory(role="admin")
    with app.app_context():
        coupon = backoffice.save_coupon(None, values={
            "name": "Race coupon", "kind": "amount", "amount_minor": amount_minor,
            "valid_from": utcnow() - timedelta(days=1), "valid_days": 30,
            "per_user_limit": per_user_limit}, total_quantity=total, currency="CNY",
            actor_id=admin.id)
        db.session.commit()
        return coupon.id


def _claim_cookie(app, live_server, user_id: int) -> tuple[str, dict]:
    """The shopper opens the claim centre (for the session's CSRF token)."""
    status, html, cookie = request(f"{live_server.url}/coupons", session_cookie(app, user_id))
    assert status == 200, html[:300]
    return cookie, form_fields(html, "csrf_token")


BUYERS, UNITS, SKU_STOCK = 100, 10, 50  # ten times the units: enough to race


def test_100_buyers_for_10_flash_units_make_exactly_10_flash_orders(app, live_server):
    item_id, sku_id = _flash_item(app, units=UNITS, per_user_limit=1, sku_stock=SKU_STOCK)
    buyers = _shoppers(app, BUYERS, "flashbuyer")
    forms = [_flash_form(app, live_server, item_id, session_cookie(app, b)) for b in buyers]

    url = f"{live_server.url}/flash/items/{item_id}/buy"
    started = time.monotonic()
    results = _together_ok([lambda c=cookie, f=form: _post(url, c, f) for cookie, form in forms])
    elapsed = time.monotonic() - started

    codes = [code for code, _body, _location in results]
    assert sorted(codes) == [303] * UNITS + [409] * (BUYERS - UNITS), sorted(codes)
    refusals = {_alert(body) for code, body, _location in results if code == 409}
    assert refusals == {"Sold out."}, refusals
    won = {_order_id(location) for code, _body, location in results if code == 303}
    winners = {buyers[i] for i, (code, _b, _l) in enumerate(results) if code == 303}
    with app.app_context():
        orders = db.session.execute(select(Order.id, Order.user_id, Order.kind, Order.status)).all()
        assert len(orders) == UNITS
        assert {o.id for o in orders} == won
        assert {o.user_id for o in orders} == winners
        assert {(o.kind, o.status) for o in orders} == {("flash", "awaiting_payment")}
        bought = db.session.execute(select(FlashOrder.order_id, FlashOrder.item_id,
                                           FlashOrder.quantity, FlashOrder.returned)).all()
        assert sorted(tuple(b) for b in bought) == [(o, item_id, 1, False) for o in sorted(won)]
        # each winner holds one unit against the limit; nobody else holds any
        held = dict(db.session.execute(select(FlashBuyer.user_id, FlashBuyer.quantity)
                                       .where(FlashBuyer.item_id == item_id, FlashBuyer.quantity > 0)).all())
        assert held == {user_id: 1 for user_id in winners}

        item = db.session.get(FlashItem, item_id)
        assert (item.allotted, item.stock_left, item.released) == (UNITS, 0, False)
        entries = db.session.execute(select(FlashStockEntry.delta, FlashStockEntry.reason,
                                            FlashStockEntry.stock_after)
                                     .where(FlashStockEntry.item_id == item_id)
                                     .order_by(FlashStockEntry.id)).all()
        assert entries[0] == (UNITS, "set_aside", UNITS)
        assert [(e.delta, e.reason) for e in entries[1:]] == [(-1, "sold")] * UNITS
        assert sorted(e.stock_after for e in entries[1:]) == list(range(UNITS))
        assert sum(e.delta for e in entries) == 0 == item.stock_left

        # the SKU's own stock gave the flash units once and was not touched by the sales
        sku_stock = db.session.get(Sku, sku_id).stock
        assert sku_stock == SKU_STOCK - UNITS
        moves = db.session.execute(select(StockMovement.delta, StockMovement.reason)
                                   .where(StockMovement.sku_id == sku_id)
                                   .order_by(StockMovement.id)).all()
        assert [tuple(m) for m in moves] == [(SKU_STOCK, "restock"), (-UNITS, "flash_set_aside")]
        assert sum(m.delta for m in moves) == sku_stock
    print(f"\n{BUYERS} flash buyers for {UNITS} units: {elapsed:.2f}s")


CLAIMERS = 64


def test_64_shoppers_for_the_last_coupon_one_gets_it(app, live_server):
    coupon_id = _coupon(app, total=5)
    early = _shoppers(app, 4, "early")
    with app.app_context():
        for user_id in early:
            services.claim(user_id, coupon_id)
        db.session.commit()
        assert db.session.get(Coupon, coupon_id).remaining == 1
    claimers = _shoppers(app, CLAIMERS, "claimer")
    forms = [_claim_cookie(app, live_server, user_id) for user_id in claimers]

    url = f"{live_server.url}/coupons/{coupon_id}/claim"
    results = _together_ok([lambda c=cookie, f=form: _post(url, c, f, {"HX-Request": "true"})
                         for cookie, form in forms])

    codes = [code for code, _body, _location in results]
    assert sorted(codes) == [200] + [409] * (CLAIMERS - 1), sorted(codes)
    refusals = {_alert(body) for code, body, _location in results if code == 409}
    assert refusals == {"All of this coupon have been claimed."}, refusals
    (winner,) = [claimers[i] for i, (code, _b, _l) in enumerate(results) if code == 200]
    assert f'id="coupon-{coupon_id}"' in results[claimers.index(winner)][1]  # the card, swapped in
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert (coupon.total_quantity, coupon.remaining) == (5, 0)
        holders = db.session.execute(select(UserCoupon.user_id, UserCoupon.claim_no, UserCoupon.status)
                                     .where(UserCoupon.coupon_id == coupon_id)).all()
        assert sorted(tuple(h) for h in holders) == sorted(
            [(u, 1, "available") for u in early] + [(winner, 1, "available")])
        entries = db.session.execute(select(CouponEntry.action, CouponEntry.delta,
                                            CouponEntry.remaining_after, CouponEntry.ref_id)
                                     .where(CouponEntry.coupon_id == coupon_id)
                                     .order_by(CouponEntry.id)).all()
        assert [(e.action, e.delta, e.remaining_after) for e in entries] == \
            [("restock", 5, 5)] + [("claim", -1, n) for n in (4, 3, 2, 1, 0)]
        won = db.session.scalar(select(UserCoupon.id).where(UserCoupon.coupon_id == coupon_id,
                                                            UserCoupon.user_id == winner))
        assert entries[-1].ref_id == str(won)  # the race's one claim
        assert sum(e.delta for e in entries) == coupon.remaining


def _claims_race(app, live_server, coupon_id: int, shopper: int, n: int = 10):
    """n claims of the coupon by the shopper at once (plain form posts: 303 or 409);
    (sorted codes, refusal messages, the shopper's claim numbers afterwards)."""
    cookie, form = _claim_cookie(app, live_server, shopper)
    url = f"{live_server.url}/coupons/{coupon_id}/claim"
    results = _together_ok([lambda: _post(url, cookie, form) for _ in range(n)])
    with app.app_context():
        held = db.session.scalars(select(UserCoupon.claim_no).where(
            UserCoupon.coupon_id == coupon_id, UserCoupon.user_id == shopper)
            .order_by(UserCoupon.claim_no)).all()
    return (sorted(code for code, _body, _location in results),
            {_alert(body) for code, body, _location in results if code == 409}, list(held))


def test_one_shoppers_parallel_claims_stop_at_the_per_user_limit(app, live_server):
    """Limit 2. A shopper holding one already sends 10 claims at once: exactly one more.
    A shopper holding none sends 10 at once: exactly 2 (claims that counted together and
    drew the same number retry with the next one, up to the limit); the rest are refused
    for the limit."""
    coupon_id = _coupon(app, total=100, per_user_limit=2)
    holder, fresh = _shoppers(app, 2, "greedy")
    with app.app_context():
        services.claim(holder, coupon_id)
        db.session.commit()

    for shopper in (holder, fresh):
        codes, refusals, held = _claims_race(app, live_server, coupon_id, shopper)
        assert held == [1, 2], held
        assert codes == [303] * (2 if shopper == fresh else 1) + [409] * (8 if shopper == fresh else 9), codes
        assert refusals == {"You can claim at most 2 of this coupon."}, refusals

    with app.app_context():
        holders = db.session.execute(select(UserCoupon.user_id, UserCoupon.claim_no)
                                     .where(UserCoupon.coupon_id == coupon_id)).all()
        assert sorted(tuple(h) for h in holders) == [(holder, 1), (holder, 2), (fresh, 1), (fresh, 2)]
        coupon = db.session.get(Coupon, coupon_id)
        assert coupon.remaining == 96
        entries = db.session.execute(select(CouponEntry.action, CouponEntry.delta, CouponEntry.ref_id)
                                     .where(CouponEntry.coupon_id == coupon_id)
                                     .order_by(CouponEntry.id)).all()
        held_ids = db.session.scalars(select(UserCoupon.id).where(UserCoupon.coupon_id == coupon_id)).all()
        assert sorted((e.action, e.delta, e.ref_id) for e in entries if e.action == "claim") == sorted(
            ("claim", -1, str(i)) for i in held_ids)
        assert len(entries) == 5 and sum(e.delta for e in entries) == coupon.remaining


def test_one_coupon_in_five_checkouts_at_once_is_used_by_one_order(app, live_server):
    coupon_id = _coupon(app, total=10, amount_minor=500)
    (shopper,) = _shoppers(app, 1, "couponbuyer")
    sku_id = _sku_with_stock(app, 100)
    with app.app_context():
        held_id = services.claim(shopper, coupon_id).id
        db.session.add(CartItem(user_id=shopper, sku_id=sku_id, quantity=1))
        db.session.commit()

    cookie, posts = session_cookie(app, shopper), []
    for _ in range(5):  # five tabs, each with its own checkout token
        status, html, cookie = request(f"{live_server.url}/checkout", cookie)
        assert status == 200 and f'value="{held_id}" selected' in html.replace("\n", ""), html[:300]
        posts.append(dict(ADDRESS, coupon=str(held_id), **form_fields(html, "csrf_token", "token")))
    assert len({p["token"] for p in posts}) == 5

    url = f"{live_server.url}/checkout"
    results = _together_ok([lambda f=form: _post(url, cookie, f) for form in posts])

    codes = sorted(code for code, _body, _location in results)
    placed = {_order_id(location) for code, _body, location in results if code in (302, 303)}
    assert codes == [302] + [409] * 4, codes
    assert all(_alert(body) for code, body, _location in results if code == 409)
    (order_id,) = placed
    with app.app_context():
        orders = db.session.execute(select(Order.id, Order.subtotal_minor, Order.total_minor)).all()
        assert [o.id for o in orders] == [order_id]
        adjustments = db.session.execute(select(OrderAdjustment.order_id, OrderAdjustment.amount_minor,
                                                OrderAdjustment.ref_id)
                                          .where(OrderAdjustment.kind == "coupon")).all()
        assert [tuple(a) for a in adjustments] == [(order_id, -500, coupon_id)]
        held = db.session.get(UserCoupon, held_id)
        assert (held.status, held.order_id, held.discount_minor) == ("used", order_id, 500)
        uses = db.session.execute(select(CouponEntry.ref_id).where(
            CouponEntry.coupon_id == coupon_id, CouponEntry.action == "use")).scalars().all()
        assert uses == [str(order_id)]
        assert db.session.get(Sku, sku_id).stock == 99  # one order took one unit
        assert db.session.scalar(select(func.sum(StockMovement.delta))
                                 .where(StockMovement.sku_id == sku_id)) == 99
        assert db.session.scalar(select(func.count()).select_from(CartItem)
                                 .where(CartItem.user_id == shopper)) == 0


def test_one_shoppers_eight_flash_purchases_at_once_make_one_order(app, live_server):
    item_id, sku_id = _flash_item(app, units=5, per_user_limit=1, sku_stock=20)
    (shopper,) = _shoppers(app, 1, "flashtwice")
    cookie, posts = session_cookie(app, shopper), []
    for _ in range(8):  # eight tabs, each with its own form token
        cookie, form = _flash_form(app, live_server, item_id, cookie)
        posts.append(form)
    assert len({p["token"] for p in posts}) == 8

    url = f"{live_server.url}/flash/items/{item_id}/buy"
    results = _together_ok([lambda f=form: _post(url, cookie, f) for form in posts])

    codes = sorted(code for code, _body, _location in results)
    assert codes == [303] + [409] * 7, codes
    refusals = {_alert(body) for code, body, _location in results if code == 409}
    assert refusals == {"You can buy at most 1 of this item."}, refusals
    (order_id,) = {_order_id(location) for code, _body, location in results if code == 303}
    with app.app_context():
        assert db.session.execute(select(Order.id, Order.user_id, Order.kind)).all() == \
            [(order_id, shopper, "flash")]
        assert db.session.get(FlashBuyer, (item_id, shopper)).quantity == 1
        item = db.session.get(FlashItem, item_id)
        assert (item.allotted, item.stock_left) == (5, 4)
        deltas = db.session.scalars(select(FlashStockEntry.delta).where(FlashStockEntry.item_id == item_id)
                                    .order_by(FlashStockEntry.id)).all()
        assert deltas == [5, -1] and sum(deltas) == item.stock_left
        assert db.session.get(Sku, sku_id).stock == 15
