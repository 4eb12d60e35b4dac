"""First-party tracking: what each page's beacon reports, the one row a beacon writes,
and the facts kept from add-to-carts, orders, payments, refunds and registrations."""

from __future__ import annotations

import html
import json
import re
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from shop.analytics import tracking
from shop.analytics.models import Acquisition, Hit, OrderFact
from shop.db import db
from shop.orders.models import Order
from shop.web.visitor import VISITOR_KEY
from tests.conftest import signed_in
from tests.factories import ArticleFactory, UserFactory, product_with_skus
from tests.payments.helpers import placed_order

BEACON = re.compile(r'hx-post="/t" hx-vals=\'([^\']*)\'')


def beacon(client, url: str, **kwargs) -> dict | None:
    """The values the page's beacon reports (read from its signed token), or None."""
    page = client.get(url, **kwargs)
    assert page.status_code == 200, url
    found = BEACON.search(page.get_data(as_text=True))
    if found is None:
        return None
    with client.application.app_context():
        return tracking.read_beacon(json.loads(html.unescape(found.group(1)))["t"])


def signed(app, **values) -> dict:
    """A beacon's form, as a page of the shop would have it signed."""
    with app.test_request_context():
        return {"t": tracking._serializer().dumps(values)}


def hits(app) -> list[Hit]:
    with app.app_context():
        rows = list(db.session.scalars(select(Hit).order_by(Hit.id)))
        db.session.expunge_all()
        return rows


def visitor_of(client) -> str:
    with client.session_transaction() as session:
        return session[VISITOR_KEY]


def test_each_page_reports_what_it_shows_and_where_the_visit_came_from(app, client):
    product, _skus = product_with_skus()
    article = ArticleFactory(status="published")
    assert beacon(client, f"/p/{product.id}") == {
        "kind": "product", "item": product.id, "source": "direct"}
    assert beacon(client, f"/a/{article.id}") == {
        "kind": "article", "item": article.id, "source": "article"}
    # reached from another page of the shop: not a landing
    assert beacon(client, f"/p/{product.id}", headers={"Referer": "http://localhost/"}) == {
        "kind": "product", "item": product.id}
    # from another site: a landing, direct
    assert beacon(client, "/", headers={"Referer": "https://weixin.example/"}) == {
        "kind": "page", "source": "direct"}
    assert beacon(client, "/?utm_source=wechat&utm_medium=group&utm_campaign=双11&x=1",
                  headers={"Referer": "http://localhost/"}) == {
        "kind": "page", "source": "utm", "utm_source": "wechat", "utm_medium": "group",
        "utm_campaign": "双11"}


def test_share_links_and_poster_scans_are_told_apart(app, client):
    sharer = UserFactory()
    product, _skus = product_with_skus()
    link = client.get(f"/s/{sharer.referral_code}-p{product.id}")
    assert link.status_code == 303 and "src=" not in link.headers["Location"]
    assert beacon(client, link.headers["Location"]) == {
        "kind": "product", "item": product.id, "source": "referral",
        "ref_code": sharer.referral_code}
    scan = client.get(f"/s/{sharer.referral_code}-p{product.id}?src=qr")
    assert scan.status_code == 303 and "src=qr" in scan.headers["Location"]
    assert beacon(client, scan.headers["Location"]) == {
        "kind": "product", "item": product.id, "source": "poster",
        "ref_code": sharer.referral_code}
    # the QR code of the poster is the short link with src=qr
    with app.test_request_context():
        from shop.referrals import links
        assert links.short_url(sharer.referral_code, f"p{product.id}", src="qr").endswith(
            f"/s/{sharer.referral_code}-p{product.id}?src=qr")


def test_backoffice_error_and_fragment_responses_carry_no_beacon(app, admin_client, client):
    for url in ("/admin/", "/admin/data/", "/admin/orders", "/admin/wallet", "/admin/wallet/packages"):
        assert beacon(admin_client, url) is None, url  # the last three are in shopper blueprints
    missing = client.get("/p/999999")
    assert missing.status_code == 404 and 'hx-post="/t"' not in missing.get_data(as_text=True)
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert 'hx-post="/t"' not in fragment.get_data(as_text=True)


def test_a_beacon_writes_one_row_and_pages_write_none(app):
    client, user = signed_in(app)
    product, _skus = product_with_skus()
    for url in ("/", f"/p/{product.id}", "/cart", "/me"):
        client.get(url)
    assert hits(app) == []  # no GET writes
    token = client.csrf_token()
    response = client.post("/t", data=signed(app, kind="product", item=product.id, source="utm",
                                             utm_source="wechat", utm_campaign="双11"),
                           headers={"X-CSRFToken": token})
    assert response.status_code == 204
    [row] = hits(app)
    assert (row.kind, row.product_id, row.article_id, row.source, row.utm_source,
            row.utm_campaign, row.user_id, row.visitor) == (
        "product", product.id, None, "utm", "wechat", "双11", user.id, visitor_of(client))
    assert row.day == row.created_at.astimezone(ZoneInfo("Asia/Shanghai")).date()


