"""Bargain (砍价): a campaign sells one SKU from a start price down to a floor price; a
shopper starts a bargain and friends cut the price, each once. The cuts are drawn when
the bargain starts (`plan`), so the floor is reached exactly at the last helper and no
cut is zero; BargainHelp is the ledger of Bargain.price_minor, one row per cut, unique
per helper and per place in the plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

# active: friends can cut; complete: the floor is reached; ordered: bought (its order
# placed, paid or awaiting payment); expired: the time ran out before it was bought.
BARGAIN_STATUSES = ("active", "complete", "ordered", "expired")


class BargainCampaign(TimestampMixin, db.Model):
    __tablename__ = "bargain_campaigns"
    __table_args__ = (
        CheckConstraint("floor_price_minor >= 1", name="floor_positive"),
        CheckConstraint("start_price_minor - floor_price_minor >= helpers_needed",
                        name="room_for_every_cut"),
        CheckConstraint("helpers_needed BETWEEN 1 AND 100", name="helpers_in_range"),
        CheckConstraint("hours BETWEEN 1 AND 720", name="hours_in_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_bargain_campaigns_product_active", "product_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    currency: Mapped[str] = mapped_column(String(3))
    start_price_minor: Mapped[int] = mapped_column()
    floor_price_minor: Mapped[int] = mapped_column()
    helpers_needed: Mapped[int] = mapped_column()
    hours: Mapped[int] = mapped_column()  # how long a bargain runs, from its start
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)

    product = relationship("Product", lazy="joined")
    sku = relationship("Sku", lazy="joined")


class Bargain(TimestampMixin, db.Model):
    """A shopper's bargain. `version` goes up with every cut and change of status: the
    progress fragment's ETag. One live bargain (active or complete) per shopper and
    campaign, by a partial unique index."""

    __tablename__ = "bargains"
    __table_args__ = (
        CheckConstraint(one_of("status", BARGAIN_STATUSES), name="status_known"),
        CheckConstraint("price_minor >= floor_price_minor AND price_minor <= start_price_minor",
                        name="price_within_range"),
        CheckConstraint("helps >= 0 AND helps <= helpers_needed", name="helps_within_plan"),
        Index("uq_bargains_live", "campaign_id", "user_id", unique=True,
              postgresql_where=text("status IN ('active', 'complete')"),
              sqlite_where=text("status IN ('active', 'complete')")),
        Index("ix_bargains_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("bargain_campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    currency: Mapped[str] = mapped_column(String(3))
    start_price_minor: Mapped[int] = mapped_column()   # the campaign's, when it started
    floor_price_minor: Mapped[int] = mapped_column()
    helpers_needed: Mapped[int] = mapped_column()
    plan: Mapped[list] = mapped_column(JSON)  # the cuts, in order: positive, summing to start - floor
    price_minor: Mapped[int] = mapped_column()  # now
    helps: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[BargainCampaign] = relationship()
    cuts: Mapped[list[BargainHelp]] = relationship(order_by="BargainHelp.seq")


class BargainHelp(db.Model):
    __tablename__ = "bargain_helps"
    __table_args__ = (
        UniqueConstraint("bargain_id", "helper_id"),
        UniqueConstraint("bargain_id", "seq"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bargain_id: Mapped[int] = mapped_column(ForeignKey("bargains.id"), index=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seq: Mapped[int] = mapped_column()  # 1 for the first cut
    amount_minor: Mapped[int] = mapped_column()
    price_after_minor: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    helper = relationship("User", lazy="joined")
