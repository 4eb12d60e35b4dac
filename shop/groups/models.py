"""Group buy (拼团): campaigns an admin sets up, the groups shoppers open and join, and
the seats they hold. Two balances, each with its ledger: a campaign's units left (its
stock cap, CampaignUnitEntry) and a group's seats left (GroupSeatEntry). Both move only
through shop.db.ledger_move, so a seat or a unit is claimed by a guarded UPDATE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

# pending: the leader has not paid yet (not shown, not joinable); open: paid by the
# leader, joinable until expires_at; complete: every seat paid (or, under auto-complete,
# enough of them at the deadline); failed: the deadline passed unfilled, every paid
# member refunded; cancelled: the leader never paid.
GROUP_STATUSES = ("pending", "open", "complete", "failed", "cancelled")
SETTLED_STATUSES = frozenset({"complete", "failed", "cancelled"})
# held: the seat is claimed and its order awaits payment; paid; released: the order was
# cancelled unpaid (the seat is free again); refunded: the group failed after payment.
MEMBER_STATUSES = ("held", "paid", "released", "refunded")


class GroupCampaign(TimestampMixin, db.Model):
    __tablename__ = "group_campaigns"
    __table_args__ = (
        CheckConstraint("group_size BETWEEN 2 AND 100", name="size_in_range"),
        CheckConstraint("hours BETWEEN 1 AND 720", name="hours_in_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("units_left >= 0 AND units_left <= stock_cap", name="units_within_cap"),
        CheckConstraint("per_user_limit IS NULL OR per_user_limit >= 1", name="limit_positive"),
        CheckConstraint("auto_complete_bp IS NULL OR auto_complete_bp BETWEEN 1 AND 10000",
                        name="auto_complete_in_range"),
        Index("ix_group_campaigns_product_active", "product_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    currency: Mapped[str] = mapped_column(String(3))
    group_size: Mapped[int] = mapped_column()
    hours: Mapped[int] = mapped_column()  # how long a group has to fill, from the leader's payment
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    per_user_limit: Mapped[int | None] = mapped_column()  # seats per shopper in the campaign
    stock_cap: Mapped[int] = mapped_column()  # units the campaign may sell in all
    units_left: Mapped[int] = mapped_column()
    new_customers_only: Mapped[bool] = mapped_column(default=False)  # for joiners
    # Complete at the deadline when at least this share of seats (basis points) is paid;
    # the shop carries the missing seats. None: a group fills or fails.
    auto_complete_bp: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)

    product = relationship("Product", lazy="joined")
    skus: Mapped[list[GroupCampaignSku]] = relationship(
        order_by="GroupCampaignSku.id", cascade="all, delete-orphan", back_populates="campaign")


class GroupCampaignSku(db.Model):
    """A SKU in the campaign, at its group price; the leader may pay less."""

    __tablename__ = "group_campaign_skus"
    __table_args__ = (
        UniqueConstraint("campaign_id", "sku_id"),
        CheckConstraint("price_minor > 0", name="price_positive"),
        CheckConstraint("leader_price_minor IS NULL OR leader_price_minor > 0",
                        name="leader_price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    price_minor: Mapped[int] = mapped_column()
    leader_price_minor: Mapped[int | None] = mapped_column()

    campaign: Mapped[GroupCampaign] = relationship(back_populates="skus")
    sku = relationship("Sku", lazy="joined")


class CampaignUnitEntry(db.Model):
    """Ledger of GroupCampaign.units_left: a unit taken by a seat's order, back when the
    order is cancelled or its group fails."""

    __tablename__ = "group_campaign_unit_entries"
    __table_args__ = (UniqueConstraint("campaign_id", "ref_type", "ref_id"),
                      CheckConstraint("delta <> 0", name="delta_not_zero"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"), index=True)
    delta: Mapped[int] = mapped_column()
    units_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Group(TimestampMixin, db.Model):
    """One group of a campaign. `version` goes up with every change a shopper can see
    (a seat taken or paid, the outcome): the progress fragment's ETag."""

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint(one_of("status", GROUP_STATUSES), name="status_known"),
        CheckConstraint("seats_left >= 0 AND seats_left <= size", name="seats_within_size"),
        CheckConstraint("paid_count >= 0 AND paid_count <= size", name="paid_within_size"),
        Index("ix_groups_status_expires", "status", "expires_at"),
        Index("ix_groups_campaign_status", "campaign_id", "status"),
        Index("ix_groups_settled_at", "settled_at"),  # the dashboard's success rate per range
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    size: Mapped[int] = mapped_column()
    seats_left: Mapped[int] = mapped_column()  # size minus held and paid seats
    paid_count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set when it opens
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auto_completed: Mapped[bool] = mapped_column(default=False)  # the shop carried the rest
    version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[GroupCampaign] = relationship()
    members: Mapped[list[GroupMember]] = relationship(order_by="GroupMember.id",
                                                      back_populates="group")

    @property
    def settled(self) -> bool:
        return self.status in SETTLED_STATUSES


class GroupSeatEntry(db.Model):
    """Ledger of Group.seats_left: a seat claimed by an order, released when that order
    is cancelled unpaid. The order id is the business reference."""

    __tablename__ = "group_seat_entries"
    __table_args__ = (UniqueConstraint("group_id", "ref_type", "ref_id"),
                      CheckConstraint("delta <> 0", name="delta_not_zero"))

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    delta: Mapped[int] = mapped_column()
    seats_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroupMember(db.Model):
    """A seat and the order that pays for it. A shopper holds at most one live seat
    (held or paid) in a group: the partial unique index says so to the database."""

    __tablename__ = "group_members"
    __table_args__ = (
        CheckConstraint(one_of("status", MEMBER_STATUSES), name="status_known"),
        Index("uq_group_members_live_seat", "group_id", "user_id", unique=True,
              postgresql_where=text("status IN ('held', 'paid')"),
              sqlite_where=text("status IN ('held', 'paid')")),
        Index("ix_group_members_user_campaign", "user_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("group_campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    leader: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="held")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[Group] = relationship(back_populates="members")
    user = relationship("User", lazy="joined")
