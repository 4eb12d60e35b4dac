"""The shopper's order list (/orders): every status under exactly one tab, the tabs'
counts, a row's picture and actions, htmx tab switching, the queries a page costs."""

from __future__ import annotations

import re

from shop.db import db
from shop.orders.models import Order, OrderEvent
from tests.conftest import counted_queries
from tests.factories import StoreFactory, UserFactory
from tests.orders.helpers import an_order

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", **EN}


def _counts(html: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(
        r'data-testid="tab-([a-z]+)"[^>]*>[^<]*<span class="count">(\d+)</span>', html)}


def _rows(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-testid="order-(\d+)"', html)}


def _shopper(app):
    user = UserFactory()
    client = app.test_client()
    client.signin(user.email)
    return client, user


def test_every_status_is_under_one_tab_counted_and_listed(app):
    client, user = _shopper(app)
    store = StoreFactory()
    orders = {
        "unpaid": [an_order(app, user=user, status="awaiting_payment", method=None)],
        "unshipped": [an_order(app, user=user, status="paid"),
                      an_order(app, user=user, status="paid"),          # held for its group
                      an_order(app, user=user, status="partly_refunded")],
        "shipped": [an_order(app, user=user, status="shipped", shipped=True),
                    an_order(app, user=user, status="partly_refunded", shipped=True)],
        "pickup": [an_order(app, user=user, status="paid", store=store),
                   an_order(app, user=user, status="paid", store=store)],  # held too
        "done": [an_order(app, user=user, status="completed", shipped=True)],
        "refunds": [an_order(app, user=user, status="refund_requested"),
                    an_order(app, user=user, status="refunded", method=None),
                    an_order(app, user=user, status="partly_refunded", shipped=True)],
    }
    cancelled = an_order(app, user=user, status="cancelled", method=None)
    an_order(app, status="paid")  # another shopper's: in none of these
    with app.app_context():
        for held in (orders["unshipped"][1], orders["pickup"][1]):
            db.session.get(Order, held).hold = "group"
        # completed, then partly refunded: its after-sales, no longer on its way
        db.session.add(OrderEvent(order_id=orders["refunds"][2], from_status="shipped",
                                  to_status="completed", reason="received"))
        db.session.commit()
    html = client.get("/orders", headers=EN).get_data(as_text=True)
    mine = {i for ids in orders.values() for i in ids} | {cancelled}
    assert _counts(html) == dict({key: len(ids) for key, ids in orders.items()}, all=len(mine))
    assert _rows(html) == mine
    for key, ids in orders.items():
        page = client.get(f"/orders?tab={key}", headers=HX)
        fragment = page.get_data(as_text=True)
        assert "<html" not in fragment and "HX-Request" in page.headers["Vary"]
        assert _rows(fragment) == set(ids), key
        assert re.search(rf'data-testid="tab-{key}"\s+aria-current="page"', fragment), key
    assert _rows(client.get("/orders?tab=nonsense", headers=EN).get_data(as_text=True)) == mine


def test_a_row_shows_its_picture_and_the_actions_that_apply_in_both_languages(app):
    client, user = _shopper(app)
    unpaid = an_order(app, user=user, status="awaiting_payment", method=None, lines=3,
                      image=True, title="芒果")
    shipped = an_order(app, user=user, status="shipped", shipped=True)
    html = client.get("/orders?tab=unpaid", headers=EN).get_data(as_text=True)
    row = html[html.index(f'data-testid="order-{unpaid}"'):]
    assert re.search(r'<img src="/media/img\d+x-480\.webp" srcset="[^"]*-240\.webp 240w[^"]*" sizes="72px"\s+'
                     r'width="480" height="480"', row)
    assert "芒果0" in row and "红 × 1" in row and "and 2 other items" in row
    assert f'action="/orders/{unpaid}/cancel"' in row and 'data-testid="pay"' in row
    assert 'value="/orders?tab=unpaid"' in row  # the cancel comes back to this tab
    assert "buy-again" not in row.split("</li>")[0]
    html = client.get("/orders?tab=shipped", headers=EN).get_data(as_text=True)
    assert f'action="/orders/{shipped}/receive"' in html and f'action="/orders/{shipped}/buy-again"' in html
    zh = client.get("/orders", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for label in ("全部", "待付款", "待发货", "待收货", "待自提", "已完成", "退款/售后", "取消订单", "再次购买"):
        assert label in zh, label


def test_a_page_of_20_orders_costs_the_queries_of_a_page_of_1(app):
    client, user = _shopper(app)
    an_order(app, user=user, lines=2, image=True)

    def cost():
        with counted_queries(app) as statements:
            assert client.get("/orders", headers=EN).status_code == 200
        return len(statements)

    one = cost()
    for i in range(21):
        an_order(app, user=user, lines=2, image=True,
                 status=("awaiting_payment", "paid", "completed")[i % 3], method=None)
    assert cost() == one
    html = client.get("/orders?page=2", headers=EN).get_data(as_text=True)
    assert len(_rows(html)) == 2 and 'rel="prev"' in html
    assert client.get("/orders?page=3", headers=EN).status_code == 404