def test_bad_beacons_are_refused_and_write_nothing(app, client, monkeypatch):
    token = client.csrf_token()
    genuine = signed(app, kind="page", source="direct")["t"]
    with app.test_request_context():
        from itsdangerous import URLSafeTimedSerializer
        other_key = URLSafeTimedSerializer("not the shop's key", salt="page-beacon").dumps(
            {"kind": "page", "source": "referral", "ref_code": "ABCDEFGH"})
        expired = tracking._serializer().dumps({"kind": "page"})
    for data in ({"kind": "page", "source": "referral", "ref_code": "ABCDEFGH"},  # unsigned
                 {"t": other_key},                        # signed by someone else
                 {"t": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")},
                 {"t": ""}, {}):
        response = client.post("/t", data=data, headers={"X-CSRFToken": token})
        assert response.status_code == 400, data
    assert client.post("/t", data={"t": genuine}).status_code == 400  # no CSRF token
    monkeypatch.setattr(tracking, "BEACON_MAX_AGE", -1)  # every token is too old
    assert client.post("/t", data={"t": expired}, headers={"X-CSRFToken": token}).status_code == 400
    assert hits(app) == []


def test_add_to_cart_order_payment_and_refund_keep_the_facts(app):
    """...and what the customer has paid to date, on where they came from (LTV)."""
    from shop.orders import services as orders
    from shop.wallet import services as wallet
    from tests.factories import AcquisitionFactory

    client, user = signed_in(app)
    AcquisitionFactory(user_id=user.id, source="utm")
    _product, (sku, _other) = product_with_skus(skus=(("红", 12000, 10), ("蓝", 12000, 0)))
    token = client.csrf_token()
    # landed through a campaign, then a share link: the order credits the last landing
    for values in ({"kind": "page", "source": "utm", "utm_source": "x"},
                   {"kind": "page", "source": "referral", "ref_code": "ABCDEFGH"}):
        assert client.post("/t", data=signed(app, **values),
                           headers={"X-CSRFToken": token}).status_code == 204
    added = client.post_form("/cart/add", {"sku_id": sku.id, "quantity": 2})
    assert added.status_code in (200, 302, 303), added.get_data(as_text=True)[:300]
    cart_hits = [h for h in hits(app) if h.kind == "cart"]
    assert [(h.product_id, h.user_id, h.visitor) for h in cart_hits] == [
        (sku.product_id, user.id, visitor_of(client))]
    with app.app_context():
        from shop.cart.models import CartItem
        db.session.query(CartItem).delete()
        db.session.commit()

    client, user, order_id, total = placed_order(app, client=client, user=user, sku=sku)
    with app.app_context():
        fact = db.session.get(OrderFact, order_id)
        assert (fact.user_id, fact.visitor, fact.source, fact.ref_code, fact.total_minor,
                fact.paid_day, fact.refunded_minor) == (
            user.id, visitor_of(client), "referral", "ABCDEFGH", total, None, 0)
        order = db.session.get(Order, order_id)
        wallet.move(user.id, total, reason="t", ref_type="test", ref_id="top-up")
        orders.pay_with_wallet(order, user.id)
        db.session.commit()
        fact = db.session.get(OrderFact, order_id)
        assert fact.paid_at is not None and fact.paid_day is not None and not fact.counted
        value = db.session.get(Acquisition, user.id)
        assert (value.paid_orders, value.revenue_minor) == (1, total)
        for key in ("r1", "r2"):  # two refunds of 50.00: each taken off once
            orders.refund(db.session.get(Order, order_id), 5000, key=key, reason="t",
                          actor_id=user.id, restock=False)
            db.session.commit()
        assert db.session.get(OrderFact, order_id).refunded_minor == 10000
        db.session.refresh(value)
        assert (value.paid_orders, value.revenue_minor) == (1, total - 10000)


def test_an_account_keeps_where_its_visitor_first_landed(app, client):
    token = client.csrf_token()
    for values in ({"kind": "article", "item": 7, "source": "article"},
                   {"kind": "page", "source": "utm", "utm_campaign": "later"}):
        assert client.post("/t", data=signed(app, **values),
                           headers={"X-CSRFToken": token}).status_code == 204
    response = client.post_form("/register", {"email": "new@example.com", "nickname": "新人",
                                              "password": "password123", "confirm": "password123"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        [row] = db.session.scalars(select(Acquisition)).all()
        assert (row.source, row.article_id, row.utm_campaign) == ("article", 7, None)
        assert db.session.scalar(select(func.count()).select_from(OrderFact)) == 0


def test_days_are_the_shops_local_days(app, monkeypatch):
    """16:30 UTC on 2 November is 00:30 on 3 November in Shanghai: the hit, the order's
    fact and the account are of the 3rd."""
    from datetime import date, datetime, timezone

    from shop.analytics import services

    monkeypatch.setattr(services, "utcnow", lambda: datetime(2026, 11, 2, 16, 30, tzinfo=timezone.utc))
    user = UserFactory()
    with app.app_context():
        services.record_hit("v" * 32, None, "page")
        services.acquired(user, "v" * 32)
        db.session.commit()
        assert db.session.scalar(select(Hit.day)) == date(2026, 11, 3)
        assert db.session.scalar(select(Acquisition.day)) == date(2026, 11, 3)
        assert services.local_day(datetime(2026, 11, 2, 15, 59, tzinfo=timezone.utc)) == date(2026, 11, 2)


def test_an_order_with_nothing_to_pay_is_not_a_sale(app):
    """A points-only redemption is a paid order of 0.00: no fact, so no figure counts it."""
    from tests.conftest import ADDRESS, form_token
    from tests.factories import MallItemFactory
    from tests.points.helpers import give

    item = MallItemFactory(points_price=300)
    client, user = signed_in(app)
    give(app, user.id, 500)
    url = f"/points/mall/{item.id}"
    response = client.post_form(url, dict(ADDRESS, quantity=1, token=form_token(client, url)))
    assert response.status_code == 303
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.total_minor) == ("paid", 0)
        assert db.session.get(OrderFact, order_id) is None
