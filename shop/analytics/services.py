"""What each figure means, and how it is counted. Services flush, never commit.

Days are the shop's local days (SHOP_TIMEZONE); a range is from its first to its last
day, both included.

Traffic (from Hit rows; see tracking.py for what a landing is)
- page views: views of shopper pages (a page, a product page, an article) whose beacon
  arrived; visitors: distinct visitor ids with any hit in the range.
- landings by source: hits that started a visit, per source.
Orders (from OrderFact rows)
- orders: orders placed in the range (any kind, paid or not, cancelled included).
- paid orders, GMV: orders whose payment arrived in the range, and the sum of their
  totals (what the shopper paid, shipping included; refunds are shown apart and not taken
  off GMV). Average order value: GMV / paid orders, rounded half up to a minor unit.
- paying customers: distinct accounts with a paid order in the range. Of them, *new*
  customers had no paid order before the range, *returning* ones had. Repurchase rate:
  the share of paying customers with two or more paid orders in the range.
Funnel: distinct visitors of the range (a hit in it) who viewed a product page, added to
  cart, placed an order in the range, and paid for one of those orders (by now).
Orders with nothing to pay (points-mall redemptions paid in points alone) are not sales:
  they have no fact and count nowhere here; nor do free gift lines in sales counts.
AARRR: acquisition (landings by source, accounts made), activation (new customers),
  retention (returning customers, repurchase rate), revenue (GMV, AOV), referral (paid
  orders that came through share links and posters, and their GMV).
Lifetime value by source: accounts made in the range, grouped by where they first
  landed (Acquisition); their revenue is everything they have paid to date, less refunds;
  LTV = revenue / accounts, rounded half up.
Rankings (orders paid in the range): products by goods revenue (line totals, free gifts
  aside; from ProductDay, so an order counts once the sweeper has counted it); articles by
  the GMV of the lines credited to them (shop.articles.attribution) with their views;
  distributors by the GMV of orders whose level-1 earner they are, with the commissions
  those orders earned them. Group buys settled in the range: success rate = complete /
  (complete + failed). Coupons: uses in paid orders, the discount given, the GMV of those
  orders and the return (GMV per unit of discount).
Operations signals (from the seeds): products whose sales count crossed 100 or 1,000
  (the moments to push a hit); products on sale for SIGNAL_DAYS without a sale (time to
  replace them); articles due for re-promotion (shop.articles, every 15 days by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, distinct, func, insert, literal, or_, select, union_all

from shop.accounts.models import User
from shop.analytics.models import (MILESTONES, Acquisition, Hit, OrderFact, ProductDay,
                                   ProductMilestone, ProductSales, RollupMark, VisitorDay)
from shop.db import day_start, db, insert_missing, local_day, utcnow

ROLLUP = "visitor_days"
SIGNAL_DAYS = 15
RANKING_SIZE = 10
EPOCH = date(1970, 1, 1)


def half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator) if denominator else 0


def share_bp(part: int, whole: int) -> int:
    """part / whole in basis points, rounded half up (0 when there is no whole)."""
    return half_up(part * 10_000, whole)


# --- writes: one row per event, in the transaction of what they count ------------------


def record_hit(visitor: str, user_id: int | None, kind: str, *, item: int | None = None,
               source: str | None = None, ref_code: str | None = None,
               utm_source: str | None = None, utm_medium: str | None = None,
               utm_campaign: str | None = None) -> None:
    """One INSERT: a page view, a product or article view, or an add-to-cart."""
    now = utcnow()
    db.session.execute(insert(Hit).values(
        day=local_day(now), created_at=now, visitor=visitor, user_id=user_id, kind=kind,
        product_id=item if kind in ("product", "cart") else None,
        article_id=item if kind == "article" else None,
        source=source or None, ref_code=ref_code or None, utm_source=utm_source or None,
        utm_medium=utm_medium or None, utm_campaign=utm_campaign or None))


def _landing(visitor: str | None, *, first: bool):
    if visitor is None:
        return None
    order = Hit.id.asc() if first else Hit.id.desc()
    return db.session.execute(
        select(Hit.source, Hit.ref_code, Hit.article_id, Hit.utm_campaign)
        .where(Hit.visitor == visitor, Hit.source.is_not(None)).order_by(order).limit(1)
    ).first()


def _new_fact(order, visitor: str | None) -> OrderFact:
    touch = _landing(visitor, first=False)  # the last landing before the order
    fact = OrderFact(order_id=order.id, user_id=order.user_id,
                     visitor=visitor or f"u{order.user_id}", kind=order.kind,
                     currency=order.currency, total_minor=order.total_minor, refunded_minor=0,
                     source=touch.source if touch else "direct",
                     ref_code=touch.ref_code if touch else None,
                     placed_day=local_day(order.created_at or utcnow()), counted=False)
    db.session.add(fact)
    return fact


def _is_sale(order) -> bool:
    return order.total_minor > 0


def order_placed(order, visitor: str | None) -> None:
    if _is_sale(order):
        _new_fact(order, visitor)
        db.session.flush()


def order_paid(order) -> None:
    fact = db.session.get(OrderFact, order.id)
    if fact is None:
        if not _is_sale(order):
            return
        fact = _new_fact(order, None)
    if fact.paid_day is None:
        fact.paid_at = utcnow()
        fact.paid_day = local_day(fact.paid_at)
        fact.total_minor = order.total_minor
        earlier = db.session.scalar(select(func.min(OrderFact.paid_day)).where(
            OrderFact.user_id == fact.user_id, OrderFact.paid_day.is_not(None),
            OrderFact.order_id != fact.order_id))
        fact.first_paid_day = min(earlier, fact.paid_day) if earlier else fact.paid_day
    db.session.flush()


def order_refunded(order, refunded_minor: int) -> None:
    fact = db.session.get(OrderFact, order.id)
    if fact is not None:
        fact.refunded_minor = max(fact.refunded_minor, refunded_minor)  # all refunded so far
        db.session.flush()


def acquired(user, visitor: str | None) -> None:
    """Where a new account came from: the first landing of its visitor (direct if none)."""
    first = _landing(visitor, first=True)
    db.session.add(Acquisition(
        user_id=user.id, day=local_day(utcnow()), source=first.source if first else "direct",
        ref_code=first.ref_code if first else None, article_id=first.article_id if first else None,
        utm_campaign=first.utm_campaign if first else None))
    db.session.flush()


# --- the sweeper's work: rollups and sales counts ---------------------------------------


def rolled_through() -> date | None:
    mark = db.session.get(RollupMark, ROLLUP)
    return mark.through if mark is not None and mark.through > EPOCH else None


def days_to_roll_up(now: datetime) -> list[date]:
    """Closed days not rolled up yet, oldest first (a day closes an hour after its end,
    so late beacons of its last minutes are in)."""
    last_closed = local_day(now - timedelta(hours=1)) - timedelta(days=1)
    through = rolled_through()
    first = through + timedelta(days=1) if through else db.session.scalar(select(func.min(Hit.day)))
    if first is None:
        return []
    return [first + timedelta(days=n) for n in range(min((last_closed - first).days + 1, 366))]


def roll_up_day(day: date) -> bool:
    """Roll one day's hits up into VisitorDay rows, in order: under the lock of the mark,
    only the day right after the last one rolled (so two sweepers never roll a day twice)."""
    insert_missing(RollupMark, "name", name=ROLLUP, through=EPOCH)
    mark = db.session.get(RollupMark, ROLLUP, with_for_update=True, populate_existing=True)
    if mark.through > EPOCH and mark.through != day - timedelta(days=1):
        return False
    is_cart = case((Hit.kind == "cart", 1), else_=0)
    db.session.execute(insert(VisitorDay).from_select(
        ["day", "visitor", "pages", "products", "carts"],
        select(Hit.day, Hit.visitor, func.sum(1 - is_cart),
               func.sum(case((Hit.kind == "product", 1), else_=0)), func.sum(is_cart))
        .where(Hit.day == day).group_by(Hit.day, Hit.visitor)))
    mark.through = day
    db.session.flush()
    return True


def uncounted_order_ids(limit: int = 1000) -> list[int]:
    return list(db.session.scalars(
        select(OrderFact.order_id).where(OrderFact.paid_day.is_not(None),
                                         OrderFact.counted.is_(False))
        .order_by(OrderFact.order_id).limit(limit)))


def count_sales(order_id: int) -> bool:
    """Add a paid order's units to its products' sales counts (shop.catalog), note when
    each last sold, and record the milestones the counts crossed. Once per order."""
    from shop.catalog.services import add_sales
    from shop.orders.models import OrderLine

    fact = db.session.get(OrderFact, order_id, with_for_update=True, populate_existing=True)
    if fact is None or fact.counted or fact.paid_at is None:
        return False
    units = db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity), func.sum(OrderLine.total_minor))
        .where(OrderLine.order_id == order_id, OrderLine.total_minor > 0)  # free gifts aside
        .group_by(OrderLine.product_id).order_by(OrderLine.product_id)).all()
    for product_id, quantity, revenue in units:  # lowest id first, like every other lock
        before, after = add_sales(product_id, int(quantity))
        insert_missing(ProductDay, ("day", "product_id"), day=fact.paid_day, product_id=product_id,
                       units=0, revenue_minor=0, orders=0)
        db.session.execute(
            ProductDay.__table__.update()
            .where(ProductDay.day == fact.paid_day, ProductDay.product_id == product_id)
            .values(units=ProductDay.units + int(quantity),
                    revenue_minor=ProductDay.revenue_minor + int(revenue),
                    orders=ProductDay.orders + 1))
        for threshold in MILESTONES:
            if before < threshold <= after:
                insert_missing(ProductMilestone, ("product_id", "threshold"), product_id=product_id,
                               threshold=threshold, reached_at=fact.paid_at)
        insert_missing(ProductSales, "product_id", product_id=product_id, last_sold_at=fact.paid_at)
        db.session.execute(
            ProductSales.__table__.update()
            .where(ProductSales.product_id == product_id, ProductSales.last_sold_at < fact.paid_at)
            .values(last_sold_at=fact.paid_at))
    fact.counted = True
    db.session.flush()
    return True


# --- the dashboard ---------------------------------------------------------------------


@dataclass
class Day:
    day: date
    visitors: int = 0
    page_views: int = 0
    orders: int = 0
    paid_orders: int = 0
    gmv_minor: int = 0


@dataclass
class Ranked:
    id: int | None
    name: str
    orders: int = 0
    revenue_minor: int = 0
    units: int = 0            # products
    views: int = 0            # articles
    commission_minor: int = 0  # distributors


@dataclass
class SourceValue:
    source: str
    accounts: int
    customers: int
    orders: int
    revenue_minor: int

    @property
    def ltv_minor(self) -> int:
        return half_up(self.revenue_minor, self.accounts)


@dataclass
class CouponReturn:
    id: int
    name: str
    claimed: int
    uses: int
    discount_minor: int
    gmv_minor: int

    @property
    def return_bp(self) -> int:
        """GMV / discount in basis points (82500: 8.25 of GMV for each 1 of discount)."""
        return share_bp(self.gmv_minor, self.discount_minor)


@dataclass
class Dashboard:
    start: date
    end: date
    currency: str
    visitors: int = 0
    page_views: int = 0
    product_viewers: int = 0
    cart_adders: int = 0
    orders: int = 0
    ordering_visitors: int = 0
    paid_orders: int = 0
    paying_visitors: int = 0
    paying_customers: int = 0
    gmv_minor: int = 0
    refunded_minor: int = 0
    repeat_customers: int = 0
    returning_customers: int = 0
    accounts: int = 0
    referral_orders: int = 0
    referral_gmv_minor: int = 0
    landings: dict[str, int] = field(default_factory=dict)
    days: list[Day] = field(default_factory=list)
    sources: list[SourceValue] = field(default_factory=list)
    products: list[Ranked] = field(default_factory=list)
    articles: list[Ranked] = field(default_factory=list)
    distributors: list[Ranked] = field(default_factory=list)
    groups_complete: int = 0
    groups_failed: int = 0
    coupons: list[CouponReturn] = field(default_factory=list)

    @property
    def aov_minor(self) -> int:
        return half_up(self.gmv_minor, self.paid_orders)

    @property
    def new_customers(self) -> int:
        return self.paying_customers - self.returning_customers

    @property
    def repurchase_bp(self) -> int:
        return share_bp(self.repeat_customers, self.paying_customers)

    @property
    def group_success_bp(self) -> int:
        return share_bp(self.groups_complete, self.groups_complete + self.groups_failed)

    @property
    def funnel(self) -> list[tuple[str, int]]:
        return [("visit", self.visitors), ("product", self.product_viewers),
                ("cart", self.cart_adders), ("order", self.ordering_visitors),
                ("paid", self.paying_visitors)]


def _split(start: date, end: date) -> tuple[tuple[date, date] | None, tuple[date, date] | None]:
    """The range's rolled-up days and the days after them (read from the raw hits)."""
    through = rolled_through()
    rolled = (start, min(end, through)) if through is not None and start <= through else None
    raw_start = max(start, through + timedelta(days=1)) if through is not None else start
    return rolled, ((raw_start, end) if raw_start <= end else None)


