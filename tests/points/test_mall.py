"""The points mall: a redemption is an order like any other, its points and a unit of
the item's own stock taken in the same transaction, within the per-user limit."""

import re

from sqlalchemy import func, select

from shop.catalog.models import Sku
from shop.db import db
from shop.orders import services as orders
from shop.orders.models import Order
from shop.points import services
from shop.points.models import MallItem, MallStockEntry, Redemption
from tests.conftest import ADDRESS, counted_queries, form_token, signed_in
from tests.factories import MallItemFactory, UserFactory
from tests.payments.helpers import EN
from tests.points.helpers import entries, give, points_of
from tests.referrals.helpers import refund


def _redeem(client, item_id, quantity=1, **extra):
    url = f"/points/mall/{item_id}"
    return client.post_form(url, dict(ADDRESS, quantity=quantity, token=form_token(client, url), **extra),
                            headers=EN)


def _state(app, item_id):
    """(mall stock, SKU stock, orders, redemptions) with the mall ledger checked."""
    with app.app_context():
        item = db.session.get(MallItem, item_id)
        moved = db.session.scalar(select(func.coalesce(func.sum(MallStockEntry.delta), 0))
                                  .where(MallStockEntry.item_id == item_id))
        assert moved == item.stock  # from the factory's opening row
        return (item.stock, db.session.get(Sku, item.sku_id).stock,
                db.session.scalar(select(func.count()).select_from(Order)),
                db.session.scalar(select(func.count()).select_from(Redemption)))


def test_a_points_only_redemption_is_a_paid_order_at_once(app):
    item = MallItemFactory(points_price=300)
    client, user = signed_in(app)
    give(app, user.id, 500)
    response = _redeem(client, item.id)
    assert response.status_code == 303
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.kind, order.status, order.total_minor) == ("redemption", "paid", 0)
        assert [line.quantity for line in order.lines] == [1]
    assert _state(app, item.id) == (9, 49, 1, 1)
    assert points_of(app, user.id) == 200  # a redemption earns no points
    assert entries(app, user.id)[-1] == ("spend", -300)
    assert "300 points used" in client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)


def test_points_and_cash_wait_for_the_cash_and_give_all_back_when_cancelled(app):
    item = MallItemFactory(points_price=100, cash_minor=990)
    client, user = signed_in(app)
    give(app, user.id, 100)
    order_id = int(_redeem(client, item.id).headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.total_minor, order.subtotal_minor) == ("awaiting_payment", 990, 990)
    assert points_of(app, user.id) == 0
    with app.app_context():
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="expired")
        db.session.commit()
    assert points_of(app, user.id) == 100
    assert _state(app, item.id) == (10, 50, 1, 1)
    with app.app_context():  # the limit counts what was not given back
        assert services.redeemed_count(user.id, item.id) == 0


def test_the_cash_part_paid_from_the_wallet_and_a_refund_returns_its_share_of_points(app):
    from shop.wallet import services as wallet

    item = MallItemFactory(points_price=100, cash_minor=1000)
    client, user = signed_in(app)
    give(app, user.id, 100)
    order_id = int(_redeem(client, item.id).headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        wallet.move(user.id, 1000, reason="t", ref_type="test", ref_id="w")
        db.session.commit()
    assert client.post_form(f"/orders/{order_id}/pay/wallet").status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).status == "paid"
    refund(app, order_id, 500, "half")
    assert points_of(app, user.id) == 50


def test_not_enough_points_is_refused_and_changes_nothing(app):
    item = MallItemFactory(points_price=300)
    client, user = signed_in(app)
    give(app, user.id, 299)
    response = _redeem(client, item.id)
    assert response.status_code == 409
    assert "You do not have enough points." in response.get_data(as_text=True)
    assert _state(app, item.id) == (10, 50, 0, 0)
    assert points_of(app, user.id) == 299


def test_the_per_user_limit_holds(app):
    item = MallItemFactory(points_price=10, per_user_limit=2)
    client, user = signed_in(app)
    give(app, user.id, 100)
    assert _redeem(client, item.id, quantity=2).status_code == 303
    response = _redeem(client, item.id)
    assert response.status_code == 409
    assert "You can redeem at most 2 of this item." in response.get_data(as_text=True)
    assert points_of(app, user.id) == 80


