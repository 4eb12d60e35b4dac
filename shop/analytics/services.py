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
  landed (Acquisition); their revenue is everything they have paid to date, less refunds
  (kept on the Acquisition row by each payment and refund); LTV = revenue / accounts,
  rounded half up.
Rankings (orders paid in the range, from SalesDay: an order counts once the sweeper has
  counted it, within a sweep of its payment): products by goods revenue (what each line
  paid for its goods, after its discounts, free gifts aside); articles by what the lines
  credited to them paid for their goods (shop.articles.attribution),
  with their views; distributors by the GMV of orders whose level-1 earner they are, with
  the commissions those orders earned them (less reversals, as of now). Group buys settled
  in the range: success rate = complete / (complete + failed). Coupons: uses in orders paid
  in the range, as the sweeper found them when it counted the order (within a sweep of the
  payment: a coupon handed back by a later full refund still counts, as its order does in
  GMV), claims made in the range, the discount given, the GMV of those orders and the
  return (GMV per unit of discount).

How it stays fast (DESIGN: under a second at 1 M orders and 10 M page views): the sweeper
rolls each closed day up into one DayFigures row (sums, and roaring bitmaps of who: the
distinct counts of any range are unions of at most 366 of them); the dashboard reads the
raw hits and facts only for the days after the last one rolled, plus the few facts the
rollup of their day did not see (OrderFact.rolled_as). A day closes an hour after its end:
a hit or a payment committed later than that into a rolled day is not in its figures.
Refunds come at any time, so they are summed from the facts (an index holds only refunded
ones); what customers paid to date is kept on their Acquisition row.
Operations signals (from the seeds): products whose sales count crossed 100 or 1,000
  (the moments to push a hit); products on sale for SIGNAL_DAYS without a sale (time to
  replace them); articles due for re-promotion (shop.articles, every 15 days by default).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from pyroaring import BitMap
from sqlalchemy import (and_, case, distinct, exists, func, insert, or_, select, text, union,
                        update)

from shop.accounts.models import User
from shop.analytics.models import (LATE, MILESTONES, Acquisition, DayFigures, Hit, OrderFact,
                                   ProductMilestone, ProductSales, RollupMark, SalesDay,
                                   VisitorNumber)
from shop.db import day_start, db, insert_missing, local_day, upsert, utcnow
from shop.signals import account_closing

ROLLUP = "day_figures"
REFERRED = ("referral", "poster")
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
        _customer_value(fact.user_id, orders=1, revenue_minor=fact.total_minor)
    db.session.flush()


def order_refunded(order, refunded_minor: int) -> None:
    fact = db.session.get(OrderFact, order.id)
    if fact is not None and refunded_minor > fact.refunded_minor:  # all refunded so far
        if fact.paid_day is not None:
            _customer_value(fact.user_id, orders=0,
                            revenue_minor=fact.refunded_minor - refunded_minor)
        fact.refunded_minor = refunded_minor
        db.session.flush()


def _customer_value(user_id: int, *, orders: int, revenue_minor: int) -> None:
    """What the customer has paid to date, on where they came from (one UPDATE: parallel
    payments add up)."""
    db.session.execute(
        update(Acquisition).where(Acquisition.user_id == user_id)
        .values(paid_orders=Acquisition.paid_orders + orders,
                revenue_minor=Acquisition.revenue_minor + revenue_minor)
        .execution_options(synchronize_session=False))


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
    if through:
        first = through + timedelta(days=1)
    else:  # from the first hit or order (orders made before tracking began have facts)
        firsts = [db.session.scalar(select(func.min(Hit.day))),
                  db.session.scalar(select(func.min(OrderFact.placed_day)))]
        if firsts == [None, None]:
            return []
        first = min(day for day in firsts if day is not None)
    return [first + timedelta(days=n) for n in range(min((last_closed - first).days + 1, 366))]