def _traffic(board: Dashboard) -> dict[date, Day]:
    """Visitors, page views and the funnel: one pass over one row per visitor and day
    (rolled up) or per hit (days not rolled up yet), with the range's orders beside them,
    grouped by visitor."""
    days = {board.start + timedelta(days=n): Day(board.start + timedelta(days=n))
            for n in range((board.end - board.start).days + 1)}
    rolled, raw = _split(board.start, board.end)
    one, zero = literal(1), literal(0)
    parts = []
    if rolled is not None:
        parts.append(select(
            VisitorDay.visitor.label("visitor"), one.label("hit"), case((VisitorDay.products > 0, 1), else_=0).label("product"),
            case((VisitorDay.carts > 0, 1), else_=0).label("cart"), zero.label("ordered"),
            zero.label("paid")).where(VisitorDay.day.between(*rolled)))
    if raw is not None:
        parts.append(select(
            Hit.visitor.label("visitor"), one.label("hit"),
            case((Hit.kind == "product", 1), else_=0).label("product"),
            case((Hit.kind == "cart", 1), else_=0).label("cart"), zero.label("ordered"),
            zero.label("paid")).where(Hit.day.between(*raw)))
    parts.append(select(
        OrderFact.visitor.label("visitor"), zero.label("hit"), zero.label("product"),
        zero.label("cart"), one.label("ordered"),
        case((OrderFact.paid_day.is_not(None), 1), else_=0).label("paid"))
        .where(OrderFact.placed_day.between(board.start, board.end)))
    rows = union_all(*parts).subquery("v")
    per_visitor = (select(*(func.max(column).label(column.name) for column in
                            (rows.c.hit, rows.c.product, rows.c.cart, rows.c.ordered, rows.c.paid)))
                   .group_by(rows.c.visitor).subquery())
    v = per_visitor.c
    counts = db.session.execute(select(
        func.sum(v.hit), func.sum(v.product), func.sum(v.cart),
        func.sum(case(((v.hit == 1) & (v.ordered == 1), 1), else_=0)),
        func.sum(case(((v.hit == 1) & (v.paid == 1), 1), else_=0)))).one()
    (board.visitors, board.product_viewers, board.cart_adders, board.ordering_visitors,
     board.paying_visitors) = (int(n or 0) for n in counts)

    per_day = []
    if rolled is not None:  # one row per visitor and day already: no DISTINCT to sort
        per_day.append(select(VisitorDay.day, func.count(), func.sum(VisitorDay.pages))
                       .where(VisitorDay.day.between(*rolled)).group_by(VisitorDay.day))
    if raw is not None:
        per_day.append(select(Hit.day, func.count(distinct(Hit.visitor)),
                              func.sum(case((Hit.kind == "cart", 0), else_=1)))
                       .where(Hit.day.between(*raw)).group_by(Hit.day))
    for query in per_day:
        for day, count, pages in db.session.execute(query):
            days[day].visitors, days[day].page_views = count, int(pages or 0)
            board.page_views += int(pages or 0)
    board.landings = dict(db.session.execute(
        select(Hit.source, func.count()).where(Hit.day.between(board.start, board.end),
                                               Hit.source.is_not(None))
        .group_by(Hit.source)).all())
    return days