def test_the_mall_stock_runs_out_before_the_warehouse(app):
    item = MallItemFactory(points_price=10, stock=0)
    client, user = signed_in(app)
    give(app, user.id, 100)
    response = _redeem(client, item.id)
    assert response.status_code == 409 and "This item has just run out." in response.get_data(as_text=True)
    assert _state(app, item.id) == (0, 50, 0, 0)


def test_a_double_tap_makes_one_redemption(app):
    item = MallItemFactory(points_price=10, per_user_limit=0)
    client, user = signed_in(app)
    give(app, user.id, 100)
    url = f"/points/mall/{item.id}"
    form = dict(ADDRESS, quantity=1, token=form_token(client, url))
    first, second = client.post_form(url, form), client.post_form(url, form)
    assert first.headers["Location"] == second.headers["Location"]
    assert points_of(app, user.id) == 90


def test_bad_input_and_withdrawn_items(app):
    item = MallItemFactory(points_price=10, active=False)
    client, user = signed_in(app)
    give(app, user.id, 100)
    assert client.get(f"/points/mall/{item.id}").status_code == 404
    live = MallItemFactory(points_price=10)
    assert _redeem(client, live.id, quantity=0).status_code == 422
    assert _redeem(client, live.id, quantity="1; drop").status_code == 422
    assert points_of(app, user.id) == 100


def test_the_mall_costs_the_same_queries_with_one_or_eight_items(app):
    client = app.test_client()
    MallItemFactory()
    client.get("/points/mall")  # warm: the session, the chrome
    with counted_queries(app) as few:
        assert client.get("/points/mall").get_data(as_text=True).count('class="card"') == 1
    for _ in range(7):
        MallItemFactory()
    with counted_queries(app) as many:
        assert client.get("/points/mall").get_data(as_text=True).count('class="card"') == 8
    assert len(many) == len(few), many


def test_the_mall_lists_what_is_offered(app):
    MallItemFactory(points_price=100, cash_minor=990)
    MallItemFactory(points_price=42, active=False)
    html = app.test_client().get("/points/mall", headers=EN).get_data(as_text=True)
    assert "100 points + CN¥9.90" in html and "42 points" not in html


def test_a_points_only_redemption_refunded_gives_back_points_stock_and_limit(app, admin_client):
    item = MallItemFactory(points_price=300)
    client, user = signed_in(app)
    give(app, user.id, 300)
    order_id = int(_redeem(client, item.id).headers["Location"].rsplit("/", 1)[1])
    page = admin_client.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    response = admin_client.post_form(f"/admin/orders/{order_id}/refund", {
        "amount": "0.00", "reason": "不想要了", "token": token, "restock": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        assert db.session.get(Order, order_id).status == "refunded"
        assert services.redeemed_count(user.id, item.id) == 0
    assert _state(app, item.id) == (10, 50, 1, 1)
    assert points_of(app, user.id) == 300
    assert entries(app, user.id)[-1] == ("spend_return", 300)


def test_a_cash_redemption_refunded_in_full_gives_back_the_stock_and_the_limit(app):
    from shop.wallet import services as wallet

    item = MallItemFactory(points_price=100, cash_minor=1000)
    client, user = signed_in(app)
    give(app, user.id, 100)
    order_id = int(_redeem(client, item.id).headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        wallet.move(user.id, 1000, reason="t", ref_type="test", ref_id="w")
        db.session.commit()
    assert client.post_form(f"/orders/{order_id}/pay/wallet").status_code == 302
    refund(app, order_id, 400, "part")
    admin = UserFactory(role="admin")
    with app.app_context():
        assert services.redeemed_count(user.id, item.id) == 1  # a part refund keeps it
        orders.refund(db.session.get(Order, order_id), 600, key="rest", reason="退货",
                      actor_id=admin.id, restock=True)
        db.session.commit()
    assert points_of(app, user.id) == 100
    with app.app_context():
        assert services.redeemed_count(user.id, item.id) == 0
        assert db.session.get(MallItem, item.id).stock == 10


def test_a_full_refund_without_the_goods_back_keeps_the_unit_and_the_limit(app):
    item = MallItemFactory(points_price=100)
    client, user = signed_in(app)
    give(app, user.id, 100)
    order_id = int(_redeem(client, item.id).headers["Location"].rsplit("/", 1)[1])
    refund(app, order_id, 0, "lost")  # restock=False: the parcel was lost
    assert points_of(app, user.id) == 100
    with app.app_context():
        assert services.redeemed_count(user.id, item.id) == 1
        assert db.session.get(MallItem, item.id).stock == 9
