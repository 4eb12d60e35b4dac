"""Every figure of the dashboard against the values worked out by hand for the known
dataset (tests/analytics/helpers.py), from raw hits and again from the rollup."""

from __future__ import annotations

from datetime import timedelta

from shop.analytics import services
from pyroaring import BitMap
from sqlalchemy import select

from shop.analytics.models import DayFigures, OrderFact, RollupMark, VisitorNumber
from shop.db import db
from shop.orders.models import Order
from tests.analytics.helpers import BEFORE, D1, D2, D3, at, known_dataset
from tests.factories import UserFactory, product_with_skus
from tests.payments.helpers import bought


def _figures(board):
    return {
        "visitors": board.visitors, "page_views": board.page_views,
        "product_viewers": board.product_viewers, "cart_adders": board.cart_adders,
        "orders": board.orders, "ordering_visitors": board.ordering_visitors,
        "paid_orders": board.paid_orders, "paying_visitors": board.paying_visitors,
        "paying_customers": board.paying_customers, "gmv": board.gmv_minor,
        "aov": board.aov_minor, "refunded": board.refunded_minor,
        "repeat": board.repeat_customers, "repurchase_bp": board.repurchase_bp,
        "returning": board.returning_customers, "new": board.new_customers,
        "accounts": board.accounts, "referral_orders": board.referral_orders,
        "referral_gmv": board.referral_gmv_minor, "landings": board.landings,
        "days": [(d.day, d.visitors, d.page_views, d.orders, d.paid_orders, d.gmv_minor)
                 for d in board.days],
        "sources": [(s.source, s.accounts, s.customers, s.orders, s.revenue_minor, s.ltv_minor)
                    for s in board.sources],
        "products": [(p.name, p.units, p.orders, p.revenue_minor) for p in board.products],
        "articles": [(a.name, a.views, a.orders, a.revenue_minor) for a in board.articles],
        "distributors": [(d.name, d.orders, d.revenue_minor, d.commission_minor)
                         for d in board.distributors],
        "groups": (board.groups_complete, board.groups_failed, board.group_success_bp),
        "coupons": [(c.name, c.claimed, c.uses, c.discount_minor, c.gmv_minor, c.return_bp)
                    for c in board.coupons],
        "funnel": board.funnel,
    }


def expected(data):
    return {
        "visitors": 4,                 # v1 v2 v3 v4 (v5 came before the range)
        "page_views": 9,               # D1 4, D2 3, D3 2 (add-to-carts are not views)
        "product_viewers": 3,          # v1 v2 v3
        "cart_adders": 3,              # v1 v3 v2
        "orders": 5,                   # o1 o2 o3 o5 o6
        "ordering_visitors": 3,        # v1 v3 v2
        "paid_orders": 4,              # o1 o2 o3 o5
        "paying_visitors": 3,          # v1 v3 v2
        "paying_customers": 3,         # A B C
        "gmv": 84000,                  # 12000 + 40000 + 12000 + 20000
        "aov": 21000,                  # 84000 / 4
        "refunded": 3000,              # o3
        "repeat": 1,                   # A paid twice in the range
        "repurchase_bp": 3333,         # 1 / 3
        "returning": 1,                # C paid o4 before the range
        "new": 2,                      # A B
        "accounts": 4,                 # A B D E (C before the range)
        "referral_orders": 2,          # o1 (share link) o5 (poster)
        "referral_gmv": 32000,
        "landings": {"direct": 1, "referral": 1, "article": 1, "utm": 1},
        "days": [(D1, 2, 4, 1, 1, 12000), (D2, 2, 3, 2, 2, 52000), (D3, 2, 2, 2, 1, 20000)],
        "sources": [("referral", 2, 1, 2, 52000, 26000),  # A (o1 o2) and E: 52000 / 2
                    ("article", 1, 1, 1, 9000, 9000),     # B: 12000 - 3000 refunded
                    ("utm", 1, 0, 0, 0, 0)],              # D never paid
        "products": [(data.p2.title, 3, 2, 60000), (data.p1.title, 2, 2, 24000)],
        "articles": [("好文章", 1, 1, 12000)],
        "distributors": [("分销员X", 2, 52000, 1200)],
        "groups": (2, 1, 6667),
        "coupons": [("满减券K", 1, 1, 1000, 40000, 400000)],
        "funnel": [("visit", 4), ("product", 3), ("cart", 3), ("order", 3), ("paid", 3)],
    }


