"""Search: the index (one document per product), synonyms, keywords and counts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

KEYWORD_KINDS = ("recommended", "hidden")


class SearchDocument(db.Model):
    """What search finds a product by, as space-separated tokens (shop.search.text):
    the title's, the rest of its own text's (subtitle, selling points, its category), and
    its parent category's. Kept by shop.search.indexing whenever a product or category
    changes. The full-text index over it is not a model: the migration makes an FTS5
    table (SQLite, kept by triggers) or a GIN index (PostgreSQL) per database."""

    __tablename__ = "search_documents"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    title_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    extra_terms: Mapped[str] = mapped_column(Text, default="")


class SynonymGroup(TimestampMixin, db.Model):
    """Words that find each other (芒果 = 芒 = mango); `one_way`: the first word also finds
    the others but not the other way round (茶叶 -> 龙井, 铁观音)."""

    __tablename__ = "search_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list] = mapped_column(JSON, default=list)
    one_way: Mapped[bool] = mapped_column(default=False)


class SearchKeyword(db.Model):
    """A word an admin recommends on the empty search page, or hides from hot searches."""

    __tablename__ = "search_keywords"
    __table_args__ = (CheckConstraint(one_of("kind", KEYWORD_KINDS), name="kind_known"),
                      Index("ix_search_keywords_kind_term", "kind", "term", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    term: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)


class SearchCount(db.Model):
    """How many visitors searched a term (normalised) and found something, per day of the
    shop: hot searches are the most searched of recent days. Added to by one UPSERT."""

    __tablename__ = "search_counts"
    __table_args__ = (CheckConstraint("searches > 0", name="searches_positive"),
                      Index("ix_search_counts_day", "day"))

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    searches: Mapped[int] = mapped_column(default=1)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
