"""Commissions: who earns, how much, the margin guard, settlement and refunds."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.catalog import services as catalog
from shop.catalog.models import Product, Sku
from shop.db import db
from shop.referrals import services
from shop.referrals.models import Commission, CommissionEntry, Distributor, OrderReferral
from tests.factories import (CommissionRateFactory, DistributorFactory, DistributorLevelFactory,
                             product_with_skus)
from tests.referrals.helpers import (balances, chain, commissions, order_paid_by, refund,
                                     settle_all)


def test_a_chain_a_b_c_where_c_buys_pays_exactly_the_level_1_and_level_2_rates(app):
    a, b, c = chain(app, level1_bp=1000, level2_bp=500)
    order_id = order_paid_by(app, c, price=12345)
    # level 1: B (who referred C), 10 % of 123.45 rounded down; level 2: A, 5 %
    assert commissions(app, order_id) == {1: (b, 1234, 0), 2: (a, 617, 0)}
    assert balances(app, b) == (1234, 0) and balances(app, a) == (617, 0)
    assert balances(app, c) == (0, 0)


def test_nobody_earns_without_a_referrer_and_a_buyer_never_earns_on_their_own_order(app):
    (solo,) = chain(app, n=1)
    order_id = order_paid_by(app, solo)
    assert commissions(app, order_id) == {}
    with app.app_context():
        assert db.session.get(OrderReferral, order_id) is None


def test_self_purchase_earns_level_1_only_when_the_admin_enables_it(app):
    a, b = chain(app, n=2, self_purchase=True)
    order_id = order_paid_by(app, b)
    assert commissions(app, order_id) == {1: (b, 1000, 0), 2: (a, 500, 0)}
    with app.app_context():
        services.save_settings(self_purchase=False)
        db.session.commit()
    order_id = order_paid_by(app, b)
    assert commissions(app, order_id) == {1: (a, 1000, 0)}


def test_only_those_the_mode_allows_earn(app):
    a, b, c = chain(app, mode="approved")
    DistributorFactory(user_id=a, status="approved")
    order_id = order_paid_by(app, c)
    assert commissions(app, order_id) == {2: (a, 500, 0)}  # B has not applied: earns nothing

    with app.app_context():
        services.save_settings(mode="threshold", threshold_minor=20000)
        db.session.commit()
    order_id = order_paid_by(app, c)
    assert set(commissions(app, order_id)) == {2}  # A is approved; B has spent nothing
    order_paid_by(app, b, price=20000)  # B's own spending reaches the threshold
    order_id = order_paid_by(app, c)
    assert commissions(app, order_id)[1] == (b, 1000, 0)


def test_a_disabled_distributor_earns_nothing(app):
    a, b, c = chain(app)
    DistributorFactory(user_id=b, status="disabled")
    order_id = order_paid_by(app, c)
    assert commissions(app, order_id) == {2: (a, 500, 0)}


def test_rates_come_from_the_sku_then_the_product_then_the_level_then_the_default(app):
    a, b, c = chain(app, level1_bp=1000, level2_bp=500)
    level = DistributorLevelFactory(level1_bp=1500, level2_bp=600)
    DistributorFactory(user_id=b, level_id=level.id)
    product, (red, blue) = product_with_skus(skus=(("红", 10000, 9), ("蓝", 10000, 9)), cost_price_minor=0)
    assert commissions(app, order_paid_by(app, c, sku=red))[1] == (b, 1500, 0)  # B's level
    CommissionRateFactory(product_id=product.id, level1_bp=2000, level2_bp=800)
    order_id = order_paid_by(app, c, sku=blue)
    assert commissions(app, order_id) == {1: (b, 2000, 0), 2: (a, 800, 0)}  # the product's
    CommissionRateFactory(product_id=product.id, sku_id=red.id, level1_bp=3000, level2_bp=100)
    assert commissions(app, order_paid_by(app, c, sku=red))[1] == (b, 3000, 0)  # the SKU's
    assert commissions(app, order_paid_by(app, c, sku=blue))[1] == (b, 2000, 0)


def test_the_margin_guard_cuts_the_commission_and_records_the_cut(app, admin_client):
    a, b, c = chain(app, level1_bp=1000, level2_bp=500, margin_floor_bp=1000)
    # paid 100.00, cost 88.00, floor 10.00: at most 2.00 of the 15.00 the rates give
    order_id = order_paid_by(app, c, price=10000, cost=8800)
    with app.app_context():
        rows = {c.level: c for c in db.session.scalars(select(Commission).where(Commission.order_id == order_id))}
        assert (rows[1].uncapped_minor, rows[1].amount_minor) == (1000, 133)
        assert (rows[2].uncapped_minor, rows[2].amount_minor) == (500, 66)
        assert rows[1].capped and rows[2].capped
    assert balances(app, b) == (133, 0)
    # cost above the price: no commission at all, the cut still recorded
    order_id = order_paid_by(app, c, price=10000, cost=9500)
    assert commissions(app, order_id) == {1: (b, 0, 0), 2: (a, 0, 0)}
    assert balances(app, b) == (133, 0)
    html = admin_client.get("/admin/distribution/commissions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.count("Cut by the margin guard from CN¥10.00") == 2


def test_the_margin_guard_counts_the_cost_of_the_skus_sold(app):
    """Cherries cost 10.00 a product, the 5斤 box 88.00 of its own: sold at 100.00 the 1斤
    box pays the whole commission, the 5斤 box only what its own cost leaves (2.00)."""
    a, b, c = chain(app, level1_bp=1000, level2_bp=500, margin_floor_bp=1000)
    product, (small, big) = product_with_skus(options=("规格",), skus=(("1斤", 10000, 9),
                                                                      ("5斤", 10000, 9)),
                                              cost_price_minor=1000)
    with app.app_context():
        db.session.get(Sku, big.id).cost_price_minor = 8800
        db.session.commit()
    assert commissions(app, order_paid_by(app, c, sku=small)) == {1: (b, 1000, 0), 2: (a, 500, 0)}
    order_id = order_paid_by(app, c, sku=big)
    with app.app_context():
        rows = {c.level: c for c in db.session.scalars(select(Commission).where(Commission.order_id == order_id))}
        assert (rows[1].uncapped_minor, rows[1].amount_minor) == (1000, 133)
        assert (rows[2].uncapped_minor, rows[2].amount_minor) == (500, 66)
    # the distributor kit's "per sale": of the option the product page leads with (the
    # cheapest in stock: the 5斤 box once it is cheaper, the 1斤 again once it sells out)
    def lead():
        return catalog.lead_sku([s for s in db.session.get(Product, product.id).skus if s.active])

    with app.app_context():
        assert (lead().id, services.per_sale_minor(b, lead())) == (small.id, 1000)
        db.session.get(Sku, big.id).price_minor = 9900
        assert (lead().id, services.per_sale_minor(b, lead())) == (big.id, 110)  # 99.00 - 88.00 - 9.90
        db.session.get(Sku, big.id).stock = 0
        assert (lead().id, services.per_sale_minor(b, lead())) == (small.id, 1000)
        db.session.rollback()


def test_a_refund_before_settlement_reverses_in_proportion_from_pending(app):
    a, b, c = chain(app)
    order_id = order_paid_by(app, c, price=10000)
    refund(app, order_id, 3000, "r1")
    assert commissions(app, order_id) == {1: (b, 1000, 300), 2: (a, 500, 150)}
    assert balances(app, b) == (700, 0) and balances(app, a) == (350, 0)
    refund(app, order_id, 7000, "r2")
    assert balances(app, b) == (0, 0) and balances(app, a) == (0, 0)
    assert settle_all(app) == 2
    assert balances(app, b) == (0, 0)  # a refunded order pays no commission


def test_a_refund_after_settlement_leaves_a_debt_repaid_by_later_commissions(app, client):
    a, b, c = chain(app)
    order_id = order_paid_by(app, c, price=10000)
    assert settle_all(app) == 2
    assert balances(app, b) == (0, 1000)
    with app.app_context():
        services.request_withdrawal(b, 1000, method="wallet")
        db.session.commit()
    assert balances(app, b) == (0, 0)
    refund(app, order_id, 10000, "all")
    assert balances(app, b) == (0, -1000)  # withdrawn already: a debt, never capped
    assert balances(app, a) == (0, 0)  # A had kept it: the balance covers it
    # shown plainly in the centre
    with app.app_context():
        email = db.session.get(Distributor, b).user.email
    client.signin(email)
    html = client.get("/distribution").get_data(as_text=True)
    assert 'data-testid="debt">¥10.00' in html and 'data-testid="withdrawable">¥0.00' in html
    # the next commission settles into the debt first
    order_paid_by(app, c, price=15000)
    settle_all(app)
    assert balances(app, b) == (0, 500)


def test_settlement_waits_for_the_window_and_a_requested_refund(app):
    a, b, c = chain(app, settle_days=7)
    order_id = order_paid_by(app, c)
    from shop.sweeper import sweep
    with app.app_context():
        assert sweep()["commissions_settled"] == 0  # inside the refund window
    client = app.test_client()
    with app.app_context():
        from shop.accounts.models import User
        client.signin(db.session.get(User, c).email)
    assert client.post_form(f"/orders/{order_id}/refund-request", {"reason": "坏了"}).status_code == 302
    assert settle_all(app) == 0  # a refund is asked for: it waits
    assert balances(app, b) == (1000, 0)


def test_paying_twice_or_settling_twice_moves_no_more_money(app):
    a, b, c = chain(app)
    order_id = order_paid_by(app, c)
    with app.app_context():
        from shop.orders.models import Order
        with pytest.raises(IntegrityError):  # the unique (order, level) key refuses it
            services.earn(db.session.get(Order, order_id))
        db.session.rollback()
        ids = list(db.session.scalars(select(Commission.id)))
        assert services.settle(ids[0]) and not services.settle(ids[0])
        db.session.commit()
        assert db.session.scalar(select(CommissionEntry.id).where(CommissionEntry.ref_type == "settle")
                                 .limit(1)) is not None
    pending, balance = balances(app, b)
    assert pending + balance == 1000


def test_a_refund_counts_against_the_goods_before_the_shipping(app):
    a, b, c = chain(app)
    order_id = order_paid_by(app, c, price=5000)  # 50.00 of goods + 10.00 shipping
    refund(app, order_id, 5000, "goods")
    assert commissions(app, order_id) == {1: (b, 500, 500), 2: (a, 250, 250)}


def test_a_refund_requested_after_the_sweep_listed_a_commission_still_stops_it(app):
    from datetime import timedelta
    from shop.accounts.models import User
    from shop.db import utcnow
    from sqlalchemy import update

    a, b, c = chain(app)
    order_id = order_paid_by(app, c)
    with app.app_context():
        db.session.execute(update(Commission).values(settle_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        due = services.due_commission_ids(utcnow())
        email = db.session.get(User, c).email
    assert len(due) == 2
    client = app.test_client()
    client.signin(email)
    assert client.post_form(f"/orders/{order_id}/refund-request", {"reason": "坏了"}).status_code == 302
    with app.app_context():
        assert [services.settle(commission_id) for commission_id in due] == [False, False]
        db.session.commit()
    assert balances(app, b) == (1000, 0)


def test_the_spending_threshold_counts_what_was_paid_and_not_refunded(app):
    a, b = chain(app, n=2, mode="threshold", threshold_minor=10000)
    order_id = order_paid_by(app, a, price=10000)
    with app.app_context():
        assert services.may_earn(a)
    refund(app, order_id, 1, "one-fen")
    with app.app_context():
        assert services.spent_minor(a) == 9999 and not services.may_earn(a)
