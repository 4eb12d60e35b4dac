from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import (JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func,
                        select)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, utcnow

PRODUCT_STATUSES = ("draft", "on_sale", "off_sale")


class Translatable:
    """Text columns hold the shop's home language (zh_Hans); `translations` holds the
    others as {"en": {"title": ...}}, read on the same row: no extra query per item."""

    translations: Mapped[dict] = mapped_column(JSON, default=dict)

    def tr(self, field: str) -> str:
        lang = str(get_locale() or "")
        if lang and not lang.startswith("zh"):
            value = (self.translations or {}).get(lang[:2], {}).get(field)
            if value:
                return value
        return getattr(self, field) or ""


class Category(Translatable, TimestampMixin, db.Model):
    """Two levels: a top category, or a child of a top category."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position, Category.id"
    )


class Product(Translatable, TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("cost_price_minor >= 0", name="cost_not_negative"),
        CheckConstraint("sales_count >= 0", name="sales_not_negative"),
        CheckConstraint("status IN ('draft', 'on_sale', 'off_sale')", name="status_known"),
        CheckConstraint("purchase_limit IS NULL OR purchase_limit >= 1", name="limit_positive"),
        Index("ix_products_status_category", "status", "category_id"),
        Index("ix_products_status_sales", "status", "sales_count"),
        Index("ix_products_status_featured", "status", "featured"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    selling_points: Mapped[str] = mapped_column(Text, default="")  # one per line
    description: Mapped[str] = mapped_column(Text, default="")  # plain text, paragraphs
    option_names: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["颜色", "尺码"]
    currency: Mapped[str] = mapped_column(String(3))
    # The lowest price among the product's active SKUs, kept by the catalog service so
    # listings can show and sort by "from" price without a join per page.
    price_minor: Mapped[int] = mapped_column(default=0)
    cost_price_minor: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    featured: Mapped[bool] = mapped_column(default=False)
    sales_count: Mapped[int] = mapped_column(default=0)
    # When it last went on sale (a product on sale for 15 days without a sale is a
    # candidate to replace: shop.analytics).
    on_sale_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purchase_limit: Mapped[int | None] = mapped_column()  # most units of it in one order
    # The shipping template it ships by (shop.shipping); None: the default template.
    shipping_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_templates.id"), index=True)
    # May be collected at a store (shop.stores) instead of delivered.
    pickup_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    category: Mapped[Category] = relationship()
    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", order_by="Sku.position, Sku.id", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product",
        order_by="ProductImage.position, ProductImage.id",
        cascade="all, delete-orphan",
    )

    @property
    def on_sale(self) -> bool:
        return self.status == "on_sale" and self.archived_at is None

    def tr_points(self) -> list[str]:
        return [line.strip() for line in self.tr("selling_points").splitlines() if line.strip()]

    def tr_option(self, text: str) -> str:
        """Option names and values ("颜色", "红") in the current language."""
        lang = str(get_locale() or "")
        if lang and not lang.startswith("zh"):
            labels = (self.translations or {}).get(lang[:2], {}).get("options", {})
            return labels.get(text, text)
        return text

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None


class Sku(db.Model):
    """A variant: its option values, price and stock. Stock changes only with a
    StockMovement row in the same transaction (see catalog.services.move_stock)."""

    __tablename__ = "skus"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("cost_price_minor IS NULL OR cost_price_minor >= 0",
                        name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    option_values: Mapped[list] = mapped_column(JSON, default=list)  # aligned with option_names
    price_minor: Mapped[int] = mapped_column()
    # What one unit of this SKU costs (a 5斤 box costs more than a 1斤 one); None: the
    # product's cost_price_minor. Read it through cost_minor.
    cost_price_minor: Mapped[int | None] = mapped_column()
    stock: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    product: Mapped[Product] = relationship(back_populates="skus")

    @property
    def cost_minor(self) -> int:
        """The SKU's own cost, else its product's (0: not known). In a query:
        func.coalesce(Sku.cost_price_minor, Product.cost_price_minor)."""
        return self.cost_price_minor if self.cost_price_minor is not None else self.product.cost_price_minor


def _lead_price():
    """The price a product's card shows, in the same query as the product (two correlated
    subqueries over its SKUs, by skus.product_id's index): that of the option a product
    leads with (catalog.services.lead_sku: the cheapest in stock, else the cheapest), not
    the cheapest of all options (Product.price_minor, which sorts the listings), which may
    be sold out. Cards are cached per catalogue version: an option selling out shows on
    them within CACHE_DEFAULT_TIMEOUT, as sales counts do. Deferred: loaded by the queries
    that draw cards (catalog.services.on_sale() asks for it), not by every product load
    (checkout, orders, the backoffice)."""
    def cheapest(*where):
        return (select(func.min(Sku.price_minor)).where(Sku.product_id == Product.id, Sku.active, *where)
                .correlate_except(Sku).scalar_subquery())
    return func.coalesce(cheapest(Sku.stock > 0), cheapest(), Product.price_minor)


Product.lead_price_minor = column_property(_lead_price(), deferred=True)


class StockMovement(db.Model):
    """Append-only stock ledger. The business reference is unique so a retried
    operation cannot move stock twice."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        UniqueConstraint("sku_id", "ref_type", "ref_id"),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_stock_movements_ref", "ref_type", "ref_id"),  # what an order took
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    delta: Mapped[int] = mapped_column()
    balance_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sku: Mapped[Sku] = relationship()


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    widths: Mapped[str] = mapped_column(String(40))  # "240,480,960"
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="images")
