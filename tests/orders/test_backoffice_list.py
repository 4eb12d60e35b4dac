"""The backoffice's order list: its columns, its tabs and their counts, search, the
queries a page costs, and the CSV export of what it shows."""

from __future__ import annotations

import csv
import io
import re

from shop.db import db
from shop.orders import services
from shop.orders.models import Order
from tests.conftest import counted_queries, signed_in
from tests.factories import StoreFactory, UserFactory
from tests.orders.helpers import an_order, number_of

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", **EN}


def _tab_counts(html: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(
        r'data-testid="tab-([a-z_]+)"[^>]*>[^<]*<span class="count">(\d+)</span>', html)}


def _shown(app, html: str, ids) -> set[int]:
    return {i for i in ids if number_of(app, i) in html}


def test_tabs_follow_the_state_machine_and_count_in_one_query(app):
    store = StoreFactory()
    ids = {
        "unpaid": an_order(app, status="awaiting_payment"),
        "to_ship": an_order(app, status="paid"),
        "shipped": an_order(app, status="shipped", shipped=True),
        "awaiting_pickup": an_order(app, status="paid", store=store),
        "completed": an_order(app, status="completed", shipped=True),
        "refund_requested": an_order(app, status="refund_requested"),
        "refunded": an_order(app, status="refunded"),
        "cancelled": an_order(app, status="cancelled", method=None),
        "held": an_order(app, status="paid"),  # a group buy still filling holds it back
    }
    with app.app_context():
        db.session.get(Order, ids["held"]).hold = "group"
        db.session.commit()
    partly_shipped = an_order(app, status="partly_refunded", shipped=True)
    admin, _ = signed_in(app, "admin")
    html = admin.get("/admin/orders", headers=EN).get_data(as_text=True)
    counts = _tab_counts(html)
    expected = {key: 1 for key in ids}
    expected["shipped"] = 2  # shipped, and shipped then partly refunded
    assert counts == dict(expected, all=10)
    for key, order_id in ids.items():
        page = admin.get(f"/admin/orders?status={key}", headers=HX).get_data(as_text=True)
        wanted = {order_id, partly_shipped} if key == "shipped" else {order_id}
        assert _shown(app, page, list(ids.values()) + [partly_shipped]) == wanted, key
        assert f'data-testid="tab-{key}"' in page and 'aria-current="page"' in page
    # the counts come from one grouped query, whatever the number of tabs
    with app.app_context():
        with counted_queries(app) as statements:
            assert services.tab_counts(services.Scope(None))["all"] == 10
        assert [s for s in statements if s.startswith("SELECT")] == statements[-1:]  # one
    assert admin.get("/admin/orders?status=lost", headers=EN).status_code == 422


def test_the_columns_customer_items_total_payment_status(app):
    customer = UserFactory(nickname="小红", phone="13912345678")
    order_id = an_order(app, user=customer, lines=5, unit=1250, image=True, title="毛巾")
    admin, _ = signed_in(app, "admin")
    html = admin.get("/admin/orders", headers=EN).get_data(as_text=True)
    row = re.search(rf'<tr data-testid="order-{order_id}">(.*?)</tr>', html, re.S).group(1)
    assert number_of(app, order_id) in row and "小红" in row and "13912345678" in row
    assert row.count("<img ") == 3 and "+2 more" in row and "毛巾0" in row and "毛巾3" not in row
    assert "¥62.50" in row and "Wallet · Succeeded" in row and "Paid" in row
    if "accounts_admin.customer" in app.view_functions:  # the customers' backoffice
        assert f'href="/admin/customers/{customer.id}"' in row


def test_search_by_number_customer_and_product(app):
    alice = UserFactory(nickname="Alice", email="alice@example.com", phone="13700000001")
    bob = UserFactory(nickname="Bob", email="bob@example.com")
    a = an_order(app, user=alice, title="保温杯")
    b = an_order(app, user=bob, title="雨伞")
    admin, _ = signed_in(app, "admin")

    def found(q):
        return _shown(app, admin.get("/admin/orders", query_string={"q": q}, headers=HX)
                      .get_data(as_text=True), [a, b])

    assert found("alice") == {a} and found("ALICE@EXAMPLE") == {a} and found("13700000001") == {a}
    assert found("雨伞") == {b} and found(number_of(app, b)) == {b} and found("Bo") == {b}
    assert found("100%") == set() and found("_") == set()  # LIKE wildcards are text
    assert found("张三") == {a, b}  # who receives it
    assert found("13800138000") == {a, b} and found("0138000") == {a, b}  # and their phone


def test_a_page_costs_the_same_queries_for_3_or_30_orders(app):
    store = StoreFactory()
    staff_user = UserFactory(role="staff")
    from tests.factories import StoreStaffFactory
    StoreStaffFactory(store_id=store.id, user_id=staff_user.id)
    for i in range(3):
        an_order(app, lines=4, image=True, store=store if i % 2 else None)
    admin, _ = signed_in(app, "admin")
    staff = app.test_client()
    staff.signin(staff_user.email)

    def cost(client):
        with counted_queries(app) as statements:
            assert client.get("/admin/orders", headers=EN).status_code == 200
        return len(statements)

    few = (cost(admin), cost(staff))
    for i in range(27):
        an_order(app, lines=4, image=True, store=store if i % 2 else None)
    assert (cost(admin), cost(staff)) == few


def test_the_csv_export_of_the_filtered_list(app):
    sly = UserFactory(nickname="=HYPERLINK(\"http://x\")", phone="+8613800000000")
    paid = an_order(app, user=sly, lines=2, unit=1999, title="@杯子")
    unpaid = an_order(app, status="awaiting_payment", title="雨伞")
    admin, _ = signed_in(app, "admin")
    response = admin.get("/admin/orders/export.csv?status=to_ship", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed and "attachment" in response.headers["Content-Disposition"]
    with app.app_context():  # named by the shop's day, as the orders' dates are shown
        from shop.db import shop_zone, utcnow
        day = f"orders-{utcnow().astimezone(shop_zone()):%Y%m%d}-"
    assert day in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # the BOM: Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert len(data) == 1 and header[0] == "Order number"
    row = dict(zip(header, data[0]))
    assert row["Order number"] == number_of(app, paid)
    assert row["Customer"] == "'=HYPERLINK(\"http://x\")" and row["Customer phone"] == "'+8613800000000"
    assert row["Items"].startswith("'@杯子0") and "×1" in row["Items"]
    assert (row["Total"], row["Goods"], row["Units"], row["Paid by"]) == ("39.98", "39.98", "2", "Wallet")
    everything = admin.get("/admin/orders/export.csv", headers=EN).get_data().decode("utf-8-sig")
    assert number_of(app, unpaid) in everything and number_of(app, paid) in everything
    assert admin.get("/admin/orders/export.csv?since=2026-02-30").status_code == 422
    for role in ("shopper", "editor"):
        client, _ = signed_in(app, role)
        assert client.get("/admin/orders/export.csv").status_code == 403


def test_the_export_streams_in_bounded_batches(app):
    for _ in range(5):
        an_order(app, lines=2)
    with app.test_request_context():
        scope = services.Scope(None)
        with counted_queries(app) as statements:
            batches = list(services.export_batches(scope, services.OrderFilter(), size=2))
        assert [len(b) for b in batches] == [2, 2, 1]
        # a batch: orders, lines, customers, payments, covers (and the session's BEGIN)
        assert len(statements) <= 1 + 3 * 5
        with app.app_context():
            assert sorted(r.order.id for b in batches for r in b) == sorted(
                db.session.scalars(db.select(Order.id)))
