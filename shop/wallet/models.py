from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import UTCDateTime, db, utcnow


class Wallet(db.Model):
    """The cached balance; WalletEntry rows are the truth it sums up."""

    __tablename__ = "wallets"
    __table_args__ = (CheckConstraint("balance_minor >= 0", name="balance_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(default=0)


class WalletEntry(db.Model):
    """Append-only. The business reference is unique per wallet, so a retried payment or
    adjustment cannot move money twice."""

    __tablename__ = "wallet_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "ref_type", "ref_id"),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wallets.user_id"), index=True)
    amount_minor: Mapped[int] = mapped_column()  # + credit, - debit
    balance_after_minor: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200))
    ref_type: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RechargePackage(db.Model):
    """充值套餐: pay `pay_minor` by card, get `credit_minor` (>= pay) in the wallet."""

    __tablename__ = "recharge_packages"
    __table_args__ = (
        CheckConstraint("pay_minor > 0", name="pay_positive"),
        CheckConstraint("credit_minor >= pay_minor", name="credit_at_least_pay"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pay_minor: Mapped[int] = mapped_column()
    credit_minor: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
