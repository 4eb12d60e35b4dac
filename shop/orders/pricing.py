"""The price pipeline: an order's price is its lines at the SKUs' current prices, then
an ordered list of adjustments (member discount, promotions, coupons, points, shipping).
Each adjuster is registered with a position; a later issue adds a kind of adjustment by
registering one, without touching checkout. Every amount is integer minor units."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.db import db
from shop.orders.models import ShopSetting

# Shown in the breakdown; the order stores the kind, the label follows the reader's language.
ADJUSTMENT_LABELS = {"shipping": _l("Shipping")}

SETTINGS = {"shipping_fee_minor": 1000, "free_shipping_from_minor": 9900}  # key: default


def get_setting(key: str) -> int:
    value = db.session.scalar(select(ShopSetting.value).where(ShopSetting.key == key))
    return SETTINGS[key] if value is None else value


def set_setting(key: str, value: int) -> None:
    setting = db.session.get(ShopSetting, key)
    if setting is None:
        db.session.add(ShopSetting(key=key, value=value))
    else:
        setting.value = value
    db.session.flush()


@dataclass
class PricedLine:
    sku_id: int
    quantity: int
    unit_price_minor: int

    @property
    def total_minor(self) -> int:
        return self.unit_price_minor * self.quantity


@dataclass
class Adjustment:
    kind: str
    amount_minor: int  # negative for a discount
    # What the step spent besides money, for the domain that applies it when the order
    # is placed (points: {"points": 1200}); not stored on the order.
    spends: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(ADJUSTMENT_LABELS.get(self.kind, self.kind))

    @property
    def row(self) -> tuple[str, int]:
        return self.label, self.amount_minor


@dataclass
class Pricing:
    currency: str
    lines: list[PricedLine]
    adjustments: list[Adjustment] = field(default_factory=list)
    # The shopper's choices at checkout ({"use_points": True}); what steps offer to do
    # when chosen ({"points": Adjustment}), for checkout to show; and a benefit a step
    # grants that shipping honours (a member level, a promotion).
    options: dict = field(default_factory=dict)
    offers: dict = field(default_factory=dict)
    free_shipping: bool = False

    @property
    def subtotal_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return max(0, self.subtotal_minor + sum(a.amount_minor for a in self.adjustments))


Adjuster = Callable[[Pricing, int | None], Adjustment | None]
_ADJUSTERS: list[tuple[int, Adjuster]] = []


def register_adjuster(position: int, adjuster: Adjuster) -> None:
    """Add a step to the pipeline; steps run by position (shipping at 900, then only
    steps that pay for the goods, like points)."""
    _ADJUSTERS.append((position, adjuster))
    _ADJUSTERS.sort(key=lambda item: item[0])


def price(lines: list[tuple[int, int, int]], user_id: int | None,
          options: dict | None = None) -> Pricing:
    """lines: (sku_id, quantity, unit_price_minor) read from the SKUs by the caller;
    options: the shopper's choices, never amounts."""
    pricing = Pricing(current_app.config["SHOP_CURRENCY"],
                      [PricedLine(sku_id, quantity, unit) for sku_id, quantity, unit in lines],
                      options=dict(options or {}))
    for _position, adjuster in _ADJUSTERS:
        adjustment = adjuster(pricing, user_id)
        if adjustment is not None and adjustment.amount_minor:
            pricing.adjustments.append(adjustment)
    return pricing


def due_minor(pricing: Pricing) -> int:
    """What is due so far, by the steps already applied."""
    return pricing.subtotal_minor + sum(a.amount_minor for a in pricing.adjustments)


def shipping(pricing: Pricing, user_id: int | None) -> Adjustment | None:
    """A flat fee, free from a threshold (both set by an admin) on what is due so far, or
    when an earlier step granted free shipping."""
    if pricing.free_shipping or due_minor(pricing) >= get_setting("free_shipping_from_minor"):
        return None
    return Adjustment("shipping", get_setting("shipping_fee_minor"))


register_adjuster(900, shipping)
