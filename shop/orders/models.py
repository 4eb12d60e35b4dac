from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop import divisions
from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow
from shop.money import refunded_share

# awaiting_payment -> paid -> shipped -> completed; cancelled; refunds come with payments.
ORDER_STATUSES = ("awaiting_payment", "paid", "shipped", "completed", "cancelled",
                  "refund_requested", "partly_refunded", "refunded")
# Paid, and not since refunded in full: what can still be refunded, and what sales count.
PAID_STATUSES = frozenset({"paid", "shipped", "completed", "refund_requested", "partly_refunded"})


class Address(TimestampMixin, db.Model):
    """An address of a shopper's address book, in Chinese form. The province, city and
    district are picked from China's divisions (shop.divisions): their codes are kept,
    and their names as they were picked, for the label. An address saved before the
    picker may have no codes (its names matched none): it needs an edit before an order
    goes there. Exactly one of a shopper's addresses is the default once there is one
    (shop.orders.addresses keeps it so; the partial unique index refuses a second)."""

    __tablename__ = "addresses"
    __table_args__ = (
        Index("uq_addresses_default", "user_id", unique=True,
              postgresql_where=text("is_default"), sqlite_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(32))
    city: Mapped[str] = mapped_column(String(32))
    district: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200))
    province_code: Mapped[str | None] = mapped_column(String(2))
    city_code: Mapped[str | None] = mapped_column(String(4))
    district_code: Mapped[str | None] = mapped_column(String(6))
    postcode: Mapped[str | None] = mapped_column(String(6))
    is_default: Mapped[bool] = mapped_column(default=False, server_default=false())

    def one_line(self) -> str:
        """浙江省杭州市西湖区文三路 1 号; a municipality's city once: 北京市西城区…"""
        return divisions.written(self.province, self.city, self.district) + self.detail

    @property
    def needs_edit(self) -> bool:
        """Saved before the picker, with names that match no division."""
        return self.district_code is None


class ShopSetting(db.Model):
    """Integer settings an admin changes (shop.pricing.SETTINGS: the days before a
    shipped order completes itself...)."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column()


class Order(TimestampMixin, db.Model):
    """An order keeps snapshots of what was bought and where it goes; its status moves
    only through shop.orders.services.transition(), which writes an OrderEvent."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        CheckConstraint(one_of("status", ORDER_STATUSES), name="status_known"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        Index("ix_orders_status_expires", "status", "expires_at"),
        Index("ix_orders_status_shipped", "status", "shipped_at"),  # the sweeper's completions
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    # "standard" (from the cart), "redemption" (the points mall), "group", "bargain",
    # "flash" (a flash sale). Every kind is paid, shipped and refunded the same way.
    kind: Mapped[str] = mapped_column(String(16), default="standard", server_default="standard")
    status: Mapped[str] = mapped_column(String(24), default="awaiting_payment")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column()
    total_minor: Mapped[int] = mapped_column()
    ship_name: Mapped[str] = mapped_column(String(32))
    ship_phone: Mapped[str] = mapped_column(String(20))
    ship_address: Mapped[str] = mapped_column(String(300))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why a paid order may not ship yet ("group": its group buy is still filling); None
    # when nothing holds it. Cleared by shop.orders.services.release_hold().
    hold: Mapped[str | None] = mapped_column(String(16))
    # The store it is collected at (shop.stores), None when it is delivered; ship_address
    # then holds the store's name and address as they were when the order was placed.
    pickup_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")
    adjustments: Mapped[list[OrderAdjustment]] = relationship(order_by="OrderAdjustment.position")
    events: Mapped[list[OrderEvent]] = relationship(order_by="OrderEvent.id")

    @property
    def goods_paid_minor(self) -> int:
        """What the buyer pays for the goods: the lines after discounts (points
        included), shipping aside; the sum of OrderLine.goods_minor."""
        return sum(line.goods_minor for line in self.lines)

    @property
    def goods_refunded_minor(self) -> int:
        """What refunds have given back of the goods so far (each line's own)."""
        return sum(line.goods_refunded_minor for line in self.lines)

    @property
    def is_pickup(self) -> bool:
        return self.pickup_store_id is not None

    @property
    def number(self) -> str:
        return f"{self.created_at:%Y%m%d}{self.id:06d}"


