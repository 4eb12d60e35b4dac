import re

from sqlalchemy import func, select

from shop.cart.models import CartItem
from shop.catalog.models import Sku, StockMovement
from shop.catalog.services import move_stock
from shop.db import db
from shop.orders.models import Order, OrderEvent
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import product_with_skus

EN = {"Accept-Language": "en"}


def _buyer(app, skus_and_quantities):
    client, user = signed_in(app)
    with app.app_context():
        for sku, quantity in skus_and_quantities:
            db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=quantity))
        db.session.commit()
    return client, user


def _token(client) -> str:
    return form_token(client, "/checkout")


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_checkout_places_one_order_with_snapshots_stock_and_an_event(app):
    product, (red, blue) = product_with_skus(title="T恤", skus=(("红", 1990, 10), ("蓝", 2590, 5)))
    client, user = _buyer(app, [(red, 2), (blue, 1)])
    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    assert "Shipping" in page and "¥65.70" in page and "¥75.70" in page  # 65.70 + 10.00 shipping
    token = _token(client)
    response = client.post_form("/checkout", dict(ADDRESS, token=token, total="0.01", price="1"))
    assert response.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.subtotal_minor, order.total_minor, order.status) == (6570, 7570, "awaiting_payment")
        assert [(l.title, l.sku_label, l.unit_price_minor, l.quantity) for l in order.lines] == [
            ("T恤", "红", 1990, 2), ("T恤", "蓝", 2590, 1)]
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("shipping", 1000)]
        assert [(e.from_status, e.to_status) for e in order.events] == [(None, "awaiting_payment")]
        assert (db.session.get(Sku, red.id).stock, db.session.get(Sku, blue.id).stock) == (8, 4)
        assert db.session.scalar(select(func.count()).select_from(CartItem)) == 0
        order_id = order.id
    detail = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "Awaiting payment" in detail and "¥75.70" in detail and "文三路" in detail
    # the same form sent again (a double tap) is the same order
    again = client.post_form("/checkout", dict(ADDRESS, token=token))
    assert again.headers["Location"] == f"/orders/{order_id}"
    assert _count(app, Order) == 1 and _count(app, StockMovement, StockMovement.reason == "order") == 2


def test_free_shipping_from_the_threshold_set_by_an_admin(app, admin_client):
    from shop.shipping.models import ShippingTemplate

    response = admin_client.post_form("/admin/shipping/templates/new",
                                      {"name": "标准快递", "fee": "8", "free_from": "30"})
    assert response.status_code == 303
    with app.app_context():
        template_id = db.session.scalar(select(ShippingTemplate.id).where(ShippingTemplate.is_default))
    refused = admin_client.post_form(f"/admin/shipping/templates/{template_id}",
                                     {"name": "标准快递", "fee": "-1", "free_from": "30",
                                      "is_default": "y"}, headers=EN)
    assert refused.status_code == 422 and "cannot be negative" in refused.get_data(as_text=True)
    product, (red, _blue) = product_with_skus()
    client, _user = _buyer(app, [(red, 1)])
    assert "¥27.90" in client.get("/checkout").get_data(as_text=True)  # 19.90 + 8.00
    with app.app_context():
        db.session.execute(CartItem.__table__.update().values(quantity=2))
        db.session.commit()
    html = client.get("/checkout", headers=EN).get_data(as_text=True)
    assert "Shipping" not in html and "¥39.80" in html


def test_bad_address_or_token_changes_nothing(app):
    product, (red, _blue) = product_with_skus()
    client, _user = _buyer(app, [(red, 1)])
    token = _token(client)
    for overrides in [{"phone": "12345"}, {"name": ""}, {"token": "not-a-token"}, {"detail": "x" * 201}]:
        response = client.post_form("/checkout", {**ADDRESS, "token": token, **overrides}, headers=EN)
        assert response.status_code == 422, overrides
    assert _count(app, Order) == 0
    with app.app_context():
        assert db.session.get(Sku, red.id).stock == 10


def test_a_sold_out_line_refuses_the_whole_order(app):
    product, (red, blue) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 2590, 1)))
    client, _user = _buyer(app, [(red, 1), (blue, 1)])
    token = _token(client)
    with app.app_context():  # sold meanwhile, through the stock ledger
        move_stock(blue.id, -1, reason="order", ref_type="test", ref_id="sold")
        db.session.commit()
    response = client.post_form("/checkout", dict(ADDRESS, token=token), headers=EN)
    assert response.status_code == 409
    assert _count(app, Order) == 0
    with app.app_context():
        assert db.session.get(Sku, red.id).stock == 10


