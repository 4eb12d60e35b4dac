"""What editors arrange on the home page: blocks in order, a banner's slides, and
collections of products (each its own landing page at /col/<id>).

Titles are bilingual as the catalogue's are (shop.catalog.models.Translatable): the
column holds the home language (zh_Hans), `translations` the others ({"en": {"title": ..}}).

Decided: a slide's link names its target by kind and id without a foreign key (it may
point at a product, an article, a collection, a category or a campaign page); a target
that is gone, archived or not shown drops the slide when the home is drawn, so an
editor's link can never lead a shopper to a 404.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product, Translatable
from shop.db import TimestampMixin, UTCDateTime, db, one_of

BLOCK_KINDS = ("banner", "campaigns", "collection", "articles", "categories")
LINK_KINDS = ("product", "article", "collection", "category", "campaign")
# The campaign pages a slide may open (endpoint per name: shop.home.services.CAMPAIGN_PAGES).
CAMPAIGN_PAGES = ("groups", "flash", "bargains", "coupons")
COLLECTION_MODES = ("picked", "rule")
COLLECTION_SORTS = ("sales", "new", "price_asc", "price_desc")
MAX_RULE_LIMIT = 60


class _Image:
    """An uploaded image's columns, as the picture() macro reads them."""

    __slots__ = ("key", "widths", "width", "height")

    def __init__(self, key, widths, width, height):
        self.key, self.widths, self.width, self.height = key, widths, width, height


class HomeBlock(Translatable, TimestampMixin, db.Model):
    """One block of the home page. Shown when published and within its window
    (starts_at <= now < ends_at; either end may be open). `settings` holds what its kind
    needs: campaigns {"kinds": [...], "limit": n, "ids": {kind: [chosen ids]}} (a kind
    without chosen ids shows all its running offers); articles {"limit": n, "ids": [...]};
    categories {"ids": [...]} (empty: the top categories); a collection block names its
    collection in collection_id; a banner's slides are rows of their own."""

    __tablename__ = "home_blocks"
    __table_args__ = (
        CheckConstraint(one_of("kind", BLOCK_KINDS), name="kind_known"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at",
                        name="ends_after_start"),
        Index("ix_home_blocks_published_position", "published", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(64), default="")
    published: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), index=True)

    slides: Mapped[list[HomeSlide]] = relationship(
        order_by="HomeSlide.position, HomeSlide.id", cascade="all, delete-orphan",
        back_populates="block")
    collection: Mapped[Collection | None] = relationship()

    def in_window(self, now: datetime) -> bool:
        return ((self.starts_at is None or self.starts_at <= now)
                and (self.ends_at is None or now < self.ends_at))


class HomeSlide(Translatable, db.Model):
    """A banner's slide: an uploaded picture (stored through shop.media), its alt text
    (zh, with en in translations) and where it leads."""

    __tablename__ = "home_slides"
    __table_args__ = (
        CheckConstraint(one_of("link_kind", LINK_KINDS), name="link_kind_known"),
        CheckConstraint("link_page IS NULL OR " + one_of("link_page", CAMPAIGN_PAGES),
                        name="link_page_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("home_blocks.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(default=0)
    alt: Mapped[str] = mapped_column(String(120), default="")
    image_key: Mapped[str] = mapped_column(String(32))
    image_width: Mapped[int] = mapped_column()
    image_height: Mapped[int] = mapped_column()
    image_widths: Mapped[str] = mapped_column(String(40))
    link_kind: Mapped[str] = mapped_column(String(16))
    link_id: Mapped[int | None] = mapped_column()
    link_page: Mapped[str | None] = mapped_column(String(16))

    block: Mapped[HomeBlock] = relationship(back_populates="slides")

    @property
    def image(self) -> _Image:
        return _Image(self.image_key, self.image_widths, self.image_width, self.image_height)


class Collection(Translatable, TimestampMixin, db.Model):
    """Products an editor gathers: chosen one by one (ordered), or by a rule (a category
    and/or a word in the title, a sort, a limit). Published, it is a landing page."""

    __tablename__ = "collections"
    __table_args__ = (
        CheckConstraint(one_of("mode", COLLECTION_MODES), name="mode_known"),
        CheckConstraint(one_of("rule_sort", COLLECTION_SORTS), name="rule_sort_known"),
        CheckConstraint(f"rule_limit BETWEEN 1 AND {MAX_RULE_LIMIT}", name="rule_limit_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cover_key: Mapped[str | None] = mapped_column(String(32))
    cover_width: Mapped[int | None] = mapped_column()
    cover_height: Mapped[int | None] = mapped_column()
    cover_widths: Mapped[str | None] = mapped_column(String(40))
    published: Mapped[bool] = mapped_column(default=False)
    mode: Mapped[str] = mapped_column(String(8), default="picked")
    rule_category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    rule_keyword: Mapped[str] = mapped_column(String(32), default="")
    rule_sort: Mapped[str] = mapped_column(String(16), default="sales")
    rule_limit: Mapped[int] = mapped_column(default=12)

    items: Mapped[list[CollectionProduct]] = relationship(
        order_by="CollectionProduct.position", cascade="all, delete-orphan")
    rule_category = relationship("Category")

    @property
    def cover(self) -> _Image | None:
        if not self.cover_key:
            return None
        return _Image(self.cover_key, self.cover_widths, self.cover_width, self.cover_height)


class CollectionProduct(db.Model):
    """A product chosen into a collection, at its place."""

    __tablename__ = "collection_products"

    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            index=True)
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship()