def test_every_figure_matches_the_hand_computed_values(app):
    data = known_dataset(app)
    with app.app_context():
        assert _figures(services.dashboard(D1, D3)) == expected(data)


def test_the_rollup_gives_the_same_figures_as_the_raw_hits(app):
    data = known_dataset(app)
    with app.app_context():
        raw = _figures(services.dashboard(D1, D3))
        # at noon on D3, every day up to D2 has closed: BEFORE..D2 are rolled up, in order
        due = services.days_to_roll_up(at(D3))
        assert due[0] == BEFORE and due[-1] == D2 and len(due) == (D2 - BEFORE).days + 1
        assert all(services.roll_up_day(day) for day in due)
        db.session.commit()
        assert services.rolled_through() == D2
        assert services.days_to_roll_up(at(D3)) == []
        # a day out of order is refused, so two sweepers never roll one day twice
        assert services.roll_up_day(D1) is False
        assert _rolled_day(D1, data) == {
            "counts": (2, 4, 1, 1, 12000, 1, 12000), "landings": {"direct": 1, "referral": 1},
            "visitors": {"v1", "v2"}, "products": {"v1", "v2"}, "carts": {"v1"},
            "ordering": {"v1"}, "paying": {"v1"},
            "customers": {"A"}, "repeaters": set(), "newcomers": {"A"}}
        assert _rolled_day(D2, data) == {
            "counts": (2, 3, 2, 2, 52000, 0, 0), "landings": {"article": 1},
            "visitors": {"v1", "v3"}, "products": {"v3"}, "carts": {"v3"},
            "ordering": {"v1", "v3"}, "paying": {"v1", "v3"},
            "customers": {"A", "B"}, "repeaters": set(), "newcomers": {"B"}}
        assert _figures(services.dashboard(D1, D3)) == raw == expected(data)
        # and with every day rolled up
        for day in services.days_to_roll_up(at(D3 + timedelta(days=1), 2)):
            services.roll_up_day(day)
        db.session.commit()
        assert db.session.get(RollupMark, "day_figures").through == D3
        assert _figures(services.dashboard(D1, D3)) == raw


def _rolled_day(day, data) -> dict:
    """A DayFigures row with its bitmaps read back as visitor ids and account names."""
    row = db.session.get(DayFigures, day)
    visitors = dict(db.session.execute(select(VisitorNumber.number, VisitorNumber.visitor)).all())
    names = {user.id: name for name, user in data.users.items()}

    def read(blob, known):
        return {known[number] for number in BitMap.deserialize(blob)}

    return {
        "counts": (len(read(row.visitor_set, visitors)), row.page_views, row.orders, row.paid_orders, row.gmv_minor,
                   row.referral_orders, row.referral_gmv_minor),
        "landings": row.landings,
        "visitors": read(row.visitor_set, visitors), "products": read(row.product_set, visitors),
        "carts": read(row.cart_set, visitors), "ordering": read(row.ordering_set, visitors),
        "paying": read(row.paying_set, visitors), "customers": read(row.customer_set, names),
        "repeaters": read(row.repeater_set, names), "newcomers": read(row.newcomer_set, names)}


def test_what_comes_after_the_rollup_of_its_day_still_counts(app):
    """A payment, an order's fact and a refund that come after their day was rolled up:
    the funnel, the orders and the refunds see them; nothing is counted twice."""
    data = known_dataset(app)
    _p, (sku, _o) = product_with_skus(skus=(("红", 12000, 5), ("蓝", 1, 0)))
    with app.app_context():
        # o6 (placed D3, unpaid) by v4, who landed on D3 from a utm link
        db.session.execute(OrderFact.__table__.update().where(OrderFact.order_id == data.ids[6])
                           .values(visitor="v4"))
        for day in services.days_to_roll_up(at(D3 + timedelta(days=1), 2)):
            services.roll_up_day(day)
        db.session.commit()
        board = services.dashboard(D1, D3)
        assert (board.orders, board.ordering_visitors, board.paying_visitors) == (5, 4, 3)
        assert db.session.get(OrderFact, data.ids[6]).rolled_as == "placed"

        order = db.session.get(Order, data.ids[6])
        services.order_paid(order)  # paid today, after D3 was rolled up
        services.order_refunded(db.session.get(Order, data.ids[5]), 5000)
        db.session.commit()
        board = services.dashboard(D1, D3)
        assert (board.orders, board.ordering_visitors, board.paying_visitors) == (5, 4, 4)
        assert board.funnel[-1] == ("paid", 4)
        assert board.paid_orders == 4  # o6 was paid today, not in the range
        assert board.refunded_minor == 3000 + 5000
        assert board.gmv_minor == 84000  # GMV stays gross

        # a fact made after its day was rolled up (an order placed on D2, paid today, whose
        # fact the payment made) counts as an order of its day
        late = bought(data.users["E"].id, sku.id, "late")
        db.session.execute(OrderFact.__table__.update().where(OrderFact.order_id == late.id)
                           .values(visitor="v3", placed_day=D2))
        db.session.commit()
        board = services.dashboard(D1, D3)
        assert (board.orders, board.ordering_visitors, board.paying_visitors) == (6, 4, 4)
        assert [d.orders for d in board.days] == [1, 3, 2]


