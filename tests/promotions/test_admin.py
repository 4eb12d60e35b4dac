"""The backoffice of promotions: admins only, every route (fragments included); coupons
made and changed through the form, their quantity through the coupon ledger, bad input
refused with nothing stored; coupons granted to customers, all or none; full reductions
with tiers and buy-N-get-M offers; limited-time prices; flash sessions whose items take
their flash stock from the SKU through the ledgers; and the figures the lists show,
counted from paid orders only."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Sku, StockMovement
from shop.db import db, utcnow
from shop.orders.models import Address, Order, OrderAdjustment
from shop.promotions import services
from shop.promotions.models import (Coupon, CouponEntry, FlashItem, FlashSession, FlashStockEntry,
                                    Promotion, PromotionTier, TimedPrice, UserCoupon)
from tests.conftest import ADDRESS, counted_queries, signed_in
from tests.factories import (CategoryFactory, CouponFactory, FlashItemFactory, FlashSessionFactory,
                             PromotionFactory, PromotionTierFactory, TimedPriceFactory,
                             UserCouponFactory, UserFactory, product_with_skus)
from tests.payments.helpers import EN

MODELS = (Coupon, UserCoupon, CouponEntry, Promotion, PromotionTier, TimedPrice, FlashSession,
          FlashItem, FlashStockEntry, StockMovement)


def _local(app, dt: datetime) -> str:
    return dt.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _counts(app) -> dict:
    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def _state(app) -> tuple:
    """Everything the backoffice may change, to check a refused request changed nothing."""
    with app.app_context():
        return (
            [(c.id, c.name, c.kind, c.amount_minor, c.percent_bp, c.total_quantity, c.remaining,
              c.active) for c in db.session.scalars(select(Coupon).order_by(Coupon.id))],
            db.session.execute(select(UserCoupon.id, UserCoupon.coupon_id, UserCoupon.user_id,
                                      UserCoupon.source).order_by(UserCoupon.id)).all(),
            db.session.execute(select(CouponEntry.coupon_id, CouponEntry.action, CouponEntry.delta,
                                      CouponEntry.remaining_after).order_by(CouponEntry.id)).all(),
            [(p.id, p.name, p.kind, p.active, [(t.threshold, t.off_minor, t.off_bp) for t in p.tiers])
             for p in db.session.scalars(select(Promotion).order_by(Promotion.id))],
            db.session.execute(select(TimedPrice.id, TimedPrice.name, TimedPrice.percent_bp,
                                      TimedPrice.active).order_by(TimedPrice.id)).all(),
            db.session.execute(select(FlashSession.id, FlashSession.name, FlashSession.active)
                               .order_by(FlashSession.id)).all(),
            db.session.execute(select(FlashItem.id, FlashItem.price_minor, FlashItem.allotted,
                                      FlashItem.stock_left, FlashItem.per_user_limit)
                               .order_by(FlashItem.id)).all(),
            db.session.execute(select(FlashStockEntry.item_id, FlashStockEntry.delta)
                               .order_by(FlashStockEntry.id)).all(),
            db.session.execute(select(Sku.id, Sku.stock).order_by(Sku.id)).all(),
        )


def _coupon_form(app, **changes) -> dict:
    now = _now()
    data = {"name": "满100减10", "kind": "amount", "amount": "10.00", "percent_bp": "", "cap": "",
            "min_spend": "100.00", "scope": "all",
            "valid_from": _local(app, now - timedelta(hours=1)),
            "valid_until": _local(app, now + timedelta(days=30)), "valid_days": "",
            "total_quantity": "10", "per_user_limit": "2", "claimable": "y", "returns": "y",
            "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _reduction_form(app, **changes) -> dict:
    now = _now()
    data = {"name": "满199减20", "basis": "amount", "scope": "all",
            "starts_at": _local(app, now - timedelta(hours=1)),
            "ends_at": _local(app, now + timedelta(days=7)), "with_coupons": "y", "active": "y"}
    for i in range(3):
        data.update({f"tiers-{i}-threshold": "", f"tiers-{i}-off_amount": "",
                     f"tiers-{i}-off_bp": "", f"tiers-{i}-gift_sku_id": ""})
    data.update(changes)
    return data


def _session_form(app, **changes) -> dict:
    now = _now()
    data = {"name": "十点场", "starts_at": _local(app, now - timedelta(minutes=5)),
            "ends_at": _local(app, now + timedelta(hours=2)), "active": "y"}
    data.update(changes)
    return data


def _figures(html: str, attr: str, row_id: int) -> dict[str, str]:
    """The data-figure values of one row of a list (<tr data-coupon="3">...)."""
    row = re.search(rf'<tr data-{attr}="{row_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row {attr}={row_id}"
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row.group(1)))


def _id_from(response, prefix: str) -> int:
    assert response.status_code == 303, _text(response)[:800]
    match = re.fullmatch(rf"{prefix}/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "shopper"])
def test_only_admins_reach_the_promotions_backoffice(app, role):
    client = app.test_client() if role == "anonymous" else signed_in(app, role)[0]
    coupon = CouponFactory(total_quantity=5)
    promotion = PromotionFactory()
    PromotionTierFactory(promotion_id=promotion.id)
    timed = TimedPriceFactory()
    item = FlashItemFactory()
    user = UserFactory()
    before = _state(app)
    forms = {"coupon": _coupon_form(app), "grant": {"customers": f"customer:{user.id}"},
             "reduction": _reduction_form(app, **{"tiers-0-threshold": "100", "tiers-0-off_amount": "5"}),
             "session": _session_form(app),
             "item": {"sku_id": str(item.sku_id), "price": "1.00", "allotted": "1", "per_user_limit": "1"},
             "change": {f"item{item.id}-price": "1.00", f"item{item.id}-allotted": "1",
                        f"item{item.id}-per_user_limit": "1"}}
    base = "/admin/promotions"
    requests = [
        ("GET", "/", None), ("GET", "/coupons", None), ("GET", "/coupons/new", None),
        ("POST", "/coupons/new", "coupon"), ("GET", f"/coupons/{coupon.id}", None),
        ("POST", f"/coupons/{coupon.id}", "coupon"), ("POST", f"/coupons/{coupon.id}/grant", "grant"),
        ("GET", "/promotions", None), ("GET", "/promotions/new?kind=buy_get", None),
        ("POST", "/promotions/new", "reduction"), ("GET", f"/promotions/{promotion.id}", None),
        ("POST", f"/promotions/{promotion.id}", "reduction"),
        ("GET", "/timed-prices", None), ("GET", "/timed-prices/new", None),
        ("POST", "/timed-prices/new", "session"), ("GET", f"/timed-prices/{timed.id}", None),
        ("POST", f"/timed-prices/{timed.id}", "session"),
        ("GET", "/flash", None), ("GET", "/flash/new", None), ("POST", "/flash/new", "session"),
        ("GET", f"/flash/{item.session_id}", None), ("POST", f"/flash/{item.session_id}", "session"),
        ("POST", f"/flash/{item.session_id}/items", "item"), ("POST", f"/flash/items/{item.id}", "change"),
    ]
    # every route of the blueprint is in the list above, and each one is for admins only
    rules = {(rule.rule.replace("<int:coupon_id>", "C").replace("<int:promotion_id>", "P")
              .replace("<int:timed_id>", "T").replace("<int:session_id>", "S")
              .replace("<int:item_id>", "I"), method)
             for rule in app.url_map.iter_rules() if rule.endpoint.startswith("promotions_admin.")
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("promotions_admin."):
            assert app.view_functions[rule.endpoint].required_roles == {"admin"}, rule.endpoint
    asked = {((base + url.split("?")[0]).replace(f"/coupons/{coupon.id}", "/coupons/C")
              .replace(f"/promotions/{promotion.id}", "/promotions/P")
              .replace(f"/timed-prices/{timed.id}", "/timed-prices/T")
              .replace(f"/flash/{item.session_id}", "/flash/S").replace(f"/items/{item.id}", "/items/I"),
              method) for method, url, _form in requests}
    assert asked == rules
    for method, url, form in requests:
        for headers in ({}, {"HX-Request": "true"}):
            if method == "POST":
                response = client.post_form(base + url, forms[form], headers=headers)
            else:
                response = client.get(base + url, headers=headers)
            if role == "anonymous":
                assert response.status_code == (401 if headers else 302), (method, url, headers)
                location = response.headers["HX-Redirect" if headers else "Location"]
                assert location.startswith("/signin"), location
            else:
                assert response.status_code == 403, (method, url, headers)
    assert _state(app) == before


def test_the_admin_pages_load_and_unknown_ones_are_404(app, admin_client):
    coupon = CouponFactory(kind="percent", amount_minor=None, percent_bp=1500, cap_minor=2000,
                           valid_until=None, valid_days=7)
    promotion = PromotionFactory()
    PromotionTierFactory(promotion_id=promotion.id)
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 5),))
    offer = PromotionFactory(kind="buy_get", sku_id=sku.id, buy_n=2, get_m=1)
    timed = TimedPriceFactory()
    item = FlashItemFactory()
    for url in ["/", "/coupons", "/coupons/new", f"/coupons/{coupon.id}", "/promotions",
                "/promotions/new", "/promotions/new?kind=buy_get", f"/promotions/{promotion.id}",
                f"/promotions/{offer.id}", "/timed-prices", "/timed-prices/new",
                f"/timed-prices/{timed.id}", "/flash", "/flash/new", f"/flash/{item.session_id}"]:
        response = admin_client.get("/admin/promotions" + url, headers=EN)
        assert response.status_code == 200, url
        assert 'name="csrf_token"' in response.get_data(as_text=True) or "/new" not in url
    overview = admin_client.get("/admin/promotions/", headers=EN).get_data(as_text=True)
    assert "15% off" in overview and "7 days after it is handed out" in overview
    assert "Buy 2, get 1 free" in overview
    for url in ["/coupons/999999", "/promotions/999999", "/promotions/new?kind=nonsense",
                "/timed-prices/999999", "/flash/999999", "/coupons?page=0"]:
        assert admin_client.get("/admin/promotions" + url).status_code == 404, url
    for url in ["/coupons/999999/grant", "/flash/999999/items", "/flash/items/999999"]:
        assert admin_client.post_form("/admin/promotions" + url, {}).status_code == 404, url
    nav = admin_client.get("/admin/groups/", headers=EN).get_data(as_text=True)
    assert 'href="/admin/promotions/"' in nav


# --- coupons ------------------------------------------------------------------------------


def test_an_admin_creates_a_coupon_and_sees_it_listed(app, admin_client):
    category = CategoryFactory()
    form = _coupon_form(app, scope="categories", scope_categories=f"category:{category.id}")
    response = admin_client.post_form("/admin/promotions/coupons/new", form)
    coupon_id = _id_from(response, "/admin/promotions/coupons")
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert (coupon.name, coupon.currency, coupon.kind, coupon.amount_minor, coupon.percent_bp,
                coupon.cap_minor, coupon.min_spend_minor, coupon.scope, coupon.scope_ids) == \
            ("满100减10", "CNY", "amount", 1000, None, None, 10000, "categories", [category.id])
        assert (coupon.total_quantity, coupon.remaining, coupon.per_user_limit, coupon.valid_days) == \
            (10, 10, 2, None)
        assert (coupon.claimable, coupon.newcomer, coupon.returns, coupon.group_buys, coupon.active) == \
            (True, False, True, False, True)
        assert _local(app, coupon.valid_from) == form["valid_from"]
        assert _local(app, coupon.valid_until) == form["valid_until"]
        entries = db.session.execute(select(CouponEntry.action, CouponEntry.delta,
                                            CouponEntry.remaining_after, CouponEntry.ref_type,
                                            CouponEntry.actor_id)).all()
        assert entries == [("restock", 10, 10, "admin", entries[0].actor_id)]
        assert entries[0].actor_id is not None
    listing = admin_client.get("/admin/promotions/coupons", headers=EN).get_data(as_text=True)
    assert f'href="/admin/promotions/coupons/{coupon_id}"' in listing and "满100减10" in listing
    assert "10 / 10" in listing
    assert _figures(listing, "coupon", coupon_id) == {
        "claimed": "0", "used": "0", "orders": "0", "discount": "CN¥0.00", "gmv": "CN¥0.00"}
    # the edit page shows what was saved; a percentage coupon over days, unlimited
    page = admin_client.get(f"/admin/promotions/coupons/{coupon_id}", headers=EN).get_data(as_text=True)
    assert 'value="10.00"' in page and f'value="category:{category.id}" checked' in page
    response = admin_client.post_form(f"/admin/promotions/coupons/{coupon_id}", _coupon_form(
        app, kind="percent", amount="", percent_bp="1500", cap="30.00", valid_until="",
        valid_days="7", total_quantity="", scope="all"))
    assert response.status_code == 303
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert (coupon.kind, coupon.amount_minor, coupon.percent_bp, coupon.cap_minor,
                coupon.valid_until, coupon.valid_days, coupon.total_quantity, coupon.remaining,
                coupon.scope, coupon.scope_ids) == ("percent", None, 1500, 3000, None, 7, None,
                                                    None, "all", [])


@pytest.mark.parametrize("changes, message", [
    ({"valid_days": "30"}, "Give an end or a number of days, not both."),
    ({"valid_until": ""}, "Give an end or a number of days."),
    ({"kind": "percent", "percent_bp": "10001"}, "Enter a whole number from 1 to 10000."),
    ({"kind": "percent", "percent_bp": "0"}, "Enter a whole number from 1 to 10000."),
    ({"kind": "percent", "percent_bp": ""}, "Give the percentage off."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "1.234"}, "Use at most 2 decimal places."),
    ({"scope": "products", "scope_products": ["product:999999", "product:999998"]},
     "No product has this number: 999998, 999999."),
    ({"scope": "categories", "scope_categories": ""}, "Choose at least one."),
    ({"scope": "categories", "scope_categories": "3; DROP"}, "Choose from the search results."),
    ({"per_user_limit": "101"}, "Enter a whole number from 1 to 100."),
    ({"valid_days": "3651", "valid_until": ""}, "Enter a whole number from 1 to 3650."),
    ({"name": "<b>x</b>"}, "Use plain text"),
    ({"kind": "free"}, "Not a valid choice"),
])
def test_bad_coupon_input_is_refused_and_stores_nothing(app, admin_client, changes, message):
    before = _counts(app)
    response = admin_client.post_form("/admin/promotions/coupons/new", _coupon_form(app, **changes),
                                      headers=EN)
    assert response.status_code == 422
    assert message in _text(response)
    assert _counts(app) == before and before["Coupon"] == 0


def test_the_total_moves_remaining_through_the_ledger_and_not_below_what_was_handed_out(
        app, admin_client):
    coupon_id = _id_from(admin_client.post_form("/admin/promotions/coupons/new", _coupon_form(app)),
                         "/admin/promotions/coupons")
    users = [UserFactory() for _ in range(3)]
    with app.app_context():
        services.grant(coupon_id, [u.id for u in users], actor_id=users[0].id)
        db.session.commit()

    def ledger():
        with app.app_context():
            coupon = db.session.get(Coupon, coupon_id)
            return (coupon.total_quantity, coupon.remaining), db.session.execute(
                select(CouponEntry.action, CouponEntry.delta, CouponEntry.remaining_after,
                       CouponEntry.ref_type).order_by(CouponEntry.id)).all()

    assert ledger()[0] == (10, 7)
    url = f"/admin/promotions/coupons/{coupon_id}"
    before = _state(app)
    response = admin_client.post_form(url, _coupon_form(app, total_quantity="2", name="changed"),
                                      headers=EN)
    assert response.status_code == 422
    assert "3 have been handed out already; the total can not be lower." in _text(response)
    assert _state(app) == before

    assert admin_client.post_form(url, _coupon_form(app, total_quantity="15")).status_code == 303
    totals, entries = ledger()
    assert totals == (15, 12)
    assert entries[-1] == ("restock", 5, 12, "admin")
    with app.app_context():
        last = db.session.scalars(select(CouponEntry).order_by(CouponEntry.id.desc())).first()
        assert last.actor_id is not None and len(last.ref_id) == 32
    assert admin_client.post_form(url, _coupon_form(app, total_quantity="3")).status_code == 303
    totals, entries = ledger()
    assert totals == (3, 0) and entries[-1] == ("restock", -12, 0, "admin")
    # unchanged total: no ledger row
    assert admin_client.post_form(url, _coupon_form(app, total_quantity="3")).status_code == 303
    assert ledger()[1] == entries
    # unlimited, then limited again: what is left is the total less what was handed out
    assert admin_client.post_form(url, _coupon_form(app, total_quantity="")).status_code == 303
    assert ledger()[0] == (None, None)
    assert admin_client.post_form(url, _coupon_form(app, total_quantity="5")).status_code == 303
    totals, entries = ledger()
    assert totals == (5, 2) and entries[-1] == ("restock", 2, 2, "admin")
    assert [e.action for e in entries] == ["restock", "claim", "claim", "claim", "restock",
                                           "restock", "restock"]


def test_a_coupon_is_granted_to_customers_picked_all_or_none(app, admin_client):
    coupon = CouponFactory(total_quantity=5, per_user_limit=1)
    first, second = UserFactory(nickname="阿一"), UserFactory(nickname="阿二")
    product, _skus = product_with_skus()
    url = f"/admin/promotions/coupons/{coupon.id}/grant"

    def held():
        with app.app_context():
            return db.session.execute(select(UserCoupon.user_id, UserCoupon.source, UserCoupon.status)
                                      .order_by(UserCoupon.user_id)).all()

    before = _state(app)
    refusals = [
        ({"customers": [f"customer:{first.id}", f"product:{product.id}"]},
         "This takes a customer, not a product."),
        ({"customers": [f"customer:{first.id}", "customer:999999"]},
         "No customer has this number: 999999."),
        ({"customers": "nobody@example.com"}, "Choose from the search results."),
        ({}, "Choose at least one customer."),
        ({"q_customers": "阿一"}, "Choose one of the matches below."),
    ]
    for posted, message in refusals:
        response = admin_client.post_form(url, posted, headers=EN)
        assert response.status_code == 422, posted
        assert message in _text(response), posted
        assert _state(app) == before and held() == [], posted
    # the search without JavaScript offered the match to tick
    assert f'type="checkbox" name="customers" value="customer:{first.id}"' in _text(response)

    response = admin_client.post_form(url, {"customers": [f"customer:{first.id}",
                                                          f"customer:{second.id}"]})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/promotions/coupons/{coupon.id}"
    assert held() == [(first.id, "grant", "available"), (second.id, "grant", "available")]
    with app.app_context():
        assert db.session.get(Coupon, coupon.id).remaining == 3
        assert db.session.scalar(select(func.count()).select_from(CouponEntry).where(
            CouponEntry.action == "claim", CouponEntry.actor_id.is_not(None))) == 2
    # a grant is not bound by the per-customer limit
    assert admin_client.post_form(url, {"customers": f"customer:{first.id}"}).status_code == 303
    assert len(held()) == 3
    # more than are left: refused with the rule's message, nobody gets one
    third, fourth, fifth = UserFactory(), UserFactory(), UserFactory()
    before = _state(app)
    response = admin_client.post_form(
        url, {"customers": [f"customer:{u.id}" for u in (third, fourth, fifth)]}, headers=EN)
    assert response.status_code == 409
    assert "All of this coupon have been claimed." in _text(response)
    assert _state(app) == before
    # the coupon page shows the claims
    page = admin_client.get(f"/admin/promotions/coupons/{coupon.id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="claimed">3<' in page and "Left to hand out: 2 of 5" in page


# --- full reductions and buy N get M ------------------------------------------------------


def test_a_full_reduction_with_two_tiers_is_saved_and_its_tiers_replaced(app, admin_client):
    _product, (gift,) = product_with_skus(skus=(("红", 990, 5),))
    form = _reduction_form(app, **{
        "tiers-0-threshold": "199", "tiers-0-off_amount": "20.00",
        "tiers-1-threshold": "299.50", "tiers-1-off_bp": "1500", "tiers-1-free_shipping": "y",
        "tiers-1-gift_sku_id": f"sku:{gift.id}"})
    promotion_id = _id_from(admin_client.post_form("/admin/promotions/promotions/new", form),
                            "/admin/promotions/promotions")

    def saved():
        with app.app_context():
            p = db.session.get(Promotion, promotion_id)
            return ((p.kind, p.name, p.currency, p.basis, p.scope, p.with_coupons, p.group_buys,
                     p.active),
                    [(t.threshold, t.off_minor, t.off_bp, t.free_shipping, t.gift_sku_id)
                     for t in p.tiers])

    assert saved() == (("full_reduction", "满199减20", "CNY", "amount", "all", True, False, True),
                       [(19900, 2000, None, False, None), (29950, None, 1500, True, gift.id)])
    listing = admin_client.get("/admin/promotions/promotions", headers=EN).get_data(as_text=True)
    assert "满199减20" in listing and "2 tiers" in listing
    page = admin_client.get(f"/admin/promotions/promotions/{promotion_id}", headers=EN).get_data(as_text=True)
    assert 'value="199.00"' in page and 'value="299.50"' in page
    # by item count, the thresholds swapped between rows: saved as a whole
    form = _reduction_form(app, basis="count", group_buys="y", **{
        "tiers-0-threshold": "3", "tiers-0-off_amount": "5.00",
        "tiers-1-threshold": "2", "tiers-1-free_shipping": "y"})
    assert admin_client.post_form(f"/admin/promotions/promotions/{promotion_id}", form).status_code == 303
    assert saved() == (("full_reduction", "满199减20", "CNY", "count", "all", True, True, True),
                       [(2, None, None, True, None), (3, 500, None, False, None)])


@pytest.mark.parametrize("changes, message", [
    ({}, "Give at least one tier."),
    ({"tiers-0-threshold": "100"}, "A tier gives something: money off, free shipping or a gift."),
    ({"tiers-0-threshold": "100", "tiers-0-off_amount": "5", "tiers-0-off_bp": "100"},
     "Take an amount or a percentage off, not both."),
    ({"tiers-0-threshold": "100", "tiers-0-off_amount": "5",
      "tiers-1-threshold": "100.00", "tiers-1-off_amount": "8"}, "Another tier has this threshold."),
    ({"tiers-0-off_amount": "5"}, "Give the threshold of the tier."),
    ({"tiers-0-threshold": "abc", "tiers-0-off_amount": "5"}, "Enter an amount such as 12.50."),
    ({"basis": "count", "tiers-0-threshold": "1.5", "tiers-0-off_amount": "5"},
     "Enter a number of items from 1 to 10000."),
    ({"tiers-0-threshold": "100", "tiers-0-gift_sku_id": "sku:999999"}, "No SKU has this number: 999999."),
    ({"tiers-0-threshold": "100", "tiers-0-off_bp": "10001"}, "Enter a whole number from 1 to 10000."),
    ({"tiers-0-threshold": "100", "tiers-0-off_amount": "5", "scope": "categories",
      "scope_categories": "category:999999"}, "No category has this number: 999999."),
    ({"tiers-0-threshold": "100", "tiers-0-off_amount": "5", "ends_at": "2020-01-01T00:00"},
     "The end must come after the start."),
])
def test_bad_full_reductions_are_refused(app, admin_client, changes, message):
    response = admin_client.post_form("/admin/promotions/promotions/new",
                                      _reduction_form(app, **changes), headers=EN)
    assert response.status_code == 422
    assert message in _text(response)
    assert _counts(app)["Promotion"] == 0 and _counts(app)["PromotionTier"] == 0


def test_a_buy_n_get_m_offer_is_saved(app, admin_client):
    _product, (sku,) = product_with_skus(skus=(("红", 990, 5),))
    now = _now()
    form = {"name": "买二送一", "sku_id": "999999", "buy_n": "2", "get_m": "1",
            "starts_at": _local(app, now), "ends_at": _local(app, now + timedelta(days=3)),
            "active": "y"}
    response = admin_client.post_form("/admin/promotions/promotions/new?kind=buy_get", form, headers=EN)
    assert response.status_code == 422 and "No SKU has this number: 999999." in _text(response)
    assert _counts(app)["Promotion"] == 0
    response = admin_client.post_form("/admin/promotions/promotions/new?kind=buy_get",
                                      dict(form, sku_id=f"sku:{sku.id}"))
    promotion_id = _id_from(response, "/admin/promotions/promotions")
    with app.app_context():
        p = db.session.get(Promotion, promotion_id)
        assert (p.kind, p.sku_id, p.buy_n, p.get_m, p.tiers) == ("buy_get", sku.id, 2, 1, [])
    bad = admin_client.post_form(f"/admin/promotions/promotions/{promotion_id}",
                                 dict(form, sku_id=f"sku:{sku.id}", get_m="100"), headers=EN)
    assert bad.status_code == 422 and "Enter a whole number from 1 to 99." in _text(bad)


# --- limited-time prices ------------------------------------------------------------------


def test_a_limited_time_price_is_saved_for_a_product_or_one_of_its_skus(app, admin_client):
    product, (red, _blue) = product_with_skus(cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    _other, (stranger, _x) = product_with_skus()
    now = _now()
    form = {"name": "周末特价", "product_id": f"product:{product.id}", "sku_id": f"sku:{stranger.id}",
            "kind": "percent", "price": "", "percent_bp": "2000", "starts_at": _local(app, now),
            "ends_at": _local(app, now + timedelta(days=2)), "with_coupons": "y", "active": "y"}
    for changes, message in [({}, "That SKU is not one of the product's."),
                             ({"product_id": "999999", "sku_id": ""}, "No product has this number: 999999."),
                             ({"percent_bp": "10000"}, "Enter a whole number from 1 to 9999."),
                             ({"kind": "price", "sku_id": ""}, "Give the price.")]:
        response = admin_client.post_form("/admin/promotions/timed-prices/new", dict(form, **changes),
                                          headers=EN)
        assert response.status_code == 422 and message in _text(response), changes
    assert _counts(app)["TimedPrice"] == 0
    timed_id = _id_from(admin_client.post_form("/admin/promotions/timed-prices/new",
                                               dict(form, sku_id=f"sku:{red.id}")),
                        "/admin/promotions/timed-prices")
    assert admin_client.post_form(f"/admin/promotions/timed-prices/{timed_id}",
                                  dict(form, sku_id="", kind="price", price="9.90")).status_code == 303
    with app.app_context():
        t = db.session.get(TimedPrice, timed_id)
        assert (t.product_id, t.sku_id, t.kind, t.price_minor, t.percent_bp, t.with_coupons) == \
            (product.id, None, "price", 990, None, True)
    listing = admin_client.get("/admin/promotions/timed-prices", headers=EN).get_data(as_text=True)
    assert "周末特价" in listing and "CN¥9.90" in listing


# --- flash sales ------------------------------------------------------------------------------


def _sku_stock(app, sku_id: int) -> int:
    with app.app_context():
        return db.session.get(Sku, sku_id).stock


def _buy_flash(app, item_id: int, quantity: int, *, paid: bool) -> int:
    """A shopper buys through the flash rules; the order marked paid (or left unpaid)."""
    user = UserFactory()
    with app.app_context():
        address = Address(user_id=user.id, **ADDRESS)
        db.session.add(address)
        db.session.flush()
        order = services.buy_flash(user.id, item_id, quantity, address, uuid.uuid4().hex)
        if paid:
            order.status = "paid"
        db.session.commit()
        return order.id


def test_a_flash_item_takes_its_stock_from_the_sku_through_the_ledgers(app, admin_client):
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 50),), cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    session_id = _id_from(admin_client.post_form("/admin/promotions/flash/new", _session_form(app)),
                          "/admin/promotions/flash")
    url = f"/admin/promotions/flash/{session_id}/items"
    form = {"sku_id": f"sku:{sku.id}", "price": "9.90", "allotted": "20", "per_user_limit": "2"}

    # more than the SKU has: refused with the rule's message, nothing made
    before = _state(app)
    response = admin_client.post_form(url, dict(form, allotted="51"), headers=EN)
    assert response.status_code == 409 and "The SKU has not that much stock." in _text(response)
    assert _state(app) == before

    assert admin_client.post_form(url, form).status_code == 303
    assert _sku_stock(app, sku.id) == 30
    with app.app_context():
        item = db.session.scalar(select(FlashItem))
        assert (item.session_id, item.sku_id, item.currency, item.price_minor, item.allotted,
                item.stock_left, item.per_user_limit) == (session_id, sku.id, "CNY", 990, 20, 20, 2)
        assert db.session.execute(select(FlashStockEntry.delta, FlashStockEntry.stock_after,
                                         FlashStockEntry.reason)).all() == [(20, 20, "set_aside")]
        assert db.session.execute(select(StockMovement.delta, StockMovement.reason)
                                  .where(StockMovement.sku_id == sku.id).order_by(StockMovement.id)).all() == [
            (50, "opening"), (-20, "flash_set_aside")]
        item_id = item.id

    # the same SKU twice: a form error
    before = _state(app)
    response = admin_client.post_form(url, dict(form, allotted="1"), headers=EN)
    assert response.status_code == 422 and "This SKU is in the session already." in _text(response)
    assert _state(app) == before

    # 8 sold (5 paid, 3 not yet): 12 unsold; the flash stock can not go below the 8 sold
    paid_order = _buy_flash(app, item_id, 2, paid=True)
    _buy_flash(app, item_id, 2, paid=True)
    _buy_flash(app, item_id, 1, paid=True)
    _buy_flash(app, item_id, 2, paid=False)
    _buy_flash(app, item_id, 1, paid=False)
    change = f"/admin/promotions/flash/items/{item_id}"
    before = _state(app)
    response = admin_client.post_form(change, {f"item{item_id}-price": "8.80",
                                               f"item{item_id}-per_user_limit": "3",
                                               f"item{item_id}-allotted": "7"}, headers=EN)
    assert response.status_code == 409
    assert "Only 12 are unsold; the flash stock can not go lower." in _text(response)
    assert _state(app) == before

    # down to what is sold: the 12 unsold go back to the SKU; price and limit change
    response = admin_client.post_form(change, {f"item{item_id}-price": "8.80",
                                               f"item{item_id}-per_user_limit": "3",
                                               f"item{item_id}-allotted": "8"})
    assert response.status_code == 303, re.findall(r'error-box" role="alert">([^<]*)', _text(response))
    assert _sku_stock(app, sku.id) == 42
    with app.app_context():
        item = db.session.get(FlashItem, item_id)
        assert (item.price_minor, item.per_user_limit, item.allotted, item.stock_left) == (880, 3, 8, 0)
        assert db.session.scalar(select(func.sum(FlashStockEntry.delta))) == 0
        order_total = db.session.get(Order, paid_order).total_minor
    bad = admin_client.post_form(change, {f"item{item_id}-price": "0",
                                          f"item{item_id}-per_user_limit": "3",
                                          f"item{item_id}-allotted": "8"}, headers=EN)
    assert bad.status_code == 422 and "A price must be more than zero." in _text(bad)

    # the figures: 8 sold, 3 paid orders of 5 units
    page = admin_client.get(f"/admin/promotions/flash/{session_id}", headers=EN).get_data(as_text=True)
    figures = _figures(page, "item", item_id)
    assert (figures["allotted"], figures["sold"], figures["left"], figures["orders"]) == ("8", "8", "0", "3")
    with app.app_context():
        gmv = db.session.scalar(select(func.sum(Order.total_minor)).where(Order.status == "paid"))
    assert order_total > 0 and figures["gmv"] == f"CN¥{gmv / 100:.2f}"
    listing = admin_client.get("/admin/promotions/flash", headers=EN).get_data(as_text=True)
    assert _figures(listing, "session", session_id) == {
        "allotted": "8", "sold": "8", "left": "0", "orders": "3", "gmv": f"CN¥{gmv / 100:.2f}"}


def test_no_item_is_added_to_a_session_that_has_ended(app, admin_client):
    session = FlashSessionFactory(starts_at=utcnow() - timedelta(hours=3),
                                  ends_at=utcnow() - timedelta(hours=1))
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 50),))
    before = _state(app)
    response = admin_client.post_form(f"/admin/promotions/flash/{session.id}/items",
                                      {"sku_id": f"sku:{sku.id}", "price": "9.90", "allotted": "5",
                                       "per_user_limit": "1"}, headers=EN)
    assert response.status_code == 409 and "This session has ended" in _text(response)
    assert _state(app) == before


# --- figures ------------------------------------------------------------------------------------


def _order(user_id: int, status: str, total: int) -> Order:
    order = Order(user_id=user_id, idempotency_key=uuid.uuid4().hex, status=status, currency="CNY",
                  subtotal_minor=total, total_minor=total, ship_name="张三", ship_phone="13800138000",
                  ship_address="浙江省杭州市西湖区文三路 1 号")
    db.session.add(order)
    db.session.flush()
    return order


def test_the_lists_show_figures_from_paid_orders_in_a_constant_number_of_queries(app, admin_client):
    coupon, idle = CouponFactory(), CouponFactory()
    promotion = PromotionFactory()
    PromotionTierFactory(promotion_id=promotion.id)
    timed = TimedPriceFactory()
    buyers = [UserFactory() for _ in range(4)]
    with app.app_context():
        paid = _order(buyers[0].id, "paid", 8900)
        shipped = _order(buyers[1].id, "shipped", 18000)
        unpaid = _order(buyers[2].id, "awaiting_payment", 5000)
        refunded = _order(buyers[3].id, "refunded", 7000)
        orders = {"paid": paid.id, "shipped": shipped.id, "unpaid": unpaid.id, "refunded": refunded.id}
        for kind, ref_id, order, amount in [
                ("full_reduction", promotion.id, paid, -1000), ("full_reduction", promotion.id, shipped, -2000),
                ("full_reduction", promotion.id, unpaid, -500), ("timed_price", timed.id, shipped, -399),
                ("timed_price", timed.id, refunded, -100), ("coupon", coupon.id, paid, -1000)]:
            db.session.add(OrderAdjustment(order_id=order.id, position=0, kind=kind, label=kind,
                                           amount_minor=amount, ref_id=ref_id))
        db.session.commit()
    UserCouponFactory(coupon_id=coupon.id, user_id=buyers[0].id, status="used",
                      order_id=orders["paid"], discount_minor=1000)
    UserCouponFactory(coupon_id=coupon.id, user_id=buyers[2].id, status="used",
                      order_id=orders["unpaid"], discount_minor=500)
    UserCouponFactory(coupon_id=coupon.id, user_id=buyers[3].id, status="used",
                      order_id=orders["refunded"], discount_minor=700)
    UserCouponFactory(coupon_id=coupon.id, user_id=buyers[1].id, source="grant")

    listing = admin_client.get("/admin/promotions/coupons", headers=EN).get_data(as_text=True)
    assert _figures(listing, "coupon", coupon.id) == {
        "claimed": "4", "used": "3", "orders": "1", "discount": "CN¥10.00", "gmv": "CN¥89.00"}
    assert _figures(listing, "coupon", idle.id) == {
        "claimed": "0", "used": "0", "orders": "0", "discount": "CN¥0.00", "gmv": "CN¥0.00"}
    listing = admin_client.get("/admin/promotions/promotions", headers=EN).get_data(as_text=True)
    assert _figures(listing, "promotion", promotion.id) == {
        "orders": "2", "discount": "CN¥30.00", "gmv": "CN¥269.00"}
    listing = admin_client.get("/admin/promotions/timed-prices", headers=EN).get_data(as_text=True)
    assert _figures(listing, "timed", timed.id) == {
        "orders": "1", "discount": "CN¥3.99", "gmv": "CN¥180.00"}
    overview = admin_client.get("/admin/promotions/", headers=EN).get_data(as_text=True)
    assert _figures(overview, "coupon", coupon.id)["gmv"] == "CN¥89.00"
    page = admin_client.get(f"/admin/promotions/coupons/{coupon.id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="discount">CN¥10.00<' in page and 'data-figure="used">3<' in page

    # more rows, more figures: the same number of queries
    def queries(url):
        admin_client.get(url)
        with counted_queries(app) as statements:
            assert admin_client.get(url).status_code == 200
        return len(statements)

    urls = ["/admin/promotions/", "/admin/promotions/coupons", "/admin/promotions/promotions",
            "/admin/promotions/timed-prices", "/admin/promotions/flash"]
    FlashItemFactory()
    first = [queries(url) for url in urls]
    for _ in range(3):
        UserCouponFactory(coupon_id=CouponFactory().id)
        PromotionTierFactory(promotion_id=PromotionFactory().id)
        TimedPriceFactory()
        FlashItemFactory()
    assert [queries(url) for url in urls] == first


def test_flash_stock_nobody_bought_goes_back_to_the_sku(app, admin_client):
    session = FlashSessionFactory()
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 50),), cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    assert admin_client.post_form(f"/admin/promotions/flash/{session.id}/items",
                                  {"sku_id": f"sku:{sku.id}", "price": "9.90", "allotted": "5",
                                   "per_user_limit": "1"}).status_code == 303
    assert _sku_stock(app, sku.id) == 45
    with app.app_context():
        item_id = db.session.scalar(select(FlashItem.id))
    response = admin_client.post_form(f"/admin/promotions/flash/items/{item_id}",
                                      {f"item{item_id}-price": "9.90", f"item{item_id}-per_user_limit": "1",
                                       f"item{item_id}-allotted": "0"})
    assert response.status_code == 303
    assert _sku_stock(app, sku.id) == 50
    with app.app_context():
        item = db.session.get(FlashItem, item_id)
        assert (item.allotted, item.stock_left) == (0, 0)
        assert db.session.execute(select(FlashStockEntry.delta, FlashStockEntry.stock_after,
                                         FlashStockEntry.reason).order_by(FlashStockEntry.id)).all() == \
            [(5, 5, "set_aside"), (-5, 0, "put_back")]
        assert db.session.execute(select(StockMovement.delta, StockMovement.reason)
                                  .where(StockMovement.sku_id == sku.id).order_by(StockMovement.id)).all() == \
            [(50, "opening"), (-5, "flash_set_aside"), (5, "flash_put_back")]


# --- pages with several forms: the one not posted shows what is stored (shop.web.forms) ----


def _coupon_row(app, coupon_id: int) -> tuple:
    with app.app_context():
        c = db.session.get(Coupon, coupon_id)
        return (c.name, c.kind, c.amount_minor, c.min_spend_minor, c.scope, sorted(c.scope_ids),
                c.valid_from, c.valid_until, c.valid_days, c.total_quantity, c.per_user_limit,
                c.claimable, c.newcomer, c.returns, c.group_buys, c.active)


def test_a_refused_grant_leaves_the_coupon_form_as_stored_and_saving_it_changes_nothing(
        app, admin_client):
    from tests.web.page_forms import form_values

    fruit, tea = CategoryFactory(name="水果"), CategoryFactory(name="茶叶")
    coupon = CouponFactory(amount_minor=1500, min_spend_minor=9900, scope="categories",
                           scope_ids=[fruit.id, tea.id], valid_until=None, valid_days=14,
                           total_quantity=50, per_user_limit=2, claimable=True, newcomer=True,
                           returns=True, group_buys=True, active=True,
                           valid_from=_now() - timedelta(days=1))  # whole minutes, as typed
    stored_row = _coupon_row(app, coupon.id)
    page = f"/admin/promotions/coupons/{coupon.id}"
    response = admin_client.post_form(f"{page}/grant", {}, headers=EN)  # nobody chosen
    assert response.status_code == 422 and "Choose at least one customer." in _text(response)
    shown = form_values(_text(response), page)
    assert shown["amount"] == ["15.00"] and shown["min_spend"] == ["99.00"]
    assert shown["valid_days"] == ["14"] and shown["total_quantity"] == ["50"]
    assert shown["scope"] == ["categories"]
    assert sorted(shown["scope_categories"]) == sorted([f"category:{fruit.id}", f"category:{tea.id}"])
    for box in ("claimable", "newcomer", "returns", "group_buys", "active"):
        assert shown.get(box) == ["y"], box
    assert "This field is required" not in _text(response)
    # the coupon form saved as it came back changes nothing
    response = admin_client.post_form(page, shown)
    assert response.status_code == 303, _text(response)[:800]
    assert _coupon_row(app, coupon.id) == stored_row


def _session_row(app, session_id: int) -> tuple:
    with app.app_context():
        s = db.session.get(FlashSession, session_id)
        return (s.name, s.starts_at, s.ends_at, s.with_coupons, s.with_full_reduction, s.active)


@pytest.mark.parametrize("posted", [
    {"price": "0"},  # refused by the form
    {"price": "", "q_sku_id": "苹果"},  # a picker search without JavaScript
])
def test_a_refused_item_leaves_the_session_form_as_stored_and_the_session_running(
        app, admin_client, posted):
    from tests.web.page_forms import form_values

    _product, (sku,) = product_with_skus(title="有机苹果", skus=(("红", 1990, 50),))
    session = FlashSessionFactory(name="十点场", with_coupons=True, active=True,
                                  starts_at=_now() - timedelta(hours=1),
                                  ends_at=_now() + timedelta(hours=2))  # whole minutes
    stored_row = _session_row(app, session.id)
    page = f"/admin/promotions/flash/{session.id}"
    item = {"sku_id": f"sku:{sku.id}", "price": "9.90", "allotted": "5", "per_user_limit": "1"}
    response = admin_client.post_form(f"{page}/items", dict(item, **posted), headers=EN)
    assert response.status_code == 422
    html = _text(response)
    shown = form_values(html, page)
    assert shown["name"] == ["十点场"]
    assert shown.get("active") == ["y"] and shown.get("with_coupons") == ["y"]
    assert "with_full_reduction" not in shown
    assert "This field is required" not in html
    # Save on the session form right after: the session stays as it was, running
    response = admin_client.post_form(page, shown)
    assert response.status_code == 303, _text(response)[:800]
    assert _session_row(app, session.id) == stored_row
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FlashItem)) == 0
