"""Growth from paid orders, automatic levels both ways, and refunds taking growth back
in proportion (services.py has the rules)."""

import pytest

from shop.db import db
from shop.members import services
from shop.orders.models import Order
from tests.factories import UserFactory
from tests.members.helpers import entries, ladder, member
from tests.referrals.helpers import order_paid_by, refund


def test_a_paid_order_earns_one_growth_per_yuan_of_goods_once(app):
    user = UserFactory()
    assert member(app, user.id) == (0, None)
    first = order_paid_by(app, user.id, price=12990)  # 129.90, free shipping from 99.00
    assert member(app, user.id) == (129, None)
    second = order_paid_by(app, user.id, price=5050)  # 50.50 + 10.00 shipping: 50 growth
    with app.app_context():
        order = db.session.get(Order, second)
        assert order.total_minor == 6050 and order.goods_paid_minor == 5050
        assert services.earn(order) == 0  # paid twice over? earned once
        db.session.commit()
    assert member(app, user.id) == (179, None)
    assert entries(app, user.id) == [(129, "order", str(first)), (50, "order", str(second))]


def test_an_unpaid_order_earns_nothing(app):
    from tests.payments.helpers import placed_order

    _client, user, _order_id, _total = placed_order(app, price=50000)
    assert member(app, user.id) == (0, None) and entries(app, user.id) == []


def test_growth_across_a_threshold_moves_the_member_up_by_itself(app):
    ladder("普通会员", "银卡会员", "金卡会员")
    user = UserFactory()
    order_paid_by(app, user.id, price=49999)  # 499.99: one short of 银卡
    assert member(app, user.id) == (499, "普通会员")
    order_paid_by(app, user.id, price=100)
    assert member(app, user.id) == (500, "银卡会员")
    order_paid_by(app, user.id, price=300000)  # 3000.00 less 银卡's 2 %: 2940 paid, past 金卡
    assert member(app, user.id) == (3440, "金卡会员")


def test_refunds_take_growth_back_in_proportion_and_move_the_member_down(app):
    ladder("普通会员", "银卡会员")
    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=60000)  # 600 growth, 600.00 paid
    assert member(app, user.id) == (600, "银卡会员")
    refund(app, order_id, 20000, "r1")  # a third: 200 back
    assert member(app, user.id) == (400, "普通会员")
    refund(app, order_id, 10001, "r2")  # cumulative 30001 of 60000: 300 (300.01 rounded down)
    assert member(app, user.id) == (300, "普通会员")
    refund(app, order_id, 29999, "r3")  # all of it: everything earned is back
    assert member(app, user.id) == (0, "普通会员")
    assert entries(app, user.id) == [(600, "order", str(order_id)), (-200, "order_refund", f"{order_id}-r1"),
                                     (-100, "order_refund", f"{order_id}-r2"),
                                     (-300, "order_refund", f"{order_id}-r3")]


def test_a_refund_counts_against_the_goods_first_shipping_last(app):
    """growth 50 on goods 50.00; paid 60.00 with shipping; refunding 30.00 takes 30 (3/5
    of the goods), 20.00 more the rest (all the goods), the shipping last nothing."""
    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=5000)
    refund(app, order_id, 3000, "part")
    assert member(app, user.id) == (20, None)
    refund(app, order_id, 2000, "goods")
    assert member(app, user.id) == (0, None)
    refund(app, order_id, 1000, "shipping")
    assert member(app, user.id) == (0, None)


def test_a_refund_seen_twice_takes_growth_back_once(app):
    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=10000)
    refund(app, order_id, 5000, "r1")
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert services.reverse(order, key="r1") == 0
        assert services.reverse(order, key="again") == 0
        db.session.commit()
    assert member(app, user.id) == (50, None)
    assert len(entries(app, user.id)) == 2


def test_other_shoppers_orders_and_refunds_leave_a_member_alone(app):
    alice, bob = UserFactory(), UserFactory()
    order_paid_by(app, alice.id, price=20000)
    bobs = order_paid_by(app, bob.id, price=30000)
    refund(app, bobs, 30000, "all")
    assert member(app, alice.id) == (200, None) and member(app, bob.id) == (0, None)


def test_growth_never_goes_below_zero(app):
    from shop.members.models import Member

    user = UserFactory()
    order_id = order_paid_by(app, user.id, price=10000)
    with app.app_context():  # as if growth were taken elsewhere: 100 earned, 30 left
        services.move(user.id, -70, reason="t", ref_type="test", ref_id="elsewhere")
        db.session.commit()
        with pytest.raises(services.MemberError):
            services.move(user.id, -31, reason="t", ref_type="test", ref_id="too-much")
        assert db.session.get(Member, user.id).growth == 30
    refund(app, order_id, 10000, "all")  # would take back 100: takes what there is
    with app.app_context():
        assert db.session.get(Member, user.id).growth == 0
    assert entries(app, user.id)[-1] == (-30, "order_refund", f"{order_id}-all")


def test_a_points_mall_redemption_earns_no_growth(app):
    from sqlalchemy import update

    from shop.wallet import services as wallet
    from tests.payments.helpers import placed_order

    client, user, order_id, total = placed_order(app, price=30000)
    with app.app_context():
        db.session.execute(update(Order).where(Order.id == order_id).values(kind="redemption"))
        wallet.move(user.id, total, reason="t", ref_type="test", ref_id="topup")
        db.session.commit()
    assert client.post_form(f"/orders/{order_id}/pay/wallet").status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).status == "paid"
    assert member(app, user.id) == (0, None)