def roll_up_day(day: date) -> bool:
    """Roll one closed day up into its DayFigures row, in order: under the lock of the
    mark, only the day right after the last one rolled (so two sweepers never roll a day
    twice)."""
    insert_missing(RollupMark, "name", name=ROLLUP, through=EPOCH)
    mark = db.session.get(RollupMark, ROLLUP, with_for_update=True, populate_existing=True)
    if mark.through > EPOCH and mark.through != day - timedelta(days=1):
        return False
    # Orders placed that day, marked with how this rollup sees them: the UPDATE waits for a
    # payment in flight, and a payment after it finds the order rolled as "placed" (LATE);
    # a fact committed after it stays unmarked, for the dashboard to count (LATE too).
    db.session.execute(
        update(OrderFact).where(OrderFact.placed_day == day)
        .values(rolled_as=case((OrderFact.paid_day.is_(None), "placed"), else_="paid"))
        .execution_options(synchronize_session=False))
    _number_visitors(day)  # after the UPDATE: every fact it marked has a number
    figures = DayFigures(day=day, page_views=0, orders=0)
    visitors, products, carts = BitMap(), BitMap(), BitMap()
    is_cart = case((Hit.kind == "cart", 1), else_=0)
    for number, pages, product, cart in db.session.execute(
            select(VisitorNumber.number, func.sum(1 - is_cart),
                   func.max(case((Hit.kind == "product", 1), else_=0)), func.max(is_cart))
            .join(VisitorNumber, VisitorNumber.visitor == Hit.visitor)
            .where(Hit.day == day).group_by(VisitorNumber.number)):
        visitors.add(number)
        if product:
            products.add(number)
        if cart:
            carts.add(number)
        figures.page_views += int(pages)
    figures.landings = dict(db.session.execute(
        select(Hit.source, func.count()).where(Hit.day == day, Hit.source.is_not(None))
        .group_by(Hit.source).order_by(Hit.source)).all())
    ordering, paying = BitMap(), BitMap()
    for number, rolled_as in db.session.execute(  # the facts the UPDATE marked, locked
            select(VisitorNumber.number, OrderFact.rolled_as)
            .join(VisitorNumber, VisitorNumber.visitor == OrderFact.visitor)
            .where(OrderFact.placed_day == day, OrderFact.rolled_as.is_not(None))):
        figures.orders += 1
        ordering.add(number)
        if rolled_as == "paid":
            paying.add(number)

    # after the facts, as count_sales locks a fact before its SalesDay rows
    for article_id, views in db.session.execute(
            select(Hit.article_id, func.count()).where(Hit.day == day, Hit.kind == "article")
            .group_by(Hit.article_id).order_by(Hit.article_id)):
        _add_sales(day, "article", article_id, views=views)

    paid = _payments(OrderFact.paid_day == day)
    (figures.paid_orders, figures.gmv_minor, figures.referral_orders,
     figures.referral_gmv_minor) = paid.totals
    for name, bitmap in (("visitor_set", visitors), ("product_set", products),
                         ("cart_set", carts), ("ordering_set", ordering), ("paying_set", paying),
                         ("customer_set", paid.customers), ("repeater_set", paid.repeaters),
                         ("newcomer_set", paid.newcomers)):
        bitmap.run_optimize()
        setattr(figures, name, bitmap.serialize())
    db.session.add(figures)
    mark.through = day
    db.session.flush()
    return True


def _number_visitors(day: date) -> None:
    """Give a number to each visitor of the day (hits, orders placed) who has none."""
    seen = union(select(Hit.visitor.label("visitor")).where(Hit.day == day),
                 select(OrderFact.visitor).where(OrderFact.placed_day == day)).subquery()
    db.session.execute(
        upsert(VisitorNumber).from_select(
            ["visitor"], select(seen.c.visitor).where(~exists().where(
                VisitorNumber.visitor == seen.c.visitor)).order_by(seen.c.visitor))
        .on_conflict_do_nothing(index_elements=["visitor"]))


