"""Points and orders: earned when paid (rate, product overrides), taken back in
proportion to refunds; spent as a deduction at checkout within the ratio and the cap,
returned when the order is cancelled or refunded."""

from sqlalchemy import select

from shop.db import db
from shop.orders import services as orders
from shop.orders.models import Order, OrderAdjustment
from shop.points import services
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import PointsRateFactory, PointsSettingsFactory, UserFactory, product_with_skus
from tests.payments.helpers import EN, placed_order
from tests.points.helpers import entries, give, points_of
from tests.referrals.helpers import order_paid_by, refund


def test_a_paid_order_earns_points_per_currency_unit_of_the_goods(app):
    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=12_345)  # free shipping from 99.00
    assert points_of(app, user.id) == 123
    assert entries(app, user.id) == [("order", 123)]
    with app.app_context():
        assert services.points_for(db.session.get(Order, order_id)) == 123


def test_shipping_earns_nothing_and_the_rate_is_the_admins(app):
    PointsSettingsFactory(earn_per_unit=2)
    user = UserFactory()
    order_paid_by(app, user.id, price=5_050)  # 50.50 + 10.00 shipping
    assert points_of(app, user.id) == 101


def test_a_product_may_earn_at_its_own_rate(app):
    product, (sku, _other) = product_with_skus(skus=(("红", 10_000, 20), ("蓝", 10_000, 0)))
    PointsRateFactory(product_id=product.id, earn_per_unit=5)
    user = UserFactory()
    order_paid_by(app, user.id, sku=sku)
    assert points_of(app, user.id) == 500


def test_an_unpaid_order_earns_nothing(app):
    _client, user, _order_id, _total = placed_order(app, price=20_000)
    assert points_of(app, user.id) == 0


def test_refunds_take_back_the_same_share_of_the_points(app):
    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=20_000)
    assert points_of(app, user.id) == 200
    refund(app, order_id, 5_000, "r1")  # a quarter of the goods
    assert points_of(app, user.id) == 150
    refund(app, order_id, 15_000, "r2")  # the rest
    assert points_of(app, user.id) == 0
    assert entries(app, user.id) == [("order", 200), ("order_refund", -50), ("order_refund", -150)]


def test_a_refund_of_points_already_spent_leaves_a_recorded_debt(app):
    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=20_000)
    with app.app_context():
        services.move(user.id, -180, reason="spend", ref_type="test", ref_id="s")
        db.session.commit()
    refund(app, order_id, 20_000, "all")
    assert points_of(app, user.id) == -180
    assert entries(app, user.id)[-1] == ("order_refund", -200)


# --- the deduction at checkout ----------------------------------------------------------


def _cart(app, user, price=10_000, quantity=1):
    from shop.cart.models import CartItem

    _product, (sku, _other) = product_with_skus(skus=(("红", price, 20), ("蓝", price, 0)))
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=quantity))
        db.session.commit()
    return sku


def _place(client, **extra):
    return client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout"), **extra))


def _adjustments(app, order_id):
    with app.app_context():
        return [(a.kind, a.amount_minor) for a in db.session.scalars(
            select(OrderAdjustment).where(OrderAdjustment.order_id == order_id)
            .order_by(OrderAdjustment.position))]


def test_checkout_offers_the_deduction_and_htmx_shows_it_applied(app):
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 5_000)
    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    # 20 % of 100.00 at 100 points a yuan: 2,000 points for 20.00
    assert "Use 2000 points to save CN¥20.00" in page
    fragment = client.get("/checkout?use_points=y", headers={**EN, "HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<form" not in html and "Points deduction" in html and "CN¥80.00" in html
    assert "Points deduction" not in client.get("/checkout", headers={**EN, "HX-Request": "true"}).get_data(as_text=True)
    assert points_of(app, user.id) == 5_000  # looking spends nothing


def test_placing_the_order_with_points_takes_them_and_stores_the_step(app):
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 5_000)
    response = _place(client, use_points="y", points="999999", amount="1")  # only the choice counts
    assert response.status_code == 302
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _adjustments(app, order_id) == [("points", -2_000)]
    with app.app_context():
        assert db.session.get(Order, order_id).total_minor == 8_000
    assert points_of(app, user.id) == 3_000
    assert entries(app, user.id)[-1] == ("spend", -2_000)


def test_without_the_choice_no_points_are_used(app):
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 5_000)
    order_id = int(_place(client).headers["Location"].rsplit("/", 1)[1])
    assert _adjustments(app, order_id) == []
    assert points_of(app, user.id) == 5_000


def test_the_cap_and_the_balance_bound_the_deduction(app):
    PointsSettingsFactory(deduct_max_bp=10_000, deduct_cap_points=700, redeem_per_unit=100)
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 5_000)
    order_id = int(_place(client, use_points="y").headers["Location"].rsplit("/", 1)[1])
    assert _adjustments(app, order_id) == [("points", -700)]
    client2, user2 = signed_in(app)
    _cart(app, user2, price=10_000)
    give(app, user2.id, 333, "g2")
    order2 = int(_place(client2, use_points="y").headers["Location"].rsplit("/", 1)[1])
    assert _adjustments(app, order2) == [("points", -333)]
    assert points_of(app, user2.id) == 0


