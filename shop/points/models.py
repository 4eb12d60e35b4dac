"""Points (积分): the account and its ledger, the lots points expire in, the admin's
rules, daily sign-in, tasks, and the points mall (积分商城)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, utcnow

EXPIRY_RULES = ("never", "end_of_next_year", "days")


class PointsSettings(db.Model):
    """The admin's rules, one row (id 1); until saved, the column defaults apply."""

    __tablename__ = "points_settings"
    __table_args__ = (
        CheckConstraint("expiry_rule IN ('never', 'end_of_next_year', 'days')", name="rule_known"),
        CheckConstraint("earn_per_unit BETWEEN 0 AND 1000 AND redeem_per_unit BETWEEN 1 AND 10000",
                        name="rates_in_range"),
        CheckConstraint("deduct_max_bp BETWEEN 0 AND 10000 AND deduct_cap_points >= 0",
                        name="deduction_in_range"),
        CheckConstraint("expiry_days >= 1 AND signin_points >= 0", name="days_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Earned: points per full currency unit paid for goods (a product may override it).
    earn_per_unit: Mapped[int] = mapped_column(default=1)
    # Spent at checkout: this many points make one currency unit; a deduction covers at
    # most deduct_max_bp of the goods and deduct_cap_points per order (0: no deduction).
    redeem_per_unit: Mapped[int] = mapped_column(default=100)
    deduct_max_bp: Mapped[int] = mapped_column(default=2000)
    deduct_cap_points: Mapped[int] = mapped_column(default=5000)
    # When earned points expire: never, at the end of the next calendar year (in the
    # shop's time zone), or expiry_days after they were earned.
    expiry_rule: Mapped[str] = mapped_column(String(24), default="end_of_next_year")
    expiry_days: Mapped[int] = mapped_column(default=365)
    signin_points: Mapped[int] = mapped_column(default=5)


class SigninBonus(db.Model):
    """Extra points on a day of the sign-in streak (day 3: +10, day 7: +30). The cycle is
    the largest day set: after it the streak's day counts from 1 again."""

    __tablename__ = "signin_bonuses"
    __table_args__ = (CheckConstraint("day BETWEEN 2 AND 31 AND points > 0", name="bonus_in_range"),)

    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column()


class PointsRate(db.Model):
    """A product earning at its own rate (points per currency unit) instead of the shop's."""

    __tablename__ = "points_rates"
    __table_args__ = (CheckConstraint("earn_per_unit BETWEEN 0 AND 1000", name="rate_in_range"),)

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True,
                                            autoincrement=False)
    earn_per_unit: Mapped[int] = mapped_column()


class PointsAccount(db.Model):
    """The cached balance the PointsEntry ledger sums up. It goes below zero only as a
    debt a refund left (points earned on the order already spent), repaid by later
    earnings; every other debit is guarded."""

    __tablename__ = "points_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True,
                                         autoincrement=False)
    balance: Mapped[int] = mapped_column(default=0)


class PointsEntry(db.Model):
    """Append-only; the business reference is unique per user, so a retried earning,
    spending or reversal can not count twice."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "ref_type", "ref_id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("points_accounts.user_id"), index=True)
    amount: Mapped[int] = mapped_column()
    balance_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")  # an admin's reason
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsLot(db.Model):
    """Points earned together, expiring together. Debits consume lots soonest expiry
    first; the lots' remaining points always add up to the balance (none when in debt)."""

    __tablename__ = "points_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        Index("ix_points_lots_user_open", "user_id", "remaining"),
        Index("ix_points_lots_expires", "expires_at", "remaining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("points_accounts.user_id"))
    # the credit that made it (points given back make one lot per expiry they had)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"), index=True)
    points: Mapped[int] = mapped_column()
    remaining: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PointsLotTake(db.Model):
    """What a debit took from a lot: points given back for it (a cancelled or refunded
    order) come back with that lot's expiry, so spending can not renew points."""

    __tablename__ = "points_lot_takes"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lots.id"))
    points: Mapped[int] = mapped_column()


class Signin(db.Model):
    """One per user and day in the shop's time zone: the unique key is what makes a
    second tap, or five at once, one reward."""

    __tablename__ = "signins"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date())
    streak: Mapped[int] = mapped_column()
    points: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TaskRule(db.Model):
    """An admin's points and switch for one of the tasks the shop knows (shop.points.TASKS);
    a task without a row uses its default."""

    __tablename__ = "task_rules"
    __table_args__ = (CheckConstraint("points >= 0", name="points_not_negative"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    points: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)


class TaskCompletion(db.Model):
    """A task done in a period ("once", a day, an ISO week, a month): once per period by
    the unique key, and its reward claimed once by a guarded update of claimed_at."""

    __tablename__ = "task_completions"
    __table_args__ = (UniqueConstraint("user_id", "code", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column()  # as the rule stood when it was done
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MallItem(TimestampMixin, db.Model):
    """A points-mall item: a SKU of the catalogue for points, or points plus cash. Its
    stock is the mall's own quota (MallStockEntry is its ledger); a redemption also takes
    the SKU's warehouse stock, like any order."""

    __tablename__ = "mall_items"
    __table_args__ = (
        CheckConstraint("points_price > 0 AND cash_minor >= 0", name="price_in_range"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("per_user_limit >= 0", name="limit_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    points_price: Mapped[int] = mapped_column()
    cash_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(default=0)
    per_user_limit: Mapped[int] = mapped_column(default=1)  # 0: no limit
    active: Mapped[bool] = mapped_column(default=True)

    sku = relationship("Sku", lazy="joined")


class MallStockEntry(db.Model):
    __tablename__ = "mall_stock_entries"
    __table_args__ = (UniqueConstraint("item_id", "ref_type", "ref_id"),
                      CheckConstraint("delta <> 0", name="delta_not_zero"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("mall_items.id"), index=True)
    delta: Mapped[int] = mapped_column()
    stock_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Redemption(db.Model):
    """The mall item and points behind a redemption order; counts toward the per-user
    limit until the order is cancelled unpaid, or refunded in full with the goods back in
    stock (`returned`)."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_user_item", "user_id", "item_id"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True,
                                          autoincrement=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("mall_items.id"))
    quantity: Mapped[int] = mapped_column()
    points: Mapped[int] = mapped_column()
    returned: Mapped[bool] = mapped_column(default=False)


class LinePoints(db.Model):
    """What one line of a paid order earned (its goods' points, the member multiplier
    applied, the lines' parts adding up to the order's entry): a refund of that line
    takes back exactly its own share."""

    __tablename__ = "points_line_earnings"

    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), primary_key=True,
                                               autoincrement=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    points: Mapped[int] = mapped_column()