@dataclass
class Payments:
    """Payments of some days: totals (paid orders, GMV, referral orders, referral GMV)
    and the accounts that paid, paid twice or more, and paid for the first time ever."""

    totals: tuple[int, int, int, int]
    customers: BitMap
    repeaters: BitMap
    newcomers: BitMap


def _payments(where) -> Payments:
    referred = OrderFact.source.in_(REFERRED)
    rows = db.session.execute(
        select(OrderFact.user_id, func.count(), func.sum(OrderFact.total_minor),
               func.sum(case((referred, 1), else_=0)),
               func.sum(case((referred, OrderFact.total_minor), else_=0)),
               func.max(case((OrderFact.first_paid_day == OrderFact.paid_day, 1), else_=0)))
        .where(where).group_by(OrderFact.user_id)).all()
    return Payments(
        totals=tuple(sum(int(row[n]) for row in rows) for n in (1, 2, 3, 4)),
        customers=BitMap(row[0] for row in rows),
        repeaters=BitMap(row[0] for row in rows if row[1] >= 2),
        newcomers=BitMap(row[0] for row in rows if row[5]))


def uncounted_order_ids(limit: int = 1000) -> list[int]:
    return list(db.session.scalars(
        select(OrderFact.order_id).where(OrderFact.paid_day.is_not(None),
                                         OrderFact.counted.is_(False))
        .order_by(OrderFact.order_id).limit(limit)))


def count_sales(order_id: int) -> bool:
    """Add a paid order's units to its products' sales counts (shop.catalog), note when
    each last sold, record the milestones the counts crossed, and add the order to the
    SalesDay rows of its paid day (products, credited articles, its level-1 distributor,
    the coupons it used). Once per order."""
    from shop.catalog.services import add_sales
    from shop.orders.models import OrderLine
    from shop.promotions.models import UserCoupon
    from shop.referrals.models import OrderReferral

    fact = db.session.get(OrderFact, order_id, with_for_update=True, populate_existing=True)
    if fact is None or fact.counted or fact.paid_at is None:
        return False
    day = fact.paid_day
    goods = OrderLine.total_minor - OrderLine.discount_minor  # what each line paid for its goods
    units = db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity), func.sum(goods))
        .where(OrderLine.order_id == order_id, OrderLine.total_minor > 0)  # free gifts aside
        .group_by(OrderLine.product_id).order_by(OrderLine.product_id)).all()
    # rows are locked in one order: products by id, then articles, distributor, coupons
    for product_id, quantity, revenue in units:
        before, after = add_sales(product_id, int(quantity))
        _add_sales(day, "product", product_id, orders=1, units=int(quantity),
                   revenue_minor=int(revenue))
        for threshold in MILESTONES:
            if before < threshold <= after:
                insert_missing(ProductMilestone, ("product_id", "threshold"), product_id=product_id,
                               threshold=threshold, reached_at=fact.paid_at)
        insert_missing(ProductSales, "product_id", product_id=product_id, last_sold_at=fact.paid_at)
        db.session.execute(
            ProductSales.__table__.update()
            .where(ProductSales.product_id == product_id, ProductSales.last_sold_at < fact.paid_at)
            .values(last_sold_at=fact.paid_at))
    for article_id, revenue in db.session.execute(
            select(OrderLine.source_article_id, func.sum(goods))
            .where(OrderLine.order_id == order_id, OrderLine.source_article_id.is_not(None))
            .group_by(OrderLine.source_article_id).order_by(OrderLine.source_article_id)):
        _add_sales(day, "article", article_id, orders=1, revenue_minor=int(revenue))
    level1 = db.session.scalar(select(OrderReferral.level1_id)
                               .where(OrderReferral.order_id == order_id))
    if level1 is not None:
        _add_sales(day, "distributor", level1, orders=1, revenue_minor=fact.total_minor)
    for coupon_id, discount in db.session.execute(
            select(UserCoupon.coupon_id, func.sum(UserCoupon.discount_minor))
            .where(UserCoupon.order_id == order_id, UserCoupon.status == "used")
            .group_by(UserCoupon.coupon_id).order_by(UserCoupon.coupon_id)):
        _add_sales(day, "coupon", coupon_id, orders=1, revenue_minor=fact.total_minor,
                   discount_minor=int(discount))
    fact.counted = True
    db.session.flush()
    return True


