"""A level's discount and free shipping: in the checkout breakdown, stored on the
placed order and in its total; nothing for shoppers without a level."""

from sqlalchemy import select

from shop.cart.models import CartItem
from shop.db import db
from shop.members import services
from shop import pricing
from shop.orders.models import Order
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import product_with_skus
from tests.members.helpers import give, ladder, member

EN = {"Accept-Language": "en"}


def _checkout(app, client, user, price: int):
    """Put one unit at `price` in the cart; the checkout page (EN), then the placed order's
    (total, [(kind, amount)])."""
    _product, (sku, _other) = product_with_skus(skus=(("红", price, 10), ("蓝", price, 0)))
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
        db.session.commit()
    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    response = client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout")))
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        return page, order.total_minor, [(a.kind, a.amount_minor) for a in order.adjustments]


def test_a_levels_discount_shows_at_checkout_and_is_kept_on_the_order(app):
    ladder("普通会员", "银卡会员", "金卡会员")
    client, user = signed_in(app)
    give(app, user.id, 600)  # 银卡: 2 % off, shipping paid
    page, total, steps = _checkout(app, client, user, 1999)
    # 19.99 less 0.39 (2 % is 0.3998, rounded down) plus 10.00 shipping
    assert "Member discount" in page and "-CN¥0.39" in page and "Shipping" in page and "¥29.60" in page
    assert (total, steps) == (2960, [("member_discount", -39), ("shipping", 1000)])
    detail = client.get(f"/orders/{_last_order(app)}", headers=EN).get_data(as_text=True)
    assert "Member discount" in detail and "-CN¥0.39" in detail


def test_a_level_with_free_shipping_waives_the_fee(app):
    ladder("普通会员", "银卡会员", "金卡会员")
    client, user = signed_in(app)
    give(app, user.id, 2000)  # 金卡: 5 % off and free shipping
    page, total, steps = _checkout(app, client, user, 5000)
    assert "Member discount" in page and "-CN¥2.50" in page and "Shipping" not in page and "¥47.50" in page
    assert (total, steps) == (4750, [("member_discount", -250)])


def test_growth_is_earned_on_what_was_paid_after_the_discount(app):
    from tests.referrals.helpers import order_paid_by

    ladder("普通会员", "银卡会员", "金卡会员")
    _client, user = signed_in(app)
    give(app, user.id, 2000)
    order_paid_by(app, user.id, price=10000)  # 100.00 less 5 %: 95.00 paid, 95 growth
    assert member(app, user.id) == (2095, "金卡会员")


def test_shoppers_without_a_level_pay_the_full_price_and_shipping(app):
    ladder("银卡会员")  # from 500 growth
    client, user = signed_in(app)
    give(app, user.id, 499)
    page, total, steps = _checkout(app, client, user, 5000)
    assert "Member discount" not in page and "Shipping" in page
    assert (total, steps) == (6000, [("shipping", 1000)])


def test_the_price_step_gives_a_visitor_nothing_and_a_member_their_level(app):
    ladder("普通会员", "金卡会员")
    _client, user = signed_in(app)
    give(app, user.id, 2500)
    with app.app_context():
        visitor = pricing.price([(1, 1, 5000)], None)
        assert [a.kind for a in visitor.adjustments] == ["shipping"] and not visitor.free_shipping
        priced = pricing.price([(1, 2, 5000)], user.id)
        assert [(a.kind, a.amount_minor) for a in priced.adjustments] == [("member_discount", -500)]
        assert priced.free_shipping and priced.total_minor == 9500
        assert services.benefits(None) == services.Benefits(None, 0, 10_000, False)
        perks = services.benefits(user.id)
        assert (perks.level.name, perks.discount_bp, perks.points_multiplier_bp, perks.free_shipping) == (
            "金卡会员", 500, 15_000, True)


def _last_order(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1))


def test_a_level_from_zero_growth_serves_shoppers_who_have_never_paid(app):
    from tests.factories import MemberLevelFactory

    MemberLevelFactory(name="新人", threshold=0, discount_bp=1000)
    client, user = signed_in(app)
    page, total, steps = _checkout(app, client, user, 10000)
    assert "Member discount" in page and "-CN¥10.00" in page
    assert (total, steps) == (9000 + 1000, [("member_discount", -1000), ("shipping", 1000)])
    assert member(app, user.id) == (0, "新人")
