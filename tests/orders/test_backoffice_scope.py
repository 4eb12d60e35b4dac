"""Store staff see and act on the orders collected at their stores only: the list, the
tabs' counts, the export, an order's page and every action on it, the batch shipping,
the refunds queue. Admins see everything. One function decides (order_scope)."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from shop.db import db
from shop.orders import services
from shop.orders.models import Order, OrderEvent
from tests.conftest import signed_in
from tests.factories import StoreFactory, UserFactory
from tests.orders.helpers import an_order, number_of
from tests.stores.helpers import staff_at

EN = {"Accept-Language": "en"}


def _client(app, user):
    client = app.test_client()
    client.signin(user.email)
    return client


def _world(app):
    mine, theirs = StoreFactory(), StoreFactory()
    orders = {"mine": an_order(app, store=mine), "mine_unpaid": an_order(app, store=mine, status="awaiting_payment"),
              "theirs": an_order(app, store=theirs), "delivery": an_order(app),
              "theirs_refund": an_order(app, store=theirs, status="refund_requested"),
              "mine_refund": an_order(app, store=mine, status="refund_requested")}
    return mine, theirs, orders


def _snapshot(app):
    with app.app_context():
        return (sorted(db.session.execute(select(Order.id, Order.status, Order.carrier)).all()),
                db.session.scalar(select(func.count()).select_from(OrderEvent)))


def test_the_scope_is_decided_in_one_place(app):
    mine, theirs, _orders = _world(app)
    member, both = staff_at(mine), staff_at(mine, theirs)
    admin, unbound, editor = (UserFactory(role=role) for role in ("admin", "staff", "editor"))
    with app.app_context():
        assert services.order_scope(admin).everything
        assert services.order_scope(member).store_ids == {mine.id}
        assert services.order_scope(both).store_ids == {mine.id, theirs.id}
        assert services.order_scope(unbound).store_ids == frozenset()
        assert services.order_scope(editor).store_ids == frozenset()


def test_staff_see_their_stores_orders_in_the_list_the_counts_and_the_export(app):
    mine, _theirs, orders = _world(app)
    staff = _client(app, staff_at(mine))
    html = staff.get("/admin/orders", headers=EN).get_data(as_text=True)
    shown = {k for k, i in orders.items() if number_of(app, i) in html}
    assert shown == {"mine", "mine_unpaid", "mine_refund"}
    assert 'data-testid="tab-all"' in html and '<span class="count">3</span>' in html
    colleague = staff_at(mine)
    with app.app_context():
        scope = services.order_scope(colleague)
        counts = services.tab_counts(scope)
        assert (counts["all"], counts["awaiting_pickup"], counts["unpaid"], counts["refund_requested"]) == (3, 1, 1, 1)
        assert services.count_refunds_to_handle(scope) == 1
        assert services.count_to_ship(scope) == 0
        assert services.count_refunds_to_handle(services.Scope(None)) == 2
        assert services.count_to_ship(services.Scope(None)) == 1
    csv_text = staff.get("/admin/orders/export.csv").get_data().decode("utf-8-sig")
    assert {k for k, i in orders.items() if number_of(app, i) in csv_text} == shown
    # searching for another store's order by its number finds nothing
    found = staff.get("/admin/orders", query_string={"q": number_of(app, orders["theirs"])}, headers=EN)
    assert f'data-testid="order-{orders["theirs"]}"' not in found.get_data(as_text=True)
    assert "No orders match." in found.get_data(as_text=True)
    # a staff member of no store sees no order at all; an admin sees all six
    nobody, _ = signed_in(app, "staff")
    html = nobody.get("/admin/orders", headers=EN).get_data(as_text=True)
    assert not {k for k, i in orders.items() if number_of(app, i) in html}
    admin, _ = signed_in(app, "admin")
    html = admin.get("/admin/orders", headers=EN).get_data(as_text=True)
    assert {k for k, i in orders.items() if number_of(app, i) in html} == set(orders)


def test_another_stores_order_is_a_404_for_every_page_and_action(app):
    mine, _theirs, orders = _world(app)
    staff = _client(app, staff_at(mine))
    assert staff.get(f"/admin/orders/{orders['mine']}").status_code == 200
    before = _snapshot(app)
    for key in ("theirs", "delivery", "theirs_refund"):
        order_id = orders[key]
        assert staff.get(f"/admin/orders/{order_id}").status_code == 404
        assert staff.post_form(f"/admin/orders/{order_id}/ship",
                               {"carrier": "顺丰", "tracking_number": "SF9"}).status_code == 404
        assert staff.post_form(f"/admin/orders/{order_id}/cancel").status_code == 404
    unpaid_theirs = an_order(app, store=_theirs, status="awaiting_payment")
    assert staff.post_form(f"/admin/orders/{unpaid_theirs}/cancel").status_code == 404
    after = _snapshot(app)
    # nothing moved (the one new row is the order made since, untouched)
    assert [r for r in after[0] if r[0] != unpaid_theirs] == before[0] and after[1] == before[1] + 1
    assert (unpaid_theirs, "awaiting_payment", None) in after[0]
    # their own store's unpaid order they may cancel
    assert staff.post_form(f"/admin/orders/{orders['mine_unpaid']}/cancel").status_code == 302
    with app.app_context():
        assert db.session.get(Order, orders["mine_unpaid"]).status == "cancelled"


def test_the_refunds_queue_is_scoped_too(app):
    mine, _theirs, orders = _world(app)
    staff = _client(app, staff_at(mine))
    html = staff.get("/admin/orders/aftersales", headers=EN).get_data(as_text=True)
    assert f'data-testid="ask-{orders["mine_refund"]}"' in html
    assert f'data-testid="ask-{orders["theirs_refund"]}"' not in html


def test_batch_shipping_refuses_another_stores_orders_to_staff(app):
    mine, theirs, orders = _world(app)
    staff = _client(app, staff_at(mine))
    data = f"{number_of(app, orders['theirs'])},顺丰,SF1\n{number_of(app, orders['mine'])},顺丰,SF2\n".encode()
    before = _snapshot(app)
    page = staff.post_form("/admin/orders/ship-batch", {"file": (io.BytesIO(data), "ship.csv")},
                           headers=EN, content_type="multipart/form-data").get_data(as_text=True)
    assert "This order is not one of your stores&#39;." in page
    assert "picked up at the store; it does not ship" in page  # their own: a pickup
    assert 'data-testid="batch-confirm"' not in page
    assert _snapshot(app) == before