def _orders(board: Dashboard, days: dict[date, Day]) -> None:
    placed = OrderFact.placed_day.between(board.start, board.end)
    paid = OrderFact.paid_day.between(board.start, board.end)
    board.orders = db.session.scalar(select(func.count()).where(placed))
    (board.paid_orders, board.paying_customers, gmv, refunded,
     referral_orders, referral_gmv) = db.session.execute(select(
        func.count(), func.count(distinct(OrderFact.user_id)),
        func.coalesce(func.sum(OrderFact.total_minor), 0),
        func.coalesce(func.sum(OrderFact.refunded_minor), 0),
        func.coalesce(func.sum(case((OrderFact.source.in_(("referral", "poster")), 1), else_=0)), 0),
        func.coalesce(func.sum(case((OrderFact.source.in_(("referral", "poster")),
                                     OrderFact.total_minor), else_=0)), 0),
    ).where(paid)).one()
    board.gmv_minor, board.refunded_minor = int(gmv), int(refunded)
    board.referral_orders, board.referral_gmv_minor = int(referral_orders), int(referral_gmv)
    for day, count in db.session.execute(
            select(OrderFact.placed_day, func.count()).where(placed).group_by(OrderFact.placed_day)):
        days[day].orders = count
    for day, count, gmv in db.session.execute(
            select(OrderFact.paid_day, func.count(), func.sum(OrderFact.total_minor))
            .where(paid).group_by(OrderFact.paid_day)):
        days[day].paid_orders, days[day].gmv_minor = count, int(gmv)
    per_customer = (select(OrderFact.user_id, func.count().label("n")).where(paid)
                    .group_by(OrderFact.user_id).subquery())
    board.repeat_customers = db.session.scalar(
        select(func.count()).select_from(per_customer).where(per_customer.c.n >= 2))
    board.returning_customers = db.session.scalar(
        select(func.count(distinct(OrderFact.user_id)))
        .where(paid, OrderFact.first_paid_day < board.start))


