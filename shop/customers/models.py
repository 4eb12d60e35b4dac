from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import UTCDateTime, db, utcnow

TAG_LENGTH = 32


class CustomerTag(db.Model):
    """A free-text label an admin puts on a customer ("VIP", "wholesale", "complained"):
    once per customer (the unique key), and the customer list filters by it (the index
    on name)."""

    __tablename__ = "customer_tags"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(TAG_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
