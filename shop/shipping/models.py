from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.db import TimestampMixin, db


class ShippingTemplate(TimestampMixin, db.Model):
    """A flat fee, free once what is due on the template's lines reaches free_from_minor
    (None: never free); regions override both for some provinces. Exactly one template is
    the default, for products that name none (services.set_default keeps it so; the
    partial unique index refuses a second)."""

    __tablename__ = "shipping_templates"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("free_from_minor IS NULL OR free_from_minor >= 0",
                        name="free_from_not_negative"),
        Index("uq_shipping_templates_default", "is_default", unique=True,
              postgresql_where=text("is_default"), sqlite_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))  # of its own and its regions' amounts
    fee_minor: Mapped[int] = mapped_column()
    free_from_minor: Mapped[int | None] = mapped_column()
    is_default: Mapped[bool] = mapped_column(default=False)

    regions: Mapped[list[ShippingRegion]] = relationship(
        order_by="ShippingRegion.position", cascade="all, delete-orphan",
        back_populates="template")


class ShippingRegion(db.Model):
    """A row of a template: for an address in one of `provinces` (province codes of
    shop.divisions, picked from the list: ["65", "54"] for 新疆, 西藏), this fee and
    threshold instead of the template's. The first matching row (by position) wins."""

    __tablename__ = "shipping_regions"
    __table_args__ = (
        UniqueConstraint("template_id", "position"),
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("free_from_minor IS NULL OR free_from_minor >= 0",
                        name="free_from_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("shipping_templates.id"), index=True)
    position: Mapped[int] = mapped_column()
    provinces: Mapped[list] = mapped_column(JSON, default=list)
    fee_minor: Mapped[int] = mapped_column()
    free_from_minor: Mapped[int | None] = mapped_column()

    template: Mapped[ShippingTemplate] = relationship(back_populates="regions")

    def matches(self, province_code: str) -> bool:
        return bool(province_code) and province_code in self.provinces