def test_an_uneven_rate_never_charges_more_points_than_the_saving_is_worth(app):
    PointsSettingsFactory(deduct_max_bp=10_000, deduct_cap_points=100_000, redeem_per_unit=30)
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 100)
    order_id = int(_place(client, use_points="y").headers["Location"].rsplit("/", 1)[1])
    assert _adjustments(app, order_id) == [("points", -333)]  # 100 points / 30 a yuan = 3.33
    assert points_of(app, user.id) == 0


def test_points_spent_elsewhere_meanwhile_refuse_the_order_and_change_nothing(app, monkeypatch):
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 2_000)
    token = form_token(client, "/checkout")
    with app.app_context():
        services.move(user.id, -1_500, reason="spend", ref_type="test", ref_id="elsewhere")
        db.session.commit()
    # the price was worked out on the balance read before another tab spent the points
    monkeypatch.setattr(services, "balance", lambda user_id: 2_000)
    response = client.post_form("/checkout", dict(ADDRESS, token=token, use_points="y"), headers=EN)
    assert response.status_code == 409
    assert "Your points have changed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Order.id)) is None
    monkeypatch.undo()
    assert points_of(app, user.id) == 500


def test_a_cancelled_order_gives_its_points_back_once(app):
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 5_000)
    order_id = int(_place(client, use_points="y").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="expired")
        db.session.commit()
    assert points_of(app, user.id) == 5_000
    assert entries(app, user.id)[-1] == ("spend_cancel", 2_000)


def test_a_refund_returns_its_share_of_the_points_used(app):
    client, user = signed_in(app)
    _cart(app, user, price=10_000)
    give(app, user.id, 5_000)
    order_id = int(_place(client, use_points="y").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        from shop.wallet import services as wallet

        wallet.move(user.id, 8_000, reason="t", ref_type="test", ref_id="w")
        orders.pay_with_wallet(db.session.get(Order, order_id), user.id)
        db.session.commit()
    assert points_of(app, user.id) == 3_000 + 80  # 80.00 paid earns 80
    refund(app, order_id, 4_000, "half")
    assert points_of(app, user.id) == 3_080 - 40 + 1_000
    refund(app, order_id, 4_000, "rest")
    assert points_of(app, user.id) == 5_000


def test_the_member_levels_multiplier_applies(app):
    from shop.members import services as members

    user = UserFactory()
    with app.app_context():
        members.save_level(None, name="金卡", threshold=100, discount_bp=0,
                           points_multiplier_bp=15_000, free_shipping=False)
        members.move(user.id, 150, reason="test", ref_type="test", ref_id="g")
        db.session.commit()
    order_paid_by(app, user.id, price=10_001)
    assert points_of(app, user.id) == 150  # 100 points x 1.5


def test_an_order_points_pay_in_full_is_paid_at_once(app):
    PointsSettingsFactory(deduct_max_bp=10_000, deduct_cap_points=100_000)
    client, user = signed_in(app)
    _cart(app, user, price=10_000)  # free shipping from 99.00
    give(app, user.id, 20_000)
    order_id = int(_place(client, use_points="y").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.total_minor) == ("paid", 0)
        assert order.events[-1].reason == "nothing to pay"
    assert points_of(app, user.id) == 10_000  # a paid order of nothing in money earns none
    with app.app_context():  # nor does it do the order tasks
        assert [t.completion for t in services.tasks_of(user.id)
                if t.code in ("first_order", "weekly_order")] == [None, None]
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="status">Paid<' in page
    assert 'data-testid="pay-card"' not in page and 'data-testid="pay-wallet"' not in page


def test_the_multiplier_is_the_level_before_the_orders_own_growth(app):
    from shop.members import services as members

    user = UserFactory()
    with app.app_context():
        members.save_level(None, name="金卡", threshold=100, discount_bp=0,
                           points_multiplier_bp=15_000, free_shipping=False)
        members.move(user.id, 90, reason="test", ref_type="test", ref_id="g")
        db.session.commit()
    order_paid_by(app, user.id, price=10_000)  # lifts the member to 金卡: earned at x1
    assert points_of(app, user.id) == 100
    order_paid_by(app, user.id, price=10_000)  # now at 金卡: x1.5
    assert points_of(app, user.id) == 250


def test_an_order_earns_at_most_what_one_entry_may_move(app):
    PointsSettingsFactory(earn_per_unit=1000)
    user = UserFactory()
    order_paid_by(app, user.id, price=1_100_000)  # 11,000.00 x 1000 would be 11 million
    assert points_of(app, user.id) == services.MAX_POINTS