class OrderLine(db.Model):
    """A line as bought: its list price (unit x quantity), its share of every adjustment
    (OrderLineAdjustment; their sum split into discount_minor and shipping_minor) and
    what was paid for it. The lines' paid_minor add up to the order's total exactly;
    what is earned or counted per line (commissions, points, attribution, figures) is
    on goods_minor, and refunds are given back line by line (refunded_minor, whose
    ledger is OrderLineRefund), the goods before the line's share of shipping."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("discount_minor >= 0 AND discount_minor <= total_minor",
                        name="discount_within_total"),
        CheckConstraint("shipping_minor >= 0", name="shipping_not_negative"),
        CheckConstraint("paid_minor = total_minor - discount_minor + shipping_minor",
                        name="paid_adds_up"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= paid_minor",
                        name="refunded_within_paid"),
        # a product's newest orders first (its recent buyers on the product page)
        Index("ix_order_lines_product_id_order_id", "product_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(120))        # snapshots, as bought
    sku_label: Mapped[str] = mapped_column(String(200))
    unit_price_minor: Mapped[int] = mapped_column()
    quantity: Mapped[int] = mapped_column()
    total_minor: Mapped[int] = mapped_column()              # the list price: unit x quantity
    discount_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    shipping_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    paid_minor: Mapped[int] = mapped_column()
    refunded_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    # The article the purchase of this line started from (shop.articles.attribution).
    source_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def goods_minor(self) -> int:
        """What was paid for the goods of this line: its list price less its discounts."""
        return self.total_minor - self.discount_minor

    @property
    def goods_refunded_minor(self) -> int:
        """What refunds gave back of the goods (a line's refunds count goods first)."""
        return min(self.refunded_minor, self.goods_minor)

    @property
    def refundable_minor(self) -> int:
        return self.paid_minor - self.refunded_minor

    def refunded_share(self, whole: int, *, all_back: bool = False) -> int:
        """The share of `whole` (points or a commission earned on this line's goods, the
        points used on them) that its refunds so far take back, rounded down: all of it
        once its goods are back, or once the whole order is (all_back: a line nothing was
        paid for in money comes back with its order)."""
        if all_back:
            return whole
        return refunded_share(whole, self.goods_refunded_minor, self.goods_minor) if self.goods_minor else 0


class OrderLineAdjustment(db.Model):
    """A line's signed share of one adjustment of its order (a discount's part, its share
    of shipping): the shares of an adjustment add up to its amount."""

    __tablename__ = "order_line_adjustments"
    __table_args__ = (UniqueConstraint("order_line_id", "adjustment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    adjustment_id: Mapped[int] = mapped_column(ForeignKey("order_adjustments.id"), index=True)
    amount_minor: Mapped[int] = mapped_column()


class OrderLineRefund(db.Model):
    """The ledger of OrderLine.refunded_minor: what one refund of the order (its key)
    gave back of this line; negative when a card refund Stripe refused is taken back."""

    __tablename__ = "order_line_refunds"
    __table_args__ = (UniqueConstraint("order_line_id", "key"),
                      CheckConstraint("amount_minor <> 0", name="amount_not_zero"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[int] = mapped_column()
    refunded_after_minor: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrderAdjustment(db.Model):
    """One step of the price pipeline as applied to an order (shipping, discounts...):
    a signed amount and the label shown in the breakdown."""

    __tablename__ = "order_adjustments"
    __table_args__ = (Index("ix_order_adjustments_kind_ref", "kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(120))  # as shown when placed
    amount_minor: Mapped[int] = mapped_column()
    detail: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # The promotion (coupon, full reduction...) the step came from, for its figures.
    ref_id: Mapped[int | None] = mapped_column()

    @property
    def row(self) -> tuple[str, int]:
        """(label in the reader's language where the kind is known, amount)."""
        from shop.pricing import ADJUSTMENT_LABELS, label_of

        if self.kind not in ADJUSTMENT_LABELS:
            return self.label, self.amount_minor
        return label_of(self.kind, self.detail), self.amount_minor


class OrderEvent(db.Model):
    """Every status change: who, when, from, to, why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