def _add_sales(day: date, kind: str, item_id: int, **amounts: int) -> None:
    """Add to one SalesDay row (made if missing): one UPDATE, so adders never lose one."""
    insert_missing(SalesDay, ("day", "kind", "item_id"), day=day, kind=kind, item_id=item_id)
    table = SalesDay.__table__
    db.session.execute(
        table.update().where(table.c.day == day, table.c.kind == kind, table.c.item_id == item_id)
        .values(**{name: table.c[name] + amount for name, amount in amounts.items()}))


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
    conversion_bp: int | None = None  # distributors: shop.referrals.services.conversion_bp


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
    def conversion_bp(self) -> int:
        """Visitors of the range who paid for an order placed in it, per visitor."""
        return share_bp(self.paying_visitors, self.visitors)

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


@dataclass
class People:
    """Distinct visitors: the numbered ones (VisitorNumber) in a bitmap, and by their id
    those not numbered yet (seen only on days after the rollup, so in no bitmap)."""

    numbers: BitMap = field(default_factory=BitMap)
    ids: set[str] = field(default_factory=set)

    def add(self, number: int | None, visitor: str) -> None:
        if number is None:
            self.ids.add(visitor)
        else:
            self.numbers.add(number)

    def __and__(self, other: People) -> People:
        return People(self.numbers & other.numbers, self.ids & other.ids)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.ids)


def _union(blobs: list[bytes]) -> BitMap:
    return BitMap.union(BitMap(), *(BitMap.deserialize(blob) for blob in blobs))


def _traffic(board: Dashboard, days: dict[date, Day], rolled: list[DayFigures],
             rolled_days: tuple[date, date] | None, raw: tuple[date, date] | None) -> None:
    """Visitors, page views, landings and the funnel: the rolled days' bitmaps, with the
    raw hits of the days after them and the facts the rollup has not seen (LATE)."""
    day_visitors = [BitMap.deserialize(row.visitor_set) for row in rolled]
    visitors = People(BitMap.union(BitMap(), *day_visitors))
    products, carts, ordering, paying = (
        People(_union([getattr(row, name) for row in rolled]))
        for name in ("product_set", "cart_set", "ordering_set", "paying_set"))
    landings: dict[str, int] = {}
    for row, day_set in zip(rolled, day_visitors):
        day = days[row.day]
        day.visitors, day.page_views, day.orders = len(day_set), row.page_views, row.orders
        board.page_views += row.page_views
        board.orders += row.orders
        for source, count in row.landings.items():
            landings[source] = landings.get(source, 0) + count
    if raw is not None:
        is_product = func.max(case((Hit.kind == "product", 1), else_=0))
        is_cart = func.max(case((Hit.kind == "cart", 1), else_=0))
        for visitor, number, product, cart in db.session.execute(
                select(Hit.visitor, VisitorNumber.number, is_product, is_cart)
                .outerjoin(VisitorNumber, VisitorNumber.visitor == Hit.visitor)
                .where(Hit.day.between(*raw)).group_by(Hit.visitor, VisitorNumber.number)):
            visitors.add(number, visitor)
            if product:
                products.add(number, visitor)
            if cart:
                carts.add(number, visitor)
        for day, count, pages in db.session.execute(
                select(Hit.day, func.count(distinct(Hit.visitor)),
                       func.sum(case((Hit.kind == "cart", 0), else_=1)))
                .where(Hit.day.between(*raw)).group_by(Hit.day)):
            days[day].visitors, days[day].page_views = count, int(pages or 0)
            board.page_views += int(pages or 0)
        for source, count in db.session.execute(
                select(Hit.source, func.count())
                .where(Hit.day.between(*raw), Hit.source.is_not(None)).group_by(Hit.source)):
            landings[source] = landings.get(source, 0) + count
    board.landings = {source: count for source, count in landings.items() if count}

    unseen = []  # orders placed on days not rolled up, and those the rollup did not see
    if raw is not None:
        unseen.append(OrderFact.placed_day.between(*raw))
    if rolled_days is not None:
        unseen.append(and_(OrderFact.placed_day.between(*rolled_days), text(f"({LATE})")))
    if unseen:
        for visitor, number, placed_day, rolled_as, paid in db.session.execute(
                select(OrderFact.visitor, VisitorNumber.number, OrderFact.placed_day,
                       OrderFact.rolled_as, OrderFact.paid_day.is_not(None))
                .outerjoin(VisitorNumber, VisitorNumber.visitor == OrderFact.visitor)
                .where(or_(*unseen))):
            if rolled_as is None or (raw is not None and placed_day >= raw[0]):
                # not in the rollup's orders: counted here
                days[placed_day].orders += 1
                board.orders += 1
                ordering.add(number, visitor)
            if paid:
                paying.add(number, visitor)
    board.visitors = len(visitors)
    board.product_viewers, board.cart_adders = len(products), len(carts)
    board.ordering_visitors = len(ordering & visitors)
    board.paying_visitors = len(paying & visitors)


