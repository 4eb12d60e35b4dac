"""Promotions: coupons (Coupon, the shoppers' UserCoupon and the CouponEntry ledger),
full reductions and buy-N-get-M offers (Promotion with its PromotionTier rows),
limited-time prices (TimedPrice) and flash sales (FlashSession, FlashItem with its
FlashStockEntry ledger, FlashBuyer counters and the FlashOrder of each purchase).
The rules, and how these stack, are in services.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

COUPON_KINDS = ("amount", "percent")
SCOPES = ("all", "categories", "products")
USER_COUPON_SOURCES = ("claim", "newcomer", "grant")
USER_COUPON_STATUSES = ("available", "used")
PROMOTION_KINDS = ("full_reduction", "buy_get")
TIER_BASES = ("amount", "count")
TIMED_KINDS = ("price", "percent")


class Coupon(TimestampMixin, db.Model):
    """A coupon an admin defines. `remaining` is the quantity still to be handed out
    (None: unlimited), a balance with the CouponEntry ledger."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint(one_of("kind", COUPON_KINDS), name="kind_known"),
        CheckConstraint(one_of("scope", SCOPES), name="scope_known"),
        CheckConstraint("(kind = 'amount' AND amount_minor > 0) OR "
                        "(kind = 'percent' AND percent_bp BETWEEN 1 AND 10000)",
                        name="value_given"),
        CheckConstraint("cap_minor IS NULL OR cap_minor > 0", name="cap_positive"),
        CheckConstraint("min_spend_minor >= 0", name="min_spend_not_negative"),
        CheckConstraint("(valid_until IS NOT NULL) <> (valid_days IS NOT NULL)",
                        name="one_validity"),
        CheckConstraint("valid_days IS NULL OR valid_days BETWEEN 1 AND 3650",
                        name="days_in_range"),
        CheckConstraint("(total_quantity IS NULL AND remaining IS NULL) OR "
                        "(remaining BETWEEN 0 AND total_quantity)", name="remaining_in_range"),
        CheckConstraint("per_user_limit BETWEEN 1 AND 100", name="limit_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int | None] = mapped_column()   # kind "amount"
    percent_bp: Mapped[int | None] = mapped_column()     # kind "percent": off, in basis points
    cap_minor: Mapped[int | None] = mapped_column()      # kind "percent": at most this off
    min_spend_minor: Mapped[int] = mapped_column(default=0)  # on the goods in scope
    scope: Mapped[str] = mapped_column(String(16), default="all")
    scope_ids: Mapped[list] = mapped_column(JSON, default=list)  # category or product ids
    # Validity: claimed coupons work from valid_from until valid_until, or for
    # valid_days from their claim (one of the two).
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_days: Mapped[int | None] = mapped_column()
    total_quantity: Mapped[int | None] = mapped_column()
    remaining: Mapped[int | None] = mapped_column()
    per_user_limit: Mapped[int] = mapped_column(default=1)
    claimable: Mapped[bool] = mapped_column(default=True)   # shown in the claim centre
    newcomer: Mapped[bool] = mapped_column(default=False)   # granted at registration
    returns: Mapped[bool] = mapped_column(default=True)     # back when its order is cancelled/refunded
    group_buys: Mapped[bool] = mapped_column(default=False)  # may be used on group-buy seats
    active: Mapped[bool] = mapped_column(default=True)


class UserCoupon(db.Model):
    """A coupon in a shopper's hands. Claims are numbered per shopper and coupon, and the
    number is unique, so two claims at once can never pass the per-user limit; it is used
    and given back only by guarded status changes (services.use / services.give_back)."""

    __tablename__ = "user_coupons"
    __table_args__ = (
        UniqueConstraint("coupon_id", "user_id", "claim_no"),
        CheckConstraint(one_of("source", USER_COUPON_SOURCES), name="source_known"),
        CheckConstraint(one_of("status", USER_COUPON_STATUSES), name="status_known"),
        CheckConstraint("(status = 'used') = (order_id IS NOT NULL)", name="used_with_order"),
        Index("ix_user_coupons_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claim_no: Mapped[int] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="available")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    discount_minor: Mapped[int] = mapped_column(default=0)  # what it took off, when used
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    coupon: Mapped[Coupon] = relationship(lazy="joined")


class CouponEntry(db.Model):
    """The coupons' ledger: every claim (taking one of `remaining`, when limited), use and
    return, with a unique business reference so nothing is counted twice."""

    __tablename__ = "coupon_entries"
    __table_args__ = (
        UniqueConstraint("coupon_id", "action", "ref_type", "ref_id"),
        CheckConstraint(one_of("action", ("claim", "use", "return", "restock")),
                        name="action_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    user_coupon_id: Mapped[int | None] = mapped_column(ForeignKey("user_coupons.id"))
    action: Mapped[str] = mapped_column(String(16))
    delta: Mapped[int] = mapped_column()  # on `remaining` (claims, restocks); 0 otherwise
    remaining_after: Mapped[int | None] = mapped_column()
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Promotion(TimestampMixin, db.Model):
    """A full reduction (满减: tiers by amount or by item count over the goods in scope)
    or a buy-N-get-M offer on one SKU (买二送一), within a time window."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint(one_of("kind", PROMOTION_KINDS), name="kind_known"),
        CheckConstraint(one_of("scope", SCOPES), name="scope_known"),
        CheckConstraint(one_of("basis", TIER_BASES), name="basis_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("kind <> 'buy_get' OR (sku_id IS NOT NULL AND buy_n BETWEEN 1 AND 99 "
                        "AND get_m BETWEEN 1 AND 99)", name="buy_get_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    # full_reduction
    basis: Mapped[str] = mapped_column(String(8), default="amount")
    scope: Mapped[str] = mapped_column(String(16), default="all")
    scope_ids: Mapped[list] = mapped_column(JSON, default=list)
    with_coupons: Mapped[bool] = mapped_column(default=True)   # a coupon may follow it
    group_buys: Mapped[bool] = mapped_column(default=True)     # applies to group-buy seats
    # buy_get: for every buy_n + get_m units of the SKU, get_m are free
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    buy_n: Mapped[int | None] = mapped_column()
    get_m: Mapped[int | None] = mapped_column()

    tiers: Mapped[list[PromotionTier]] = relationship(
        order_by="PromotionTier.threshold", cascade="all, delete-orphan", lazy="selectin")
    sku = relationship("Sku")


class PromotionTier(db.Model):
    """满<threshold> (minor units, or items): <off_minor> off, or <off_bp> off, and/or free
    shipping and/or a gift (one unit of a SKU)."""

    __tablename__ = "promotion_tiers"
    __table_args__ = (
        UniqueConstraint("promotion_id", "threshold"),
        CheckConstraint("threshold >= 1", name="threshold_positive"),
        CheckConstraint("off_minor IS NULL OR off_minor > 0", name="off_positive"),
        CheckConstraint("off_bp IS NULL OR off_bp BETWEEN 1 AND 10000", name="bp_in_range"),
        CheckConstraint("off_minor IS NULL OR off_bp IS NULL", name="one_discount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"), index=True)
    threshold: Mapped[int] = mapped_column()
    off_minor: Mapped[int | None] = mapped_column()
    off_bp: Mapped[int | None] = mapped_column()
    free_shipping: Mapped[bool] = mapped_column(default=False)
    gift_sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))


class TimedPrice(TimestampMixin, db.Model):
    """A limited-time price for a product (all its SKUs, or one): a set price or a
    percentage off, between starts_at and ends_at."""

    __tablename__ = "timed_prices"
    __table_args__ = (
        CheckConstraint(one_of("kind", TIMED_KINDS), name="kind_known"),
        CheckConstraint("(kind = 'price' AND price_minor > 0) OR "
                        "(kind = 'percent' AND percent_bp BETWEEN 1 AND 9999)",
                        name="value_given"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_timed_prices_product", "product_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    kind: Mapped[str] = mapped_column(String(8))
    price_minor: Mapped[int | None] = mapped_column()
    percent_bp: Mapped[int | None] = mapped_column()  # off, in basis points
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    with_coupons: Mapped[bool] = mapped_column(default=True)  # its lines count for coupons
    active: Mapped[bool] = mapped_column(default=True)

    product = relationship("Product")
    sku = relationship("Sku")  # None: the whole product


class FlashSession(TimestampMixin, db.Model):
    """A flash-sale time slot (秒杀场次)."""

    __tablename__ = "flash_sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),
                      Index("ix_flash_sessions_ends", "ends_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    with_coupons: Mapped[bool] = mapped_column(default=False)
    with_full_reduction: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    items: Mapped[list[FlashItem]] = relationship(order_by="FlashItem.id",
                                                  back_populates="session")


class FlashItem(db.Model):
    """A SKU in a session at its flash price. Its flash stock is taken off the SKU's
    stock when it is set aside (`allotted`), sold from `stock_left` (a balance with the
    FlashStockEntry ledger), and what is left goes back to the SKU when the session
    ends (`released`)."""

    __tablename__ = "flash_items"
    __table_args__ = (
        UniqueConstraint("session_id", "sku_id"),
        CheckConstraint("price_minor > 0", name="price_positive"),
        CheckConstraint("stock_left >= 0 AND stock_left <= allotted", name="stock_within_allotted"),
        CheckConstraint("per_user_limit BETWEEN 1 AND 99", name="limit_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("flash_sessions.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column()
    allotted: Mapped[int] = mapped_column()
    stock_left: Mapped[int] = mapped_column()
    per_user_limit: Mapped[int] = mapped_column(default=1)
    released: Mapped[bool] = mapped_column(default=False)

    session: Mapped[FlashSession] = relationship(back_populates="items", lazy="joined")
    sku = relationship("Sku", lazy="joined")


class FlashStockEntry(db.Model):
    """The flash stock ledger: set aside, sold, returned by a cancelled order, released."""

    __tablename__ = "flash_stock_entries"
    __table_args__ = (UniqueConstraint("item_id", "ref_type", "ref_id"),
                      CheckConstraint("delta <> 0", name="delta_not_zero"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("flash_items.id"), index=True)
    delta: Mapped[int] = mapped_column()
    stock_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FlashBuyer(db.Model):
    """How many units of an item a shopper holds (unpaid or paid), against the item's
    per-user limit: moved by a guarded UPDATE in step with the FlashStockEntry rows."""

    __tablename__ = "flash_buyers"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("flash_items.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(default=0)


class FlashOrder(db.Model):
    """The flash item an order bought; `returned` once its units went back."""

    __tablename__ = "flash_orders"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("flash_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column()
    returned: Mapped[bool] = mapped_column(default=False)

    item: Mapped[FlashItem] = relationship(lazy="joined")
