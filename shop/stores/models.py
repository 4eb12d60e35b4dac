from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, UTCDateTime, db, utcnow


def degrees(e6: int) -> str:
    """Integer microdegrees as decimal degrees: 31230400 -> '31.230400'."""
    return str(Decimal(e6).scaleb(-6))


class Store(TimestampMixin, db.Model):
    """A store where orders can be picked up. Coordinates are integer microdegrees
    (WGS-84, as a phone reports them), for sorting stores by distance."""

    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("latitude_e6 IS NULL OR latitude_e6 BETWEEN -90000000 AND 90000000",
                        name="latitude_range"),
        CheckConstraint("longitude_e6 IS NULL OR longitude_e6 BETWEEN -180000000 AND 180000000",
                        name="longitude_range"),
        Index("ix_stores_active_city", "active", "city"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    hours: Mapped[str] = mapped_column(String(100))  # as people read them: "每天 9:00–21:00"
    map_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    latitude_e6: Mapped[int | None] = mapped_column()
    longitude_e6: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def map_link(self) -> str:
        """The admin's link, else an Amap marker from the coordinates, else ''."""
        if self.map_url:
            return self.map_url
        if self.latitude_e6 is None or self.longitude_e6 is None:
            return ""
        return ("https://uri.amap.com/marker?position="
                f"{degrees(self.longitude_e6)},{degrees(self.latitude_e6)}")

    def one_line(self) -> str:
        return f"{self.name} · {self.city}{self.address}"


class StoreStaff(db.Model):
    """A staff account bound to a store: it verifies pickups there."""

    __tablename__ = "store_staff"
    __table_args__ = (UniqueConstraint("store_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PickupCode(db.Model):
    """The code a paid pickup order is collected with: issued once when the order is
    paid, used once (picked_up_at) at its own store."""

    __tablename__ = "pickup_codes"
    __table_args__ = (
        CheckConstraint("(picked_up_at IS NULL) = (picked_up_by_id IS NULL)",
                        name="picked_up_by_whom"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    store: Mapped[Store] = relationship(lazy="joined")

    @property
    def grouped(self) -> str:
        """The code as people read it: ABCDE FGHJK."""
        return f"{self.code[:5]} {self.code[5:]}"