def _sources(board: Dashboard) -> None:
    net = OrderFact.total_minor - OrderFact.refunded_minor
    rows = db.session.execute(
        select(Acquisition.source, func.count(distinct(Acquisition.user_id)),
               func.count(distinct(OrderFact.user_id)), func.count(OrderFact.order_id),
               func.coalesce(func.sum(net), 0))
        .outerjoin(OrderFact, and_(OrderFact.user_id == Acquisition.user_id,
                                   OrderFact.paid_day.is_not(None)))
        .where(Acquisition.day.between(board.start, board.end))
        .group_by(Acquisition.source)).all()
    board.sources = sorted((SourceValue(source, accounts, customers, orders, int(revenue))
                            for source, accounts, customers, orders, revenue in rows),
                           key=lambda s: (-s.ltv_minor, s.source))
    board.accounts = sum(s.accounts for s in board.sources)


def _rankings(board: Dashboard) -> None:
    from shop.articles.models import Article
    from shop.catalog.models import Product
    from shop.orders.models import OrderLine
    from shop.referrals.models import Commission, OrderReferral

    paid = OrderFact.paid_day.between(board.start, board.end)
    revenue = func.sum(ProductDay.revenue_minor)
    rows = db.session.execute(
        select(ProductDay.product_id, func.sum(ProductDay.orders), revenue, func.sum(ProductDay.units))
        .where(ProductDay.day.between(board.start, board.end))
        .group_by(ProductDay.product_id).order_by(revenue.desc(), ProductDay.product_id)
        .limit(RANKING_SIZE)).all()
    names = _names(Product, Product.title, [r[0] for r in rows])
    board.products = [Ranked(pid, names.get(pid, f"#{pid}"), int(orders), int(money), units=int(units))
                      for pid, orders, money, units in rows]

    rows = db.session.execute(
        select(OrderLine.source_article_id, func.count(distinct(OrderLine.order_id)),
               func.sum(OrderLine.total_minor))
        .join(OrderFact, OrderFact.order_id == OrderLine.order_id)
        .where(paid, OrderLine.source_article_id.is_not(None))
        .group_by(OrderLine.source_article_id)
        .order_by(func.sum(OrderLine.total_minor).desc(), OrderLine.source_article_id)
        .limit(RANKING_SIZE)).all()
    ids = [r[0] for r in rows]
    views = dict(db.session.execute(
        select(Hit.article_id, func.count()).where(Hit.kind == "article", Hit.article_id.in_(ids),
                                                   Hit.day.between(board.start, board.end))
        .group_by(Hit.article_id)).all()) if ids else {}
    names = _names(Article, Article.title, ids)
    board.articles = [Ranked(aid, names.get(aid, f"#{aid}"), orders, int(revenue),
                             views=views.get(aid, 0)) for aid, orders, revenue in rows]

    rows = db.session.execute(
        select(OrderReferral.level1_id, func.count(), func.sum(OrderFact.total_minor))
        .join(OrderFact, OrderFact.order_id == OrderReferral.order_id)
        .where(paid, OrderReferral.level1_id.is_not(None))
        .group_by(OrderReferral.level1_id)
        .order_by(func.sum(OrderFact.total_minor).desc(), OrderReferral.level1_id)
        .limit(RANKING_SIZE)).all()
    ids = [r[0] for r in rows]
    earned = dict(db.session.execute(
        select(Commission.user_id, func.sum(Commission.amount_minor - Commission.reversed_minor))
        .join(OrderFact, OrderFact.order_id == Commission.order_id)
        .where(Commission.user_id.in_(ids), Commission.level == 1, paid)
        .group_by(Commission.user_id)).all()) if ids else {}
    names = _names(User, User.nickname, ids)
    board.distributors = [Ranked(uid, names.get(uid, f"#{uid}"), orders, int(gmv),
                                 commission_minor=int(earned.get(uid, 0)))
                          for uid, orders, gmv in rows]


