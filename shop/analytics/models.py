"""What the figures are counted from.

- Hit: one row per tracked page view or add-to-cart, written with one INSERT. A hit that
  *lands* (the first page of a visit from outside the shop, or any page opened through a
  share link, a poster's QR code or utm parameters) carries its source.
- VisitorDay: the rollup of one day's hits per visitor, made by the sweeper once the day
  has closed (RollupMark says up to which day); the dashboard reads it for closed days and
  the raw hits only for the days after.
- OrderFact: one row per order, written when it is placed and updated when it is paid or
  refunded, in those transactions (insert and update of its own row: no shared counter
  for parallel payments to queue on). Days are the shop's local days.
- Acquisition: where a customer came from, fixed when the account is made.
- ProductDay: per product and paid day, what the sweeper has counted (top products).
- ProductSales / ProductMilestone: when a product last sold, and when its sales count
  (catalog's Product.sales_count, which the sweeper adds paid units to) crossed 100 and
  1,000.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import UTCDateTime, db, one_of, utcnow

SOURCES = ("direct", "referral", "poster", "utm", "article")
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


class VisitorDay(db.Model):
    __tablename__ = "visitor_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor: Mapped[str] = mapped_column(String(32), primary_key=True)
    pages: Mapped[int] = mapped_column(default=0)       # page, product and article views
    products: Mapped[int] = mapped_column(default=0)    # product page views
    carts: Mapped[int] = mapped_column(default=0)       # add-to-carts


class RollupMark(db.Model):
    """How far a rollup has gone: every day up to `through` is rolled up."""

    __tablename__ = "rollup_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    through: Mapped[date] = mapped_column(Date)


class OrderFact(db.Model):
    __tablename__ = "order_facts"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source_known"),
        CheckConstraint("refunded_minor >= 0", name="refunded_not_negative"),
        Index("ix_order_facts_placed", "placed_day", "visitor"),
        Index("ix_order_facts_paid", "paid_day", "user_id", "total_minor"),
        Index("ix_order_facts_user_paid", "user_id", "paid_day"),
        # lifetime value: a customer's paid orders without reading the table
        Index("ix_order_facts_user_revenue", "user_id",
              postgresql_include=["order_id", "total_minor", "refunded_minor"],
              postgresql_where=text("paid_day IS NOT NULL"), sqlite_where=text("paid_day IS NOT NULL")),
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


class Acquisition(db.Model):
    __tablename__ = "acquisitions"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source_known"),
        Index("ix_acquisitions_day_source", "day", "source"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True,
                                         autoincrement=False)
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8))
    ref_code: Mapped[str | None] = mapped_column(String(8))
    article_id: Mapped[int | None] = mapped_column()
    utm_campaign: Mapped[str | None] = mapped_column(String(64))


class ProductSales(db.Model):
    __tablename__ = "product_sales"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            autoincrement=False)
    last_sold_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProductDay(db.Model):
    """Paid units, goods revenue and orders of a product per paid day, added by the
    sweeper as it counts each paid order (the dashboard's top products)."""

    __tablename__ = "product_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            autoincrement=False)
    units: Mapped[int] = mapped_column(default=0)
    revenue_minor: Mapped[int] = mapped_column(default=0)
    orders: Mapped[int] = mapped_column(default=0)


class ProductMilestone(db.Model):
    __tablename__ = "product_milestones"
    __table_args__ = (Index("ix_product_milestones_reached", "reached_at"),)

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            autoincrement=False)
    threshold: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