def _orders(board: Dashboard, days: dict[date, Day], rolled: list[DayFigures],
            raw: tuple[date, date] | None) -> None:
    """Payments: the rolled days' totals and bitmaps of accounts, with the raw facts of
    the days after them; refunds from the facts (they come at any time)."""
    customers = [BitMap.deserialize(row.customer_set) for row in rolled]
    repeaters = [BitMap.deserialize(row.repeater_set) for row in rolled]
    newcomers = [BitMap.deserialize(row.newcomer_set) for row in rolled]
    for row in rolled:
        days[row.day].paid_orders, days[row.day].gmv_minor = row.paid_orders, row.gmv_minor
        board.paid_orders += row.paid_orders
        board.gmv_minor += row.gmv_minor
        board.referral_orders += row.referral_orders
        board.referral_gmv_minor += row.referral_gmv_minor
    if raw is not None:
        paid = _payments(OrderFact.paid_day.between(*raw))
        customers.append(paid.customers)
        repeaters.append(paid.repeaters)
        newcomers.append(paid.newcomers)
        count, gmv, referral_orders, referral_gmv = paid.totals
        board.paid_orders += count
        board.gmv_minor += gmv
        board.referral_orders += referral_orders
        board.referral_gmv_minor += referral_gmv
        for day, count, gmv in db.session.execute(
                select(OrderFact.paid_day, func.count(), func.sum(OrderFact.total_minor))
                .where(OrderFact.paid_day.between(*raw)).group_by(OrderFact.paid_day)):
            days[day].paid_orders, days[day].gmv_minor = count, int(gmv)
    # a repeat customer paid twice or more on one of the days, or on two of them
    seen, twice = BitMap(), BitMap.union(BitMap(), *repeaters)
    for day_customers in customers:
        twice |= seen & day_customers
        seen |= day_customers
    board.paying_customers, board.repeat_customers = len(seen), len(twice)
    board.returning_customers = len(seen) - len(BitMap.union(BitMap(), *newcomers))
    board.refunded_minor = int(db.session.scalar(
        select(func.coalesce(func.sum(OrderFact.refunded_minor), 0))
        .where(OrderFact.paid_day.between(board.start, board.end), OrderFact.refunded_minor > 0)))


