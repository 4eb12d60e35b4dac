from sqlalchemy import select

from shop.catalog.models import Sku
from shop.db import db
from shop.orders.models import Order
from shop.wallet import services as wallet
from tests.conftest import signed_in
from tests.factories import product_with_skus
from tests.conftest import ADDRESS
from tests.orders.test_checkout import _buyer, _token

EN = {"Accept-Language": "en"}


def _placed(app, quantity=2, pay=False):
    product, (red, _blue) = product_with_skus()
    client, user = _buyer(app, [(red, quantity)])
    client.post_form("/checkout", dict(ADDRESS, token=_token(client)))
    with app.app_context():
        order_id = db.session.scalar(select(Order.id).order_by(Order.id.desc()))
        if pay:
            wallet.move(user.id, 100000, reason="t", ref_type="t", ref_id="1")
            db.session.commit()
    if pay:
        client.post_form(f"/orders/{order_id}/pay/wallet")
    return order_id, red, user


def test_an_admin_ships_a_paid_order_with_carrier_and_tracking(app):
    order_id, _red, _user = _placed(app, pay=True)
    staff, _ = signed_in(app, "admin")  # a delivery order: store staff do not see it
    bad = staff.post_form(f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_number": "x y"}, headers=EN)
    assert bad.status_code == 422 and "Letters, digits and dashes only." in bad.get_data(as_text=True)
    assert staff.post_form(f"/admin/orders/{order_id}/ship",
                           {"carrier": "顺丰", "tracking_number": "SF123"}).status_code == 302
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.carrier, order.tracking_number) == ("shipped", "顺丰", "SF123")
        assert [e.to_status for e in order.events] == ["awaiting_payment", "paid", "shipped"]
    page = staff.get(f"/admin/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "SF123" in page and "Shipped" in page


def test_an_unpaid_order_can_not_ship_but_can_be_cancelled_once(app):
    order_id, red, _user = _placed(app, quantity=3)
    staff, _ = signed_in(app, "admin")
    refused = staff.post_form(f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_number": "SF1"})
    assert refused.status_code == 409
    assert staff.post_form(f"/admin/orders/{order_id}/cancel").status_code == 302
    assert staff.post_form(f"/admin/orders/{order_id}/cancel").status_code == 409
    with app.app_context():
        assert db.session.get(Order, order_id).status == "cancelled"
        assert db.session.get(Sku, red.id).stock == 10


def test_the_order_list_filters(app):
    paid_id, _red, payer = _placed(app, pay=True)
    unpaid_id, _red2, _user = _placed(app)
    staff, _ = signed_in(app, "admin")

    def numbers(query):
        html = staff.get(f"/admin/orders?{query}", headers={"HX-Request": "true", **EN}).get_data(as_text=True)
        with app.app_context():
            return {oid for oid in (paid_id, unpaid_id) if db.session.get(Order, oid).number in html}

    assert numbers("") == {paid_id, unpaid_id}
    assert numbers("status=paid") == {paid_id}
    assert numbers(f"q={payer.email}") == {paid_id}
    assert numbers("method=wallet") == {paid_id}
    assert numbers("method=card") == set()
    assert staff.get("/admin/orders?method=cash", headers=EN).status_code == 422
    with app.app_context():
        assert numbers(f"q={db.session.get(Order, unpaid_id).number}") == {unpaid_id}
    assert numbers("since=2000-01-01&until=2000-01-02") == set()
    reversed_dates = staff.get("/admin/orders?since=2026-02-02&until=2026-02-01", headers=EN)
    assert reversed_dates.status_code == 422
    assert "The end date comes before the start date." in reversed_dates.get_data(as_text=True)
    assert staff.get("/admin/orders?since=2026-02-30", headers=EN).status_code == 422


def test_shoppers_and_editors_can_not_see_orders_in_the_backoffice(app):
    order_id, _red, _user = _placed(app)
    for role in ("shopper", "editor"):
        client, _ = signed_in(app, role)
        assert client.get("/admin/orders").status_code == 403
        assert client.get(f"/admin/orders/{order_id}").status_code == 403
        assert client.post_form(f"/admin/orders/{order_id}/cancel").status_code == 403
    with app.app_context():
        assert db.session.get(Order, order_id).status == "awaiting_payment"
