"""An order's backoffice page: the price as it was made line by line, the customer, where
it goes, its payments and its history in words; and the refund requests to handle."""

from __future__ import annotations

import re

from sqlalchemy import select

from shop.db import db
from shop.orders import services
from shop.orders.models import Order
from tests.conftest import ADDRESS, signed_in
from tests.orders.helpers import an_order
from tests.orders.test_checkout import _buyer, _token
from tests.factories import product_with_skus
from tests.groups.helpers import fund, pay_wallet

EN = {"Accept-Language": "en"}


def test_the_price_breakdown_customer_address_payments_and_history(app):
    _product, (red, blue) = product_with_skus(title="T恤", skus=(("红", 1990, 10), ("蓝", 2590, 5)))
    client, shopper = _buyer(app, [(red, 2), (blue, 1)])
    assert client.post_form("/checkout", dict(ADDRESS, token=_token(client))).status_code == 302
    with app.app_context():
        order = db.session.scalar(select(Order))
        order_id, total = order.id, order.total_minor
        lines = [(line.id, line.shipping_minor, line.paid_minor) for line in order.lines]
    fund(app, shopper.id, total, "detail")
    assert pay_wallet(client, order_id).status_code == 302
    admin, admin_user = signed_in(app, "admin")
    assert admin.post_form(f"/admin/orders/{order_id}/ship",
                           {"carrier": "顺丰", "tracking_number": "SF7"}).status_code == 302
    html = admin.get(f"/admin/orders/{order_id}", headers=EN).get_data(as_text=True)
    # each line: list price, its share of shipping (the one adjustment here), what it paid
    assert total == 7570 and sum(s for _i, s, _p in lines) == 1000
    for line_id, shipping, paid in lines:
        row = re.search(rf'data-testid="line-{line_id}">(.*?)</tr>', html, re.S).group(1)
        assert f"¥{shipping // 100}.{shipping % 100:02d}" in row
        assert f"¥{paid // 100}.{paid % 100:02d}" in row
    assert "¥19.90 × 2 = CN¥39.80" in html
    totals = re.search(r'data-testid="totals">(.*?)</table>', html, re.S).group(1)
    for text in ("Goods at list price", "¥65.70", "Shipping", "¥10.00", "Total", "¥75.70",
                 "Paid by wallet", "Total paid"):
        assert text in totals, text
    assert re.search(r'data-testid="total-paid">CN¥75.70<', html)
    assert re.search(r'data-testid="total-refunded">CN¥0.00<', html)
    assert shopper.nickname in re.search(r'data-testid="customer">(.*?)</p>', html, re.S).group(1)
    assert "文三路 1 号" in re.search(r'data-testid="destination">(.*?)</p>', html, re.S).group(1)
    events = re.search(r'data-testid="events">(.*?)</ol>', html, re.S).group(1)
    assert f"{shopper.nickname} moved it from Awaiting payment to Paid" in events
    assert f"{admin_user.nickname} moved it from Paid to Shipped — 顺丰 SF7" in events
    assert "placed it" in events and "Paid from the wallet" in events
    assert admin.get(f"/admin/orders/{order_id}").status_code == 200  # in Chinese too


def test_refund_requests_wait_in_their_queue_until_handled(app):
    declined = an_order(app, status="refund_requested")
    refunded = an_order(app, status="refund_requested", days_ago=1)
    an_order(app, status="paid")
    admin, _ = signed_in(app, "admin")
    html = admin.get("/admin/orders/aftersales", headers=EN).get_data(as_text=True)
    asks = re.findall(r'data-testid="ask-(\d+)"', html)
    assert sorted(map(int, asks)) == sorted([declined, refunded])
    assert "不想要了" in html and f'href="/admin/orders/{declined}#refund"' in html
    with app.app_context():
        assert services.count_refunds_to_handle(services.Scope(None)) == 2
    assert admin.post_form(f"/admin/orders/{declined}/refund/decline",
                           {"reason": "已发货"}).status_code == 302
    page = admin.get(f"/admin/orders/{refunded}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    assert admin.post_form(f"/admin/orders/{refunded}/refund",
                           {"reason": "同意", "token": token, "line": "0"}).status_code == 302
    html = admin.get("/admin/orders/aftersales", headers=EN).get_data(as_text=True)
    assert "data-testid=\"ask-" not in html and "No refund request is waiting." in html
    with app.app_context():
        assert services.count_refunds_to_handle(services.Scope(None)) == 0
        assert db.session.get(Order, declined).status == "paid"
        assert db.session.get(Order, refunded).status == "refunded"
    # the list's tab links to the same orders
    assert 'href="/admin/orders?status=refund_requested"' in admin.get("/admin/orders").get_data(as_text=True)
    for role in ("shopper", "editor"):
        client, _ = signed_in(app, role)
        assert client.get("/admin/orders/aftersales").status_code == 403


def test_a_refund_request_shows_the_customers_reason_above_the_answers(app):
    order_id = an_order(app, status="refund_requested")
    admin, _ = signed_in(app, "admin")
    page = admin.get(f"/admin/orders/{order_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    ask = page.index('data-testid="refund-ask"')
    assert "The customer asks for a refund: 不想要了" in page[ask:ask + 200]
    assert ask < page.index("Decline the request") < page.index('data-testid="refund-form"')
