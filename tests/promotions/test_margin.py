"""The margin guard counts discounts and commissions together: commissions are capped on
what is paid after every promotion, so a coupon leaves less room for them."""

from datetime import timedelta

from sqlalchemy import select

from shop.db import db, utcnow
from shop.orders.models import Order
from shop.promotions.models import Coupon, UserCoupon
from shop.referrals.models import Commission
from tests.referrals.helpers import chain, order_paid_by


def _give_coupon(app, user_id: int, amount_minor: int) -> None:
    with app.app_context():
        now = utcnow()
        coupon = Coupon(name="减20", currency=app.config["SHOP_CURRENCY"], kind="amount",
                        amount_minor=amount_minor, valid_from=now - timedelta(days=1),
                        valid_until=now + timedelta(days=1))
        db.session.add(coupon)
        db.session.flush()
        db.session.add(UserCoupon(coupon_id=coupon.id, user_id=user_id, claim_no=1, source="grant",
                                  starts_at=coupon.valid_from, expires_at=coupon.valid_until))
        db.session.commit()


def _commissions(app, order_id: int) -> dict[int, tuple[int, int]]:
    with app.app_context():
        return {c.level: (c.uncapped_minor, c.amount_minor) for c in db.session.scalars(
            select(Commission).where(Commission.order_id == order_id))}


def test_a_coupon_leaves_less_room_for_commissions_under_the_margin_floor(app):
    a, b, c = chain(app, level1_bp=1000, level2_bp=500, margin_floor_bp=1000)
    # no coupon: paid 100.00, cost 70.00, floor 10.00 -> room for 20.00, the rates ask 15.00
    plain = order_paid_by(app, c, price=10000, cost=7000)
    assert _commissions(app, plain) == {1: (1000, 1000), 2: (500, 500)}

    _give_coupon(app, c, 2000)
    discounted = order_paid_by(app, c, price=10000, cost=7000)
    with app.app_context():
        order = db.session.get(Order, discounted)
        assert [(a.kind, a.amount_minor) for a in order.adjustments][:1] == [("coupon", -2000)]
        assert order.goods_paid_minor == 8000
        assert db.session.scalar(select(UserCoupon.order_id)) == discounted
    # paid 80.00 for goods costing 70.00, floor 8.00: 2.00 left for both levels, cut in
    # proportion from the 8.00 + 4.00 the rates ask (rounded down)
    assert _commissions(app, discounted) == {1: (800, 133), 2: (400, 66)}
