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
from shop.money import allocate
from shop.orders.models import ShopSetting

# Shown in the breakdown; the order stores the kind, the label follows the reader's language.
ADJUSTMENT_LABELS = {"shipping": _l("Shipping")}


def label_of(kind: str, detail: str = "") -> str:
    label = str(ADJUSTMENT_LABELS.get(kind, kind))
    return f"{label}: {detail}" if detail else label

# Integer settings an admin changes, kept in shop_settings (key: default). Shipping fees are
# shipping templates now (shop.shipping); auto_complete_days: how long after shipping an
# order completes itself unless the shopper confirms receipt first (set with the shipping
# templates, read by shop.orders.services).
SETTINGS = {"auto_complete_days": 10}


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
    # What the steps so far took off this line: their own (a limited-time price) or
    # their share of an order-wide one (largest remainder), so a later step limited to
    # some lines (a coupon's scope) sees what is still due on them.
    discount_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def due_minor(self) -> int:
        return self.total_minor - self.discount_minor


@dataclass
class Adjustment:
    kind: str
    amount_minor: int  # negative for a discount
    # What the step spent besides money, for the domain that applies it when the order
    # is placed (points: {"points": 1200}, a coupon: {"coupon": 7}); not stored.
    spends: dict = field(default_factory=dict)
    detail: str = ""            # which one (a coupon's or a promotion's name), stored
    ref_id: int | None = None   # the promotion's id, stored for its usage figures
    # A discount's split over the lines (aligned with Pricing.lines); None: in proportion
    # to what is due on each.
    per_line: list[int] | None = None

    @property
    def label(self) -> str:
        return label_of(self.kind, self.detail)

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
    # Where the lines come from: "cart" (checkout), or an order kind with its own price
    # ("flash", "group"); each step says on which channels it applies.
    channel: str = "cart"
    # Units a step gives away (a full reduction's gift), ordered at a price of 0.
    gifts: list[PricedLine] = field(default_factory=list)
    # What the caller tells the steps (the flash session a flash price comes from), and
    # what steps loaded for later steps (each SKU's product and category).
    context: dict = field(default_factory=dict)
    # A shopper's choice a step could not honour (a coupon out of scope): checkout shows
    # it, and an order is not placed with it.
    refused: list[str] = field(default_factory=list)

    @property
    def subtotal_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return max(0, self.subtotal_minor + sum(a.amount_minor for a in self.adjustments))


Adjuster = Callable[[Pricing, int | None], "Adjustment | list[Adjustment] | None"]
_ADJUSTERS: list[tuple[int, Adjuster]] = []


def register_adjuster(position: int, adjuster: Adjuster) -> None:
    """Add a step to the pipeline; steps run by position (shipping at 900, from
    shop.shipping, then only steps that pay for the goods, like points)."""
    _ADJUSTERS.append((position, adjuster))
    _ADJUSTERS.sort(key=lambda item: item[0])


def price(lines: list[tuple[int, int, int]], user_id: int | None,
          options: dict | None = None, *, channel: str = "cart",
          context: dict | None = None) -> Pricing:
    """lines: (sku_id, quantity, unit_price_minor) read from the SKUs by the caller (or
    the channel's own price: a flash or group price); options: the shopper's choices,
    never amounts."""
    pricing = Pricing(current_app.config["SHOP_CURRENCY"],
                      [PricedLine(sku_id, quantity, unit) for sku_id, quantity, unit in lines],
                      options=dict(options or {}), channel=channel, context=dict(context or {}))
    for _position, adjuster in _ADJUSTERS:
        made = adjuster(pricing, user_id)
        for adjustment in made if isinstance(made, list) else [made]:
            if adjustment is not None and adjustment.amount_minor:
                apply(pricing, adjustment)
    return pricing


def apply(pricing: Pricing, adjustment: Adjustment) -> None:
    """Add a step to the price; a discount on the goods is split over the lines."""
    pricing.adjustments.append(adjustment)
    if adjustment.kind == "shipping" or adjustment.amount_minor >= 0:
        return
    parts = adjustment.per_line
    if parts is None:
        parts = allocate(-adjustment.amount_minor, [max(0, l.due_minor) for l in pricing.lines])
    for line, part in zip(pricing.lines, parts):
        line.discount_minor += part


def due_minor(pricing: Pricing) -> int:
    """What is due so far, by the steps already applied."""
    return pricing.subtotal_minor + sum(a.amount_minor for a in pricing.adjustments)