def test_a_range_of_one_day_and_an_empty_range(app):
    known_dataset(app)
    with app.app_context():
        board = services.dashboard(D2, D2)
        assert (board.visitors, board.page_views, board.orders, board.paid_orders,
                board.gmv_minor, board.paying_customers, board.repeat_customers,
                board.returning_customers) == (2, 3, 2, 2, 52000, 2, 0, 1)  # A paid o1 on D1
        empty = services.dashboard(D3 + timedelta(days=10), D3 + timedelta(days=12))
        assert (empty.visitors, empty.orders, empty.gmv_minor, empty.aov_minor,
                empty.repurchase_bp, empty.group_success_bp, empty.products) == (0, 0, 0, 0, 0, 0, [])
        assert [d.visitors for d in empty.days] == [0, 0, 0]


def test_the_funnel_counts_only_visitors_of_the_range(app):
    """An order whose visitor left no hit in the range (placed from a page without the
    script, or by a visitor id made for it) counts as an order, not as a funnel step."""
    data = known_dataset(app)
    user = UserFactory()
    _p, (sku, _o) = product_with_skus(skus=(("红", 12000, 5), ("蓝", 1, 0)))
    with app.app_context():
        order = bought(user.id, sku.id, "stray")
        db.session.execute(OrderFact.__table__.update().where(OrderFact.order_id == order.id)
                           .values(visitor="nohits", placed_day=D2, paid_day=D2, paid_at=at(D2),
                                   first_paid_day=D2))
        db.session.commit()
        board = services.dashboard(D1, D3)
        assert (board.orders, board.paid_orders) == (6, 5)
        assert board.funnel == expected(data)["funnel"]


def test_days_with_orders_from_before_tracking_are_rolled_up_too(app):
    """Orders made before the first hit (their facts come from the backfill) keep their
    figures once the rollup has passed their days."""
    data = known_dataset(app)
    with app.app_context():
        early = BEFORE - timedelta(days=5)
        db.session.execute(OrderFact.__table__.update().where(OrderFact.order_id == data.ids[4])
                           .values(placed_day=early, paid_day=early, first_paid_day=early))
        db.session.commit()
        before = _figures(services.dashboard(early, D3))
        due = services.days_to_roll_up(at(D3 + timedelta(days=1), 2))
        assert due[0] == early and due[-1] == D3
        assert all(services.roll_up_day(day) for day in due)
        db.session.commit()
        after = _figures(services.dashboard(early, D3))
        assert after == before
        assert (after["orders"], after["paid_orders"], after["gmv"]) == (6, 5, 104000)


def test_a_late_payment_counts_only_in_ranges_with_its_order(app):
    """o6 (placed D3, unpaid, by v2 who also came on D1) paid after every day was rolled
    up: ranges without D3 keep the figures the raw hits gave."""
    known_dataset(app)
    ranges = [(D1, D1), (D1, D2), (D2, D2), (D2, D3), (D1, D3)]
    with app.app_context():
        raw = {r: _figures(services.dashboard(*r)) for r in ranges}
        for day in services.days_to_roll_up(at(D3 + timedelta(days=1), 2)):
            services.roll_up_day(day)
        db.session.commit()
        assert {r: _figures(services.dashboard(*r)) for r in ranges} == raw
        late = db.session.scalar(select(OrderFact).where(OrderFact.paid_day.is_(None)))
        services.order_paid(db.session.get(Order, late.order_id))
        db.session.commit()
        after = {r: _figures(services.dashboard(*r)) for r in ranges}
        for r in [(D1, D1), (D1, D2), (D2, D2)]:
            assert after[r] == raw[r], r
        for r in [(D2, D3), (D1, D3)]:  # v2 paid for o5 already: the funnel stays
            assert after[r]["funnel"] == raw[r]["funnel"], r