def _sources(board: Dashboard) -> None:
    rows = db.session.execute(
        select(Acquisition.source, func.count(),
               func.sum(case((Acquisition.paid_orders > 0, 1), else_=0)),
               func.sum(Acquisition.paid_orders), func.sum(Acquisition.revenue_minor))
        .where(Acquisition.day.between(board.start, board.end))
        .group_by(Acquisition.source)).all()
    board.sources = sorted((SourceValue(source, accounts, int(customers), int(orders), int(revenue))
                            for source, accounts, customers, orders, revenue in rows),
                           key=lambda s: (-s.ltv_minor, s.source))
    board.accounts = sum(s.accounts for s in board.sources)


def _top(kind: str, board: Dashboard, limit: int | None = RANKING_SIZE) -> list:
    """Items of one kind by what the sweeper has counted of the range's paid orders:
    (id, orders, revenue, units, discount, views), highest revenue first."""
    revenue = func.sum(SalesDay.revenue_minor)
    return [tuple(int(n) for n in row) for row in db.session.execute(
        select(SalesDay.item_id, func.sum(SalesDay.orders), revenue, func.sum(SalesDay.units),
               func.sum(SalesDay.discount_minor), func.sum(SalesDay.views))
        .where(SalesDay.kind == kind, SalesDay.day.between(board.start, board.end))
        .group_by(SalesDay.item_id).having(func.sum(SalesDay.orders) > 0)
        .order_by(revenue.desc(), SalesDay.item_id).limit(limit))]


def _rankings(board: Dashboard, raw: tuple[date, date] | None) -> None:
    from shop.articles.models import Article
    from shop.catalog.models import Product
    from shop.referrals import services as referrals
    from shop.referrals.models import Commission

    rows = _top("product", board)
    names = _names(Product, Product.title, [r[0] for r in rows])
    board.products = [Ranked(pid, names.get(pid, f"#{pid}"), orders, revenue, units=units)
                      for pid, orders, revenue, units, _discount, _views in rows]

    rows = _top("article", board)
    ids = [r[0] for r in rows]
    views = dict(db.session.execute(  # views of the days not rolled up yet
        select(Hit.article_id, func.count()).where(Hit.kind == "article", Hit.article_id.in_(ids),
                                                   Hit.day.between(*raw))
        .group_by(Hit.article_id)).all()) if ids and raw is not None else {}
    names = _names(Article, Article.title, ids)
    board.articles = [Ranked(aid, names.get(aid, f"#{aid}"), orders, revenue,
                             views=rolled_views + views.get(aid, 0))
                      for aid, orders, revenue, _units, _discount, rolled_views in rows]

    rows = _top("distributor", board)
    ids = [r[0] for r in rows]
    earned = dict(db.session.execute(
        select(Commission.user_id, func.sum(Commission.amount_minor - Commission.reversed_minor))
        .join(OrderFact, OrderFact.order_id == Commission.order_id)
        .where(Commission.user_id.in_(ids), Commission.level == 1,
               OrderFact.paid_day.between(board.start, board.end))
        .group_by(Commission.user_id)).all()) if ids else {}
    names = _names(User, User.nickname, ids)
    # their links' conversion over the same days: buyers per visitor, as the centre counts it
    reach = referrals.link_reach(ids, since=day_start(board.start),
                                 until=day_start(board.end + timedelta(days=1)))
    board.distributors = [Ranked(uid, names.get(uid, f"#{uid}"), orders, gmv,
                                 commission_minor=int(earned.get(uid, 0)),
                                 conversion_bp=referrals.conversion_bp(reach[uid][2], reach[uid][1]))
                          for uid, orders, gmv, _units, _discount, _views in rows]


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

    rows = _top("coupon", board, limit=None)
    ids = [r[0] for r in rows]
    claimed = dict(db.session.execute(
        select(UserCoupon.coupon_id, func.count())
        .where(UserCoupon.coupon_id.in_(ids), UserCoupon.created_at >= since,
               UserCoupon.created_at < until)
        .group_by(UserCoupon.coupon_id)).all()) if ids else {}
    names = _names(Coupon, Coupon.name, ids)
    board.coupons = [CouponReturn(cid, names.get(cid, f"#{cid}"), claimed.get(cid, 0), uses,
                                  discount, gmv)
                     for cid, uses, gmv, _units, discount, _views in rows]