def test_another_shoppers_order_is_a_404(app):
    product, (red, _blue) = product_with_skus()
    client, _user = _buyer(app, [(red, 1)])
    client.post_form("/checkout", dict(ADDRESS, token=_token(client)))
    with app.app_context():
        order_id = db.session.scalar(select(Order.id))
    stranger, _other = signed_in(app)
    assert stranger.get(f"/orders/{order_id}").status_code == 404
    assert client.get(f"/orders/{order_id}").status_code == 200
    assert app.test_client().get(f"/orders/{order_id}").status_code == 302  # sign in first


def test_the_sweeper_cancels_expired_orders_and_returns_stock_once(app):
    from datetime import timedelta

    from shop.db import utcnow

    product, (red, _blue) = product_with_skus()
    client, _user = _buyer(app, [(red, 3)])
    client.post_form("/checkout", dict(ADDRESS, token=_token(client)))
    with app.app_context():
        db.session.execute(Order.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    runner = app.test_cli_runner()
    assert "orders_cancelled: 1" in runner.invoke(args=["shop", "sweep"]).output
    assert "orders_cancelled: 0" in runner.invoke(args=["shop", "sweep"]).output
    with app.app_context():
        assert db.session.get(Sku, red.id).stock == 10
        order = db.session.scalar(select(Order))
        assert order.status == "cancelled"
        assert [e.to_status for e in db.session.scalars(select(OrderEvent).order_by(OrderEvent.id))] == [
            "awaiting_payment", "cancelled"]


def test_the_state_machine_refuses_illegal_moves(app):
    import pytest

    from shop.orders import services

    product, (red, _blue) = product_with_skus()
    client, _user = _buyer(app, [(red, 1)])
    client.post_form("/checkout", dict(ADDRESS, token=_token(client)))
    with app.test_request_context():
        order = db.session.scalar(select(Order))
        with pytest.raises(services.OrderError):
            services.transition(order, "shipped", actor_id=None, reason="skipping payment")
        services.transition(order, "paid", actor_id=None, reason="test")
        with pytest.raises(services.OrderError):
            services.transition(order, "cancelled", actor_id=None, reason="too late")
        db.session.commit()
        assert [e.to_status for e in order.events] == ["awaiting_payment", "paid"]


def _badge_of(client) -> str:
    html = client.get("/orders", headers=EN).get_data(as_text=True)
    return re.search(r'<span id="cart-badge" class="badge"[^>]*>(.*?)</span>', html).group(1)


def test_the_badge_reads_0_once_an_order_empties_the_cart(app):
    _product, (red, _blue) = product_with_skus()
    client, _user = signed_in(app)
    client.post_form("/cart/add", {"sku_id": red.id, "quantity": 2})
    assert _badge_of(client).startswith("2")
    assert client.post_form("/checkout", dict(ADDRESS, token=_token(client))).status_code == 302
    assert _badge_of(client) == ""  # no count in the tab bar


def test_buy_now_buys_that_item_only_and_leaves_the_cart_as_it_was(app):
    _product, (red, blue) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 2590, 5)))
    client, user = _buyer(app, [(red, 1)])
    chosen = client.post_form("/cart/add", {"sku_id": blue.id, "quantity": 2, "buy": "y"})
    assert chosen.headers["Location"] == "/checkout?now=1"
    page = client.get("/checkout?now=1", headers=EN).get_data(as_text=True)
    assert "× 2" in page and "× 1" not in page and "¥51.80" in page
    assert "× 1" in client.get("/checkout", headers=EN).get_data(as_text=True)  # the cart's checkout
    placed = client.post_form("/checkout?now=1", dict(ADDRESS, token=form_token(client, "/checkout?now=1")))
    assert placed.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert [(l.sku_id, l.quantity) for l in order.lines] == [(blue.id, 2)]
        assert db.session.execute(select(CartItem.sku_id, CartItem.quantity)).all() == [(red.id, 1)]
    again = client.get("/checkout?now=1", headers=EN)  # bought: nothing is chosen any more
    assert again.status_code == 302 and again.headers["Location"] == "/cart"
