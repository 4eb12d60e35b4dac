from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, CheckConstraint, Column, ForeignKey, Index, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Translatable
from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

# draft -> review -> published (visible from published_at, which may be in the future:
# a scheduled article); unpublishing takes it back to draft.
ARTICLE_STATUSES = ("draft", "review", "published")
EVENT_KINDS = ("view", "click", "cart")


class ArticleCategory(Translatable, TimestampMixin, db.Model):
    __tablename__ = "article_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


article_tags = Table(
    "article_tags", db.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True, index=True),
)


class Article(TimestampMixin, db.Model):
    """The Markdown the editor wrote, and its HTML rendered and sanitised when saved
    (product embeds stay as markers and are drawn live on each view)."""

    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint(one_of("status", ARTICLE_STATUSES), name="status_known"),
        CheckConstraint("repromote_days IS NULL OR repromote_days >= 1", name="repromote_positive"),
        Index("ix_articles_status_published", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("article_categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    cover_key: Mapped[str | None] = mapped_column(String(32))
    cover_width: Mapped[int | None] = mapped_column()
    cover_height: Mapped[int | None] = mapped_column()
    cover_widths: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(default=0)  # number of the latest ArticleRevision
    # Re-promotion: every repromote_days, from the last promotion (or publication).
    repromote_days: Mapped[int | None] = mapped_column()
    last_promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    repromote_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    author: Mapped[User] = relationship()
    category: Mapped[ArticleCategory | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by="Tag.name")
    embeds: Mapped[list[ArticleProduct]] = relationship(
        order_by="ArticleProduct.position", cascade="all, delete-orphan")

    @property
    def cover(self):
        """The cover as the picture() macro wants it, or None."""
        if not self.cover_key:
            return None
        return _Cover(self.cover_key, self.cover_widths, self.cover_width, self.cover_height)

    def visible_at(self, now: datetime) -> bool:
        return self.status == "published" and self.published_at is not None and self.published_at <= now


class _Cover:
    __slots__ = ("key", "widths", "width", "height")

    def __init__(self, key, widths, width, height):
        self.key, self.widths, self.width, self.height = key, widths, width, height


class ArticleProduct(db.Model):
    """A product the article embeds: what product pages list and attribution checks."""

    __tablename__ = "article_products"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)


class ArticleRevision(db.Model):
    """History: every save, restore and status change, with a copy of the content then."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(16))  # saved, restored, review, published...
    restored_from: Mapped[int | None] = mapped_column()
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column()
    tags: Mapped[list] = mapped_column(JSON, default=list)
    cover: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    editor: Mapped[User] = relationship()


class ArticleEvent(db.Model):
    """One row per view, product click and add-to-cart credited to an article: one
    insert per event, counted by the figures' grouped queries."""

    __tablename__ = "article_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", EVENT_KINDS), name="kind_known"),
        Index("ix_article_events_article_kind", "article_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    visitor: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