def dashboard(start: date, end: date, *, full: bool = True) -> Dashboard:
    """The figures of a range; full=False: the headline figures alone (traffic, orders,
    payments, refunds), without the tables (sources, rankings, campaigns)."""
    board = Dashboard(start=start, end=end, currency=current_app.config["SHOP_CURRENCY"])
    days = {start + timedelta(days=n): Day(start + timedelta(days=n))
            for n in range((end - start).days + 1)}
    # Held for share until the request ends, so no rollup commits between these reads
    # (PostgreSQL; SQLite reads one snapshot per transaction).
    db.session.get(RollupMark, ROLLUP, with_for_update={"read": True}, populate_existing=True)
    rolled_days, raw = _split(start, end)
    rolled = list(db.session.scalars(
        select(DayFigures).where(DayFigures.day.between(*rolled_days)).order_by(DayFigures.day)
    )) if rolled_days is not None else []
    _traffic(board, days, rolled, rolled_days, raw)
    _orders(board, days, rolled, raw)
    board.days = list(days.values())
    if full:
        _sources(board)
        _rankings(board, raw)
        _campaigns(board)
    return board


# --- comparisons: a range against the one before it ------------------------------------

# The headline figures a range is compared on (attributes of Dashboard).
COMPARED = ("visitors", "page_views", "orders", "paid_orders", "paying_customers", "gmv_minor",
            "aov_minor", "refunded_minor", "conversion_bp", "repurchase_bp", "new_customers",
            "returning_customers")


@dataclass(frozen=True)
class Change:
    """A figure now and in the period before: the difference, and the difference as a
    share of the figure before in basis points, rounded half away from zero (None when
    there was nothing before: no share of zero)."""

    current: int
    previous: int

    @property
    def diff(self) -> int:
        return self.current - self.previous

    @property
    def percent_bp(self) -> int | None:
        if self.previous <= 0:
            return None
        magnitude = half_up(abs(self.diff) * 10_000, self.previous)
        return magnitude if self.diff >= 0 else -magnitude

    @property
    def direction(self) -> str:
        return "up" if self.diff > 0 else "down" if self.diff < 0 else "same"


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The days just before the range, as many as it has."""
    before = start - timedelta(days=1)
    return before - (end - start), before


def changes(board: Dashboard, previous: Dashboard) -> dict[str, Change]:
    return {name: Change(int(getattr(board, name)), int(getattr(previous, name)))
            for name in COMPARED}


def compared(start: date, end: date) -> tuple[Dashboard, Dashboard, dict[str, Change]]:
    """The range's full figures, the headline figures of the days just before it, and
    each headline figure's change: twice the headline queries, however long the range."""
    board = dashboard(start, end)
    previous = dashboard(*previous_range(start, end), full=False)
    return board, previous, changes(board, previous)


@dataclass
class Today:
    """Today's headline figures next to yesterday's (the backoffice home's summary):
    visitors, orders placed, paid orders, the amount paid (GMV) and conversion (visitors
    who paid, per visitor, in basis points)."""

    day: date
    currency: str
    visitors: Change
    orders: Change
    paid_orders: Change
    paid_minor: Change
    conversion_bp: Change


def today_vs_yesterday(now: datetime | None = None) -> Today:
    """Today so far (the shop's local day) against the whole of yesterday."""
    today = local_day(now or utcnow())
    board = dashboard(today, today, full=False)
    before = dashboard(today - timedelta(days=1), today - timedelta(days=1), full=False)
    found = changes(board, before)
    return Today(day=today, currency=board.currency, visitors=found["visitors"],
                 orders=found["orders"], paid_orders=found["paid_orders"],
                 paid_minor=found["gmv_minor"], conversion_bp=found["conversion_bp"])