def _names(model, column, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, column).where(model.id.in_(ids))).all())


def _campaigns(board: Dashboard) -> None:
    from shop.groups.models import Group
    from shop.promotions.models import Coupon, UserCoupon

    since, until = day_start(board.start), day_start(board.end + timedelta(days=1))
    counts = dict(db.session.execute(
        select(Group.status, func.count())
        .where(Group.settled_at >= since, Group.settled_at < until,
               Group.status.in_(("complete", "failed")))
        .group_by(Group.status)).all())
    board.groups_complete, board.groups_failed = counts.get("complete", 0), counts.get("failed", 0)

    rows = db.session.execute(
        select(UserCoupon.coupon_id, func.count(), func.sum(UserCoupon.discount_minor),
               func.sum(OrderFact.total_minor))
        .join(OrderFact, OrderFact.order_id == UserCoupon.order_id)
        .where(UserCoupon.status == "used", OrderFact.paid_day.between(board.start, board.end))
        .group_by(UserCoupon.coupon_id)).all()
    ids = [r[0] for r in rows]
    claimed = dict(db.session.execute(
        select(UserCoupon.coupon_id, func.count())
        .where(UserCoupon.coupon_id.in_(ids), UserCoupon.created_at >= since,
               UserCoupon.created_at < until)
        .group_by(UserCoupon.coupon_id)).all()) if ids else {}
    names = _names(Coupon, Coupon.name, ids)
    board.coupons = sorted(
        (CouponReturn(cid, names.get(cid, f"#{cid}"), claimed.get(cid, 0), uses, int(discount),
                      int(gmv)) for cid, uses, discount, gmv in rows),
        key=lambda c: (-c.gmv_minor, c.id))


