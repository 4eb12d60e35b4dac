"""What the figures are counted from.

- Hit: one row per tracked page view or add-to-cart, written with one INSERT. A hit that
  *lands* (the first page of a visit from outside the shop, or any page opened through a
  share link, a poster's QR code or utm parameters) carries its source.
- DayFigures: one closed day rolled up by the sweeper (RollupMark says up to which day):
  its totals, and who made them as compressed bitmaps (roaring) of visitor numbers
  (VisitorNumber) and of account ids, so the distinct visitors, customers and funnel
  steps of any range are unions of at most 366 small bitmaps instead of a GROUP BY over
  millions of rows. The dashboard reads the raw hits and facts only for the days after.
- OrderFact: one row per order, written when it is placed and updated when it is paid or
  refunded, in those transactions (insert and update of its own row: no shared counter
  for parallel payments to queue on). Days are the shop's local days. `rolled_as` says how
  the rollup of its placed day saw it, so a payment that comes after is still counted.
- Acquisition: where a customer came from, fixed when the account is made, with what the
  customer has paid to date (added by each payment and taken off by each refund).
- SalesDay: per paid day and product, article, distributor or coupon, what the sweeper
  has counted of paid orders (the rankings), and the article views of rolled days.
- ProductSales / ProductMilestone: when a product last sold, and when its sales count
  (catalog's Product.sales_count, which the sweeper adds paid units to) crossed 100 and
  1,000.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer,
                        LargeBinary, String, text)
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import UTCDateTime, db, one_of, utcnow

SOURCES = ("direct", "referral", "poster", "utm", "article")
RANKED = ("product", "article", "distributor", "coupon")  # what SalesDay rows count
ROLLED_AS = ("placed", "paid")
HIT_KINDS = ("page", "product", "article", "cart")
MILESTONES = (100, 1000)

# ids that grow past 2**31 on a busy shop; SQLite keeps its rowid alias with INTEGER
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Hit(db.Model):
    __tablename__ = "hits"
    __table_args__ = (
        CheckConstraint(one_of("kind", HIT_KINDS), name="kind_known"),
        CheckConstraint(f"source IS NULL OR {one_of('source', SOURCES)}", name="source_known"),
        Index("ix_hits_day_kind", "day", "kind"),
        Index("ix_hits_visitor", "visitor", "id"),  # first and last landing of a visitor
        Index("ix_hits_landings", "day", "source", postgresql_where=text("source IS NOT NULL"),
              sqlite_where=text("source IS NOT NULL")),
        Index("ix_hits_articles", "day", "article_id", postgresql_where=text("kind = 'article'"),
              sqlite_where=text("kind = 'article'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    visitor: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(8))
    product_id: Mapped[int | None] = mapped_column()
    article_id: Mapped[int | None] = mapped_column()
    source: Mapped[str | None] = mapped_column(String(8))
    ref_code: Mapped[str | None] = mapped_column(String(8))
    utm_source: Mapped[str | None] = mapped_column(String(64))
    utm_medium: Mapped[str | None] = mapped_column(String(64))
    utm_campaign: Mapped[str | None] = mapped_column(String(64))


class VisitorNumber(db.Model):
    """A number for each visitor id, given by the rollup of the first day it is seen (the
    bitmaps of DayFigures hold numbers: dense integers compress well)."""

    __tablename__ = "visitor_numbers"

    number: Mapped[int] = mapped_column(BigId, primary_key=True)
    visitor: Mapped[str] = mapped_column(String(32), unique=True)


class DayFigures(db.Model):
    """One closed day: page views, landings per source, orders placed; paid orders, GMV
    and referral orders paid that day; and as bitmaps (pyroaring, portable format) its
    visitors, product viewers and cart adders, the visitors who placed an order that day
    and those of them who had paid by the rollup (VisitorNumber), and the accounts that
    paid that day, paid twice or more that day, or paid for the first time ever."""

    __tablename__ = "day_figures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    page_views: Mapped[int] = mapped_column(default=0)
    landings: Mapped[dict] = mapped_column(JSON, default=dict)  # source -> landings
    orders: Mapped[int] = mapped_column(default=0)
    paid_orders: Mapped[int] = mapped_column(default=0)
    gmv_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    referral_orders: Mapped[int] = mapped_column(default=0)
    referral_gmv_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    visitor_set: Mapped[bytes] = mapped_column(LargeBinary)
    product_set: Mapped[bytes] = mapped_column(LargeBinary)
    cart_set: Mapped[bytes] = mapped_column(LargeBinary)
    ordering_set: Mapped[bytes] = mapped_column(LargeBinary)
    paying_set: Mapped[bytes] = mapped_column(LargeBinary)
    customer_set: Mapped[bytes] = mapped_column(LargeBinary)
    repeater_set: Mapped[bytes] = mapped_column(LargeBinary)
    newcomer_set: Mapped[bytes] = mapped_column(LargeBinary)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RollupMark(db.Model):
    """How far a rollup has gone: every day up to `through` is rolled up."""

    __tablename__ = "rollup_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    through: Mapped[date] = mapped_column(Date)


LATE = "rolled_as IS NULL OR (rolled_as = 'placed' AND paid_day IS NOT NULL)"


class OrderFact(db.Model):
    __tablename__ = "order_facts"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source_known"),
        CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
        CheckConstraint(f"rolled_as IS NULL OR {one_of('rolled_as', ROLLED_AS)}",
                        name="rolled_as_known"),
        Index("ix_order_facts_placed", "placed_day", "visitor"),
        Index("ix_order_facts_paid", "paid_day", "user_id", "total_minor"),
        Index("ix_order_facts_user_paid", "user_id", "paid_day"),
        Index("ix_order_facts_refunded", "paid_day",
              postgresql_include=["refunded_minor"],
              postgresql_where=text("refunded_minor > 0"), sqlite_where=text("refunded_minor > 0")),
        # facts the rollup of their placed day did not see, or saw unpaid and are paid now
        Index("ix_order_facts_late", "placed_day", postgresql_where=text(LATE),
              sqlite_where=text(LATE)),
        Index("ix_order_facts_uncounted", "order_id",
              postgresql_where=text("paid_day IS NOT NULL AND NOT counted"),
              sqlite_where=text("paid_day IS NOT NULL AND NOT counted")),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True,
                                          autoincrement=False)
    user_id: Mapped[int] = mapped_column()
    visitor: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column()
    refunded_minor: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(8), default="direct")
    ref_code: Mapped[str | None] = mapped_column(String(8))
    placed_day: Mapped[date] = mapped_column(Date)
    paid_day: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the customer's first paid day as of this payment: before a range's start means a
    # returning customer (two payments racing on one day both see that day: still right)
    first_paid_day: Mapped[date | None] = mapped_column(Date)
    counted: Mapped[bool] = mapped_column(default=False)  # in ProductSales yet
    # None: its placed day is not rolled up yet (or it was made after: see LATE)
    rolled_as: Mapped[str | None] = mapped_column(String(6))


class Acquisition(db.Model):
    __tablename__ = "acquisitions"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source_known"),
        Index("ix_acquisitions_day_source", "day", "source",
              postgresql_include=["paid_orders", "revenue_minor"]),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True,
                                         autoincrement=False)
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8))
    ref_code: Mapped[str | None] = mapped_column(String(8))
    article_id: Mapped[int | None] = mapped_column()
    utm_campaign: Mapped[str | None] = mapped_column(String(64))
    paid_orders: Mapped[int] = mapped_column(default=0)    # to date
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # paid less refunded


class ProductSales(db.Model):
    __tablename__ = "product_sales"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            autoincrement=False)
    last_sold_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SalesDay(db.Model):
    """Per paid day, what the sweeper has counted of paid orders for each ranked item:
    - product: its paid units, goods revenue (what its lines paid for their goods, free
      gifts aside) and orders;
    - article: the orders and what the lines credited to it paid for their goods
      (shop.articles.attribution),
      and `views`, its page views (added when the day is rolled up);
    - distributor: the orders it brought in as level 1 and their GMV;
    - coupon: its uses, the discount given and the GMV of those orders."""

    __tablename__ = "sales_days"
    __table_args__ = (CheckConstraint(one_of("kind", RANKED), name="kind_known"),
                      Index("ix_sales_days_kind_day", "kind", "day"))

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    item_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    orders: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    views: Mapped[int] = mapped_column(default=0)


class ProductMilestone(db.Model):
    __tablename__ = "product_milestones"
    __table_args__ = (Index("ix_product_milestones_reached", "reached_at"),)

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            autoincrement=False)
    threshold: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