# --- operations signals ----------------------------------------------------------------


@dataclass
class Signals:
    milestones: list = field(default_factory=list)  # (ProductMilestone, Product)
    stale: list = field(default_factory=list)       # (Product, last sold at or None)
    articles: list = field(default_factory=list)    # Article

    @property
    def count(self) -> int:
        """How many things ask for attention (the backoffice home shows it)."""
        return len(self.milestones) + len(self.stale) + len(self.articles)


def _signal_queries(now: datetime, milestone_days: int):
    """The three kinds of signal as queries: milestones reached lately, products on sale
    that stopped selling, articles due for re-promotion."""
    from shop.articles.services import due_query
    from shop.catalog.models import Product

    cutoff = now - timedelta(days=SIGNAL_DAYS)
    milestones = (select(ProductMilestone, Product)
                  .join(Product, Product.id == ProductMilestone.product_id)
                  .where(ProductMilestone.reached_at >= now - timedelta(days=milestone_days)))
    stale = (select(Product, ProductSales.last_sold_at)
             .outerjoin(ProductSales, ProductSales.product_id == Product.id)
             .where(Product.status == "on_sale", Product.archived_at.is_(None),
                    Product.on_sale_since <= cutoff,
                    or_(ProductSales.last_sold_at.is_(None), ProductSales.last_sold_at < cutoff)))
    return milestones, stale, due_query(now)


def signals(now: datetime | None = None, *, milestone_days: int = 30) -> Signals:
    from shop.articles.services import due_for_repromotion
    from shop.catalog.models import Product

    now = now or utcnow()
    milestones, stale, _due = _signal_queries(now, milestone_days)
    milestones = db.session.execute(milestones.order_by(
        ProductMilestone.reached_at.desc(), ProductMilestone.product_id)).all()
    stale = db.session.execute(stale.order_by(
        ProductSales.last_sold_at.asc().nulls_first(), Product.id)).all()
    return Signals(milestones=[tuple(r) for r in milestones], stale=[tuple(r) for r in stale],
                   articles=due_for_repromotion(now))


def signals_count(now: datetime | None = None, *, milestone_days: int = 30) -> int:
    """How many signals ask for attention (the backoffice home), counted by the database:
    one query, whatever the size of the catalogue."""
    counts = [select(func.count()).select_from(query.subquery())
              for query in _signal_queries(now or utcnow(), milestone_days)]
    return db.session.scalar(select(counts[0].scalar_subquery() + counts[1].scalar_subquery()
                                    + counts[2].scalar_subquery()))


# --- account closure (shop.accounts.closure) ---------------------------------------------


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """The figures stay as they were, nothing in them leads back to the person: their
    page views lose their account, and each visitor id (browser cookie) they used is
    replaced everywhere by a new random one (views, order facts, the visitor numbers of
    the rolled-up days, article events, link opens), so the counts of every day are the
    same and the browsing can not be joined to the browser that did it. Acquisition and
    the order facts keep their account id: it names the closed, empty row (the value of
    a customer by source, kept for the books)."""
    from shop.articles.models import ArticleEvent
    from shop.referrals.models import LinkOpen

    used = db.session.scalars(union(select(Hit.visitor).where(Hit.user_id == user.id),
                                    select(OrderFact.visitor).where(OrderFact.user_id == user.id))
                              ).all()
    for old in sorted(used):
        new = secrets.token_hex(16)
        for model in (Hit, OrderFact, VisitorNumber, ArticleEvent, LinkOpen):
            db.session.execute(update(model).where(model.visitor == old).values(visitor=new)
                               .execution_options(synchronize_session=False))
    db.session.execute(update(Hit).where(Hit.user_id == user.id).values(user_id=None)
                       .execution_options(synchronize_session=False))
