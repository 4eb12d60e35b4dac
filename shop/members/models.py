"""Member levels, each member's growth (a cached balance) and the growth ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import UTCDateTime, db, utcnow

MAX_DISCOUNT_BP = 9_000  # 90 % off: a level never gives the goods away
MIN_MULTIPLIER_BP, MAX_MULTIPLIER_BP = 10_000, 100_000  # x1 to x10 points
MAX_THRESHOLD = 2**31 - 1  # what an integer column holds


class MemberLevel(db.Model):
    """A level (普通会员, 银卡会员...): reached at `threshold` growth. Benefits: a discount
    of `discount_bp` on the goods (100 = 1 %), points earned times
    `points_multiplier_bp` / 10 000, and free shipping. Thresholds are unique, so the
    level for a growth figure is never ambiguous."""

    __tablename__ = "member_levels"
    __table_args__ = (
        CheckConstraint("threshold >= 0", name="threshold_not_negative"),
        CheckConstraint(f"discount_bp BETWEEN 0 AND {MAX_DISCOUNT_BP}", name="discount_in_range"),
        CheckConstraint(f"points_multiplier_bp BETWEEN {MIN_MULTIPLIER_BP} AND {MAX_MULTIPLIER_BP}",
                        name="multiplier_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    threshold: Mapped[int] = mapped_column(unique=True)
    discount_bp: Mapped[int] = mapped_column(default=0)
    points_multiplier_bp: Mapped[int] = mapped_column(default=MIN_MULTIPLIER_BP)
    free_shipping: Mapped[bool] = mapped_column(default=False)


class Member(db.Model):
    """A shopper's growth (the cached balance GrowthEntry rows sum up) and the level it
    reaches now (None below the lowest threshold). Made on the first growth."""

    __tablename__ = "members"
    __table_args__ = (CheckConstraint("growth >= 0", name="growth_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    growth: Mapped[int] = mapped_column(default=0)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("member_levels.id"), index=True)

    level: Mapped[MemberLevel | None] = relationship()


class GrowthEntry(db.Model):
    """Append-only. The business reference is unique per member, so a retried payment or
    refund can not move growth twice."""

    __tablename__ = "growth_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "ref_type", "ref_id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("members.user_id"))
    amount: Mapped[int] = mapped_column()  # + earned, - taken back
    growth_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
