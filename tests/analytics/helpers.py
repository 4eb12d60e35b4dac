"""A small known dataset for the business-data figures, built through the real order
flow (bought) and then placed on chosen days; every figure the tests expect is worked out
by hand in the comments of `known_dataset`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from shop.analytics import services
from shop.analytics.models import OrderFact
from shop.db import db
from shop.orders.models import OrderLine
from tests.factories import (AcquisitionFactory, ArticleFactory, CommissionFactory,
                             CouponFactory, DistributorFactory, GroupCampaignFactory,
                             GroupFactory, HitFactory, OrderReferralFactory, UserCouponFactory,
                             UserFactory, product_with_skus)
from tests.payments.helpers import bought

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
BEFORE = date(2026, 10, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def _fact(order_id: int, *, visitor: str, placed: date, paid: date | None, source: str = "direct",
          refunded: int = 0) -> None:
    db.session.execute(update(OrderFact).where(OrderFact.order_id == order_id).values(
        visitor=visitor, placed_day=placed, paid_day=paid, paid_at=at(paid) if paid else None,
        source=source, refunded_minor=refunded))


def first_paid_days() -> None:
    """After moving facts to other days: each paid fact's first_paid_day as payment would
    have set it (the customer's earliest paid day)."""
    earlier = aliased(OrderFact)
    db.session.execute(update(OrderFact).where(OrderFact.paid_day.is_not(None)).values(
        first_paid_day=select(func.min(earlier.paid_day))
        .where(earlier.user_id == OrderFact.user_id, earlier.paid_day.is_not(None))
        .scalar_subquery()))


def known_dataset(app) -> SimpleNamespace:
    """Range D1..D3. Orders (P1 = 120.00, P2 = 200.00: free shipping, no other discount):
      o1  A  P1 x1 = 12000  placed D1 paid D1  visitor v1  source referral
      o2  A  P2 x2 = 40000  placed D2 paid D2  v1  (coupon K took 10.00: recorded as used)
      o3  B  P1 x1 = 12000  placed D2 paid D2  v3  refunded 3000, line credited to article Art
      o4  C  P2 x1 = 20000  placed and paid BEFORE the range  v9
      o5  C  P2 x1 = 20000  placed D3 paid D3  v2  source poster
      o6  D  P1 x1 = 12000  placed D3, never paid  v2
    Hits: D1 v1 page(direct) product cart, v2 page(referral) product; D2 v1 page, v3
    article(article, Art) product cart; D3 v4 page(utm), v2 page cart; BEFORE v5 page.
    Accounts made: A referral D1, B article D2, D utm D3, E referral D2 (no order),
    C direct BEFORE. Distributor X is level 1 of o1 and o2 and earned 12.00 on o1 (and
    6.00 as level 2 of o3, which is not an order X brought in).
    Group buys settled: 2 complete and 1 failed in the range, 1 complete before it."""
    users = {name: UserFactory() for name in "ABCDE"}
    p1, (sku1, _x) = product_with_skus(skus=(("红", 12000, 50), ("蓝", 12000, 0)))
    p2, (sku2, _y) = product_with_skus(skus=(("红", 20000, 50), ("蓝", 20000, 0)))
    article = ArticleFactory(title="好文章")
    x = DistributorFactory(user_id=UserFactory(nickname="分销员X").id)
    with app.app_context():
        o = {}
        o[1] = bought(users["A"].id, sku1.id, "k1")
        o[2] = bought(users["A"].id, sku2.id, "k2", quantity=2)
        o[3] = bought(users["B"].id, sku1.id, "k3")
        o[4] = bought(users["C"].id, sku2.id, "k4")
        o[5] = bought(users["C"].id, sku2.id, "k5")
        o[6] = bought(users["D"].id, sku1.id, "k6", pay=False)
        totals = {n: order.total_minor for n, order in o.items()}
        ids = {n: order.id for n, order in o.items()}
        _fact(ids[1], visitor="v1", placed=D1, paid=D1, source="referral")
        _fact(ids[2], visitor="v1", placed=D2, paid=D2)
        _fact(ids[3], visitor="v3", placed=D2, paid=D2, refunded=3000)
        _fact(ids[4], visitor="v9", placed=BEFORE, paid=BEFORE)
        _fact(ids[5], visitor="v2", placed=D3, paid=D3, source="poster")
        _fact(ids[6], visitor="v2", placed=D3, paid=None)
        db.session.execute(update(OrderLine).where(OrderLine.order_id == ids[3])
                           .values(source_article_id=article.id))
        first_paid_days()
        db.session.commit()
    assert totals == {1: 12000, 2: 40000, 3: 12000, 4: 20000, 5: 20000, 6: 12000}
    # made with the orders in the real flow, so before the sweeper counts them
    OrderReferralFactory(order_id=ids[1], level1_id=x.user_id)
    OrderReferralFactory(order_id=ids[2], level1_id=x.user_id)
    CommissionFactory(order_id=ids[1], user_id=x.user_id, base_minor=12000, uncapped_minor=1200,
                      amount_minor=1200)
    # X is level 2 of o3 (paid in the range): not one of the orders X brought in as level 1
    CommissionFactory(order_id=ids[3], user_id=x.user_id, level=2, base_minor=12000,
                      uncapped_minor=600, amount_minor=600)
    coupon = CouponFactory(name="满减券K")
    UserCouponFactory(coupon_id=coupon.id, user_id=users["A"].id, status="used",
                      order_id=ids[2], discount_minor=1000, created_at=at(D1))
    with app.app_context():
        for order_id in sorted(ids.values()):  # what the sweeper does
            services.count_sales(order_id)
        db.session.commit()

    for day, visitor, kind, item, source in [
            (D1, "v1", "page", None, "direct"), (D1, "v1", "product", p1.id, None),
            (D1, "v1", "cart", p1.id, None), (D1, "v2", "page", None, "referral"),
            (D1, "v2", "product", p2.id, None), (D2, "v1", "page", None, None),
            (D2, "v3", "article", article.id, "article"), (D2, "v3", "product", p1.id, None),
            (D2, "v3", "cart", p1.id, None), (D3, "v4", "page", None, "utm"),
            (D3, "v2", "page", None, None), (D3, "v2", "cart", p2.id, None),
            (BEFORE, "v5", "page", None, "direct")]:
        HitFactory(day=day, created_at=at(day), visitor=visitor, kind=kind, source=source,
                   product_id=item if kind in ("product", "cart") else None,
                   article_id=item if kind == "article" else None)
    # with what each has paid to date (paid orders, paid less refunded), as the payments
    # and the refund would have added it: A o1 o2, B o3 less 3000, C o4 o5, D and E nothing
    for name, source, day, paid, revenue in [
            ("A", "referral", D1, 2, 52000), ("B", "article", D2, 1, 9000), ("D", "utm", D3, 0, 0),
            ("E", "referral", D2, 0, 0), ("C", "direct", BEFORE, 2, 40000)]:
        AcquisitionFactory(user_id=users[name].id, source=source, day=day, paid_orders=paid,
                           revenue_minor=revenue)
    campaign = GroupCampaignFactory()
    for status, day in [("complete", D1), ("complete", D3), ("failed", D2), ("complete", BEFORE)]:
        GroupFactory(campaign_id=campaign.id, leader_id=users["A"].id, status=status,
                     seats_left=0, settled_at=at(day))
    return SimpleNamespace(users=users, ids=ids, p1=p1, p2=p2, article=article, x=x,
                           coupon=coupon)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
