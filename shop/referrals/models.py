"""Distribution (分销): who referred whom, link opens, distributors and their levels,
commissions and their ledger, withdrawals, and the admin's settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

MODES = ("everyone", "approved", "threshold")
BINDING_RULES = ("first_visit", "registration", "last_click")
DISTRIBUTOR_STATUSES = ("none", "applied", "approved", "rejected", "disabled")
COMMISSION_STATUSES = ("pending", "settled")
WITHDRAWAL_STATUSES = ("requested", "approved", "rejected", "paid")
WITHDRAWAL_METHODS = ("wallet", "bank")
BUCKETS = ("pending", "balance")


class ReferralSettings(db.Model):
    """The admin's choices, one row (id 1). Rates are basis points (100 = 1 %)."""

    __tablename__ = "referral_settings"
    __table_args__ = (
        CheckConstraint(one_of("mode", MODES), name="mode_known"),
        CheckConstraint(one_of("binding_rule", BINDING_RULES), name="rule_known"),
        CheckConstraint("level1_bp BETWEEN 0 AND 10000 AND level2_bp BETWEEN 0 AND 10000",
                        name="rates_in_range"),
        CheckConstraint("margin_floor_bp BETWEEN 0 AND 10000", name="floor_in_range"),
        CheckConstraint("withdraw_fee_bp BETWEEN 0 AND 9999", name="fee_in_range"),
        CheckConstraint("binding_days >= 0 AND cookie_days >= 1 AND settle_days >= 0",
                        name="days_in_range"),
        CheckConstraint("threshold_minor >= 0 AND withdraw_min_minor >= 1", name="amounts_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who may earn: everyone, approved applicants, or shoppers who have spent threshold_minor.
    mode: Mapped[str] = mapped_column(String(16), default="approved")
    threshold_minor: Mapped[int] = mapped_column(default=0)
    # How a shopper is bound to a referrer, and for how long (0: for good).
    binding_rule: Mapped[str] = mapped_column(String(16), default="first_visit")
    binding_days: Mapped[int] = mapped_column(default=0)
    cookie_days: Mapped[int] = mapped_column(default=7)
    level1_bp: Mapped[int] = mapped_column(default=1000)
    level2_bp: Mapped[int] = mapped_column(default=500)
    self_purchase: Mapped[bool] = mapped_column(default=False)
    settle_days: Mapped[int] = mapped_column(default=7)
    margin_floor_bp: Mapped[int] = mapped_column(default=1000)
    withdraw_min_minor: Mapped[int] = mapped_column(default=1000)
    withdraw_fee_bp: Mapped[int] = mapped_column(default=0)


class DistributorLevel(db.Model):
    """A distributor level with its own rates (e.g. 初级 10 % / 5 %, 金牌 15 % / 6 %)."""

    __tablename__ = "distributor_levels"
    __table_args__ = (
        CheckConstraint("level1_bp BETWEEN 0 AND 10000 AND level2_bp BETWEEN 0 AND 10000",
                        name="rates_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    level1_bp: Mapped[int] = mapped_column()
    level2_bp: Mapped[int] = mapped_column()


class Distributor(TimestampMixin, db.Model):
    """A user's standing as a distributor, and the cached commission balances the
    CommissionEntry ledger sums up: `pending_minor` (earned, inside the refund window)
    and `balance_minor` (settled, withdrawable; below zero it is a debt that a refund
    after settlement left, repaid by later commissions)."""

    __tablename__ = "distributors"
    __table_args__ = (
        CheckConstraint(one_of("status", DISTRIBUTOR_STATUSES), name="status_known"),
        CheckConstraint("pending_minor >= 0", name="pending_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="none", index=True)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("distributor_levels.id"))
    real_name: Mapped[str] = mapped_column(String(32), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    pitch: Mapped[str] = mapped_column(String(500), default="")
    decision_reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    pending_minor: Mapped[int] = mapped_column(default=0)
    balance_minor: Mapped[int] = mapped_column(default=0)

    user = relationship("User", foreign_keys=[user_id])
    level: Mapped[DistributorLevel | None] = relationship()


class CommissionEntry(db.Model):
    """Append-only ledger of both balances; the business reference is unique per bucket,
    so a retried earning, clawback or withdrawal can not move money twice."""

    __tablename__ = "commission_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "bucket", "ref_type", "ref_id"),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        CheckConstraint(one_of("bucket", BUCKETS), name="bucket_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("distributors.user_id"), index=True)
    bucket: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int] = mapped_column()
    balance_after_minor: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Binding(db.Model):
    """Who referred this user, since when and until when (None: for good)."""

    __tablename__ = "referral_bindings"
    __table_args__ = (CheckConstraint("referrer_id <> user_id", name="not_self"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    via: Mapped[str] = mapped_column(String(16))  # link, signin, registration, checkout
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User", foreign_keys=[user_id])


class LinkOpen(db.Model):
    """A share link opened. Only what the figures need: whose link, which page, when,
    and the random first-party visitor id (no address, no browser string)."""

    __tablename__ = "link_opens"
    __table_args__ = (Index("ix_link_opens_sharer_target", "sharer_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target: Mapped[str] = mapped_column(String(16))  # "" home, "p42" product, "a7" article
    visitor: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrderReferral(db.Model):
    """Who stands to earn from an order, fixed when it is placed."""

    __tablename__ = "order_referrals"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    level1_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    level2_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    target: Mapped[str | None] = mapped_column(String(16))  # the level-1 link it came through


class CommissionRate(db.Model):
    """A rate override for one product, or one SKU of it (the SKU's wins)."""

    __tablename__ = "commission_rates"
    __table_args__ = (
        CheckConstraint("level1_bp BETWEEN 0 AND 10000 AND level2_bp BETWEEN 0 AND 10000",
                        name="rates_in_range"),
        Index("uq_commission_rates_product", "product_id", unique=True,
              postgresql_where=text("sku_id IS NULL"), sqlite_where=text("sku_id IS NULL")),
        Index("uq_commission_rates_sku", "sku_id", unique=True,
              postgresql_where=text("sku_id IS NOT NULL"), sqlite_where=text("sku_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    level1_bp: Mapped[int] = mapped_column()
    level2_bp: Mapped[int] = mapped_column()


class Commission(db.Model):
    """One earner's commission on one order (level 1 or 2). `uncapped_minor` is what the
    rates gave; `amount_minor` is what the margin guard let through (equal when it did
    not step in); `reversed_minor` is what refunds have taken back since."""

    __tablename__ = "commissions"
    __table_args__ = (
        UniqueConstraint("order_id", "level"),
        CheckConstraint("level IN (1, 2)", name="level_known"),
        CheckConstraint(one_of("status", COMMISSION_STATUSES), name="status_known"),
        CheckConstraint("amount_minor >= 0 AND amount_minor <= uncapped_minor", name="amount_in_range"),
        CheckConstraint("reversed_minor >= 0 AND reversed_minor <= amount_minor",
                        name="reversed_in_range"),
        Index("ix_commissions_status_settle", "status", "settle_at"),
        Index("ix_commissions_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("distributors.user_id"))
    level: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    currency: Mapped[str] = mapped_column(String(3))
    base_minor: Mapped[int] = mapped_column()  # what was paid for the goods
    uncapped_minor: Mapped[int] = mapped_column()
    amount_minor: Mapped[int] = mapped_column()
    reversed_minor: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settle_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    distributor: Mapped[Distributor] = relationship()

    @property
    def capped(self) -> bool:
        return self.amount_minor < self.uncapped_minor

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.reversed_minor


class CommissionLine(db.Model):
    """What one line of the order gave a commission: the line's goods paid (its base),
    the rate, and its part of the commission (after the margin guard, the parts adding
    up to the commission's amount), so a refund of that line takes back exactly it."""

    __tablename__ = "commission_lines"
    __table_args__ = (UniqueConstraint("commission_id", "order_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commissions.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    base_minor: Mapped[int] = mapped_column()
    rate_bp: Mapped[int] = mapped_column()
    amount_minor: Mapped[int] = mapped_column()


class Withdrawal(TimestampMixin, db.Model):
    """Requested -> approved (bank transfer to make) -> paid, or rejected (the amount goes
    back to the balance). Paid into the wallet: approved and paid in one step."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        CheckConstraint(one_of("status", WITHDRAWAL_STATUSES), name="status_known"),
        CheckConstraint(one_of("method", WITHDRAWAL_METHODS), name="method_known"),
        CheckConstraint("amount_minor > 0 AND fee_minor >= 0 AND fee_minor < amount_minor",
                        name="amounts_in_range"),
        Index("ix_withdrawals_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("distributors.user_id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column()
    fee_minor: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(120), default="")  # bank details, for bank
    status: Mapped[str] = mapped_column(String(16), default="requested")
    reference: Mapped[str] = mapped_column(String(64), default="")  # the transfer's reference
    reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    distributor: Mapped[Distributor] = relationship()

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.fee_minor


LOSS_LEADER_KINDS = ("flash", "group", "bargain", "timed", "mall", "member")


class LossLeader(db.Model):
    """A price an admin set below its SKU's floor on purpose (shop.referrals.margin):
    which priced object (kind + its id: a flash item, a group campaign, a bargain
    campaign, a limited-time price, a points-mall item, a member level: one row per SKU
    its discount puts below), which SKU, the price and the floor it was below, who
    confirmed it and when. One small table for every kind rather than columns on six
    models: the lists read it with one query, and a price put back above the floor
    simply deletes its row."""

    __tablename__ = "loss_leaders"
    __table_args__ = (
        UniqueConstraint("kind", "object_id", "sku_id"),
        CheckConstraint(one_of("kind", LOSS_LEADER_KINDS), name="kind_known"),
        CheckConstraint("price_minor >= 0 AND floor_minor > price_minor", name="below_floor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    object_id: Mapped[int] = mapped_column()
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column()
    floor_minor: Mapped[int] = mapped_column()
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    confirmed_by = relationship("User", lazy="joined")