def dashboard(start: date, end: date) -> Dashboard:
    board = Dashboard(start=start, end=end, currency=current_app.config["SHOP_CURRENCY"])
    days = _traffic(board)
    _orders(board, days)
    board.days = list(days.values())
    _sources(board)
    _rankings(board)
    _campaigns(board)
    return board


# --- operations signals ----------------------------------------------------------------


@dataclass
class Signals:
    milestones: list = field(default_factory=list)  # (ProductMilestone, Product)
    stale: list = field(default_factory=list)       # (Product, last sold at or None)
    articles: list = field(default_factory=list)    # Article


def signals(now: datetime | None = None, *, milestone_days: int = 30) -> Signals:
    from shop.articles.services import due_for_repromotion
    from shop.catalog.models import Product

    now = now or utcnow()
    cutoff = now - timedelta(days=SIGNAL_DAYS)
    milestones = db.session.execute(
        select(ProductMilestone, Product).join(Product, Product.id == ProductMilestone.product_id)
        .where(ProductMilestone.reached_at >= now - timedelta(days=milestone_days))
        .order_by(ProductMilestone.reached_at.desc(), ProductMilestone.product_id)).all()
    stale = db.session.execute(
        select(Product, ProductSales.last_sold_at)
        .outerjoin(ProductSales, ProductSales.product_id == Product.id)
        .where(Product.status == "on_sale", Product.archived_at.is_(None),
               Product.on_sale_since <= cutoff,
               or_(ProductSales.last_sold_at.is_(None), ProductSales.last_sold_at < cutoff))
        .order_by(ProductSales.last_sold_at.asc().nulls_first(), Product.id)).all()
    return Signals(milestones=[tuple(r) for r in milestones], stale=[tuple(r) for r in stale],
                   articles=due_for_repromotion(now))

