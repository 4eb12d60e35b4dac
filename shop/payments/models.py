from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import TimestampMixin, UTCDateTime, db, one_of, utcnow

PAYMENT_STATUSES = ("pending", "succeeded", "canceled", "rejected")
REFUND_STATUSES = ("pending", "succeeded", "failed")


class Payment(TimestampMixin, db.Model):
    """Money received for a purpose: an order (in full or in part), or a wallet recharge.

    `refundable_minor` is the balance refunds draw from: it starts at the amount when the
    payment succeeds and only goes down, through shop.db.ledger_move, with a Refund row
    each time; the database refuses it below zero. `key` is made of our ids (`order-<id>-pay-<n>`,
    `user-<id>-recharge-<n>`): the idempotency key and metadata at the gateway."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status_known"),
        CheckConstraint("method IN ('card', 'wallet')", name="method_known"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("refundable_minor >= 0 AND refundable_minor <= amount_minor",
                        name="refundable_within_amount"),
        Index("ix_payments_status_created", "status", "created_at"),
        # At most one open card payment per order, whatever races (LOCK ORDER aside).
        Index("uq_payments_open_card", "order_id", unique=True,
              sqlite_where=text("method = 'card' AND status = 'pending'"),
              postgresql_where=text("method = 'card' AND status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))          # "order" | "recharge"
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    credit_minor: Mapped[int | None] = mapped_column()        # recharge: what the wallet gets
    method: Mapped[str] = mapped_column(String(8))
    amount_minor: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    refundable_minor: Mapped[int] = mapped_column(default=0)
    intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_error: Mapped[str | None] = mapped_column(String(300))


class Refund(TimestampMixin, db.Model):
    """A ledger row of Payment.refundable_minor. A card refund is `pending` until the
    gateway has taken it (a job, with idempotency key "refund-<key>"); a wallet refund
    succeeds in the same transaction. A refund Stripe refuses is marked `failed` and a
    reversal row (negative amount) makes the money refundable again. `key` comes from the form or request that asked
    for it, so a retried request refunds once."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("payment_id", "key"),
        CheckConstraint(one_of("status", REFUND_STATUSES), name="status_known"),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column()
    refundable_after_minor: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StripeEvent(db.Model):
    """Every webhook event taken, by Stripe's id: a second delivery finds it here."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
