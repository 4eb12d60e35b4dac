"""Carrier, tracking number and shipping date on the shopper's order page; the shopper
confirms receipt (owner only, shipped orders only); the sweeper completes shipped orders
nobody confirmed once the days an admin set have passed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask_babel import format_date
from sqlalchemy import select, update

from shop.db import db, utcnow
from shop.orders import services as order_services
from shop.orders.models import Order, OrderEvent
from shop.sweeper import sweep
from tests.conftest import signed_in
from tests.factories import UserFactory, product_with_skus
from tests.payments.helpers import bought

EN = {"Accept-Language": "en"}


def _paid_order(app):
    """A shopper (signed in on the client) with a paid order: (client, user, order_id)."""
    user = UserFactory()
    client = app.test_client()
    client.signin(user.email)
    _product, (sku, _other) = product_with_skus()
    with app.app_context():
        order_id = bought(user.id, sku.id, uuid.uuid4().hex).id
        db.session.commit()
    return client, user, order_id


def _ship(app, order_id: int) -> None:
    staff, _user = signed_in(app, "admin")  # staff see only their stores' pickups
    response = staff.post_form(f"/admin/orders/{order_id}/ship",
                               {"carrier": "顺丰", "tracking_number": "SF1234567"})
    assert response.status_code == 302


def _state(app, order_id: int) -> tuple:
    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.status, [(e.to_status, e.reason, e.actor_id) for e in order.events]


def test_the_shopper_sees_the_carrier_tracking_number_and_the_shipping_date(app):
    client, _user, order_id = _paid_order(app)
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="shipment"' not in page and 'data-testid="confirm-receipt"' not in page
    with app.app_context():
        order_services.set_setting("auto_complete_days", 3)
        db.session.commit()
    before = utcnow()
    _ship(app, order_id)
    with app.app_context():
        shipped_at = db.session.get(Order, order_id).shipped_at
    assert before <= shipped_at <= utcnow()
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    with app.test_request_context(headers=EN):
        shipped_on, completes_on = (format_date(shipped_at, "medium"),
                                    format_date(shipped_at + timedelta(days=3), "medium"))
    assert shipped_on != completes_on
    assert 'data-testid="carrier">顺丰<' in page
    assert 'data-testid="tracking-number">SF1234567<' in page
    assert f"Shipped on {shipped_on}" in page
    assert 'data-testid="confirm-receipt"' in page
    assert f"Otherwise the order completes itself on {completes_on}." in page


def test_the_owner_confirms_receipt_once(app):
    client, user, order_id = _paid_order(app)
    _ship(app, order_id)
    response = client.post_form(f"/orders/{order_id}/receive")
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order_id}"
    status, events = _state(app, order_id)
    assert status == "completed" and events[-1] == ("completed", "received", user.id)
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "Completed" in page and 'data-testid="confirm-receipt"' not in page
    assert 'data-testid="tracking-number">SF1234567<' in page  # still shown
    again = client.post_form(f"/orders/{order_id}/receive", headers=EN)
    assert again.status_code == 409
    assert _state(app, order_id) == (status, events)


def test_another_shopper_can_not_confirm_it(app):
    _client, _user, order_id = _paid_order(app)
    _ship(app, order_id)
    before = _state(app, order_id)
    stranger, _other = signed_in(app)
    assert stranger.post_form(f"/orders/{order_id}/receive").status_code == 404
    assert app.test_client().post(f"/orders/{order_id}/receive").status_code in (302, 400)
    assert _state(app, order_id) == before == ("shipped", before[1])


def test_an_order_not_shipped_can_not_be_confirmed(app):
    client, _user, order_id = _paid_order(app)
    before = _state(app, order_id)
    assert before[0] == "paid"
    response = client.post_form(f"/orders/{order_id}/receive", headers=EN)
    assert response.status_code == 409
    assert "Only an order on its way can be confirmed as received." in response.get_data(as_text=True)
    assert _state(app, order_id) == before


def test_the_sweeper_completes_shipped_orders_once_the_days_have_passed(app):
    orders = {}
    for name in ("early", "due", "confirmed", "refund"):
        client, _user, order_id = _paid_order(app)
        _ship(app, order_id)
        orders[name] = (client, order_id)
    orders["confirmed"][0].post_form(f"/orders/{orders['confirmed'][1]}/receive")
    orders["refund"][0].post_form(f"/orders/{orders['refund'][1]}/refund-request",
                                  {"reason": "坏了"})

    def shipped_ago(name, age):
        db.session.execute(update(Order).where(Order.id == orders[name][1])
                           .values(shipped_at=utcnow() - age))

    with app.app_context():
        order_services.set_setting("auto_complete_days", 3)
        shipped_ago("early", timedelta(days=3) - timedelta(hours=1))
        for name in ("due", "confirmed", "refund"):
            shipped_ago(name, timedelta(days=3, hours=1))
        db.session.commit()
        assert sweep()["orders_completed"] == 1
        assert sweep()["orders_completed"] == 0  # nothing twice
    statuses = {name: _state(app, order_id)[0] for name, (_c, order_id) in orders.items()}
    assert statuses == {"early": "shipped", "due": "completed", "confirmed": "completed",
                        "refund": "refund_requested"}
    assert _state(app, orders["due"][1])[1][-1] == ("completed", "auto-completed", None)
    with app.app_context():
        shipped_ago("early", timedelta(days=3, minutes=1))
        db.session.commit()
        assert sweep()["orders_completed"] == 1
        reasons = db.session.scalars(select(OrderEvent.reason).where(
            OrderEvent.to_status == "completed").order_by(OrderEvent.id)).all()
    assert reasons == ["received", "auto-completed", "auto-completed"]
    assert _state(app, orders["early"][1])[0] == "completed"


def test_a_partly_refunded_shipped_order_still_completes(app):
    client, user, order_id = _paid_order(app)
    _ship(app, order_id)
    with app.app_context():
        from shop.orders import services

        services.refund(db.session.get(Order, order_id), 100, key=f"part-{order_id}",
                        reason="少一件", actor_id=user.id, restock=False)
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(shipped_at=utcnow() - timedelta(days=11)))
        db.session.commit()
        assert db.session.get(Order, order_id).status == "partly_refunded"
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="confirm-receipt"' in page
    with app.app_context():
        assert sweep()["orders_completed"] == 1
    assert _state(app, order_id)[1][-1] == ("completed", "auto-completed", None)


def test_a_declined_refund_request_gives_the_shopper_the_whole_time_again(app):
    client, _user, order_id = _paid_order(app)
    _ship(app, order_id)
    assert client.post_form(f"/orders/{order_id}/refund-request", {"reason": "坏了"}).status_code == 302
    admin, _ = signed_in(app, "admin")
    assert admin.post_form(f"/admin/orders/{order_id}/refund/decline",
                           {"reason": "照片显示完好"}).status_code == 302
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(shipped_at=utcnow() - timedelta(days=11)))
        db.session.commit()
        assert db.session.get(Order, order_id).status == "shipped"
        assert sweep()["orders_completed"] == 0  # asked a moment ago: ten days from then
        asked = db.session.scalar(select(OrderEvent.created_at).where(
            OrderEvent.order_id == order_id, OrderEvent.to_status == "refund_requested"))
        db.session.execute(update(OrderEvent).where(OrderEvent.order_id == order_id,
                                                    OrderEvent.to_status == "refund_requested")
                           .values(created_at=asked - timedelta(days=10, minutes=1)))
        db.session.commit()
        assert sweep()["orders_completed"] == 1
    assert _state(app, order_id)[0] == "completed"


def test_an_order_delivered_to_an_address_never_completes_unshipped(app):
    from shop.orders import services

    _client, user, order_id = _paid_order(app)
    with app.app_context():
        order = db.session.get(Order, order_id)
        with pytest.raises(services.OrderError):
            services.transition(order, "completed", actor_id=user.id, reason="picked up")
        db.session.rollback()
    assert _state(app, order_id)[0] == "paid"
