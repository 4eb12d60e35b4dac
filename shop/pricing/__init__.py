"""The price pipeline, a package of its own: checkout and every channel (group, flash,
bargain, points mall) price through it, other domains register their steps with it, and
it imports none of them.

An order's price is its lines at the SKUs' current prices (or the channel's own price),
then an ordered list of adjustments (member discount, promotions, coupons, shipping,
points). Each adjuster is registered with a position; a new kind of adjustment is a new
registered step, checkout does not change. Every amount is integer minor units.

What each line paid. Every adjustment is split over the lines as it is applied: a step
that knows its split gives it (a limited-time price is its lines' own; a coupon covers
the lines in its scope), the others are split in proportion to what is still due on
each line (largest remainder, so the parts add up exactly). Shipping, which is for the
parcel, is split at the end over what each line pays for its goods. So every line knows
its list price, its share of each adjustment and what was paid for it, and the lines'
amounts add up to the order's total; commissions, points, attribution, figures and
refunds read those amounts and never split a total again (DESIGN §10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from shop.money import allocate

# Shown in the breakdown; the order stores the kind, the label follows the reader's language.
ADJUSTMENT_LABELS = {"shipping": _l("Shipping")}


def label_of(kind: str, detail: str = "") -> str:
    label = str(ADJUSTMENT_LABELS.get(kind, kind))
    return f"{label}: {detail}" if detail else label


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
    # A discount's split over the lines (aligned with Pricing.lines, each part >= 0 and
    # what the step takes off that line): given by the step, or filled in by apply() in
    # proportion to what is due on each line. Shipping's is set by line_shares().
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

    @property
    def all_lines(self) -> list[PricedLine]:
        """The lines bought, then the gifts (at 0): the order's lines, in this order."""
        return [*self.lines, *self.gifts]

    def line_shares(self) -> list[list[int]]:
        """Each adjustment's signed share of each line (aligned with all_lines): a
        discount's parts as applied, shipping split over what each line pays for its
        goods (by list price when nothing is paid for goods, by quantity when nothing
        has a price). Every row adds up to its adjustment's amount."""
        lines, shares = self.all_lines, []
        goods = [line.due_minor for line in self.lines] + [0] * len(self.gifts)
        for adjustment in self.adjustments:
            if adjustment.kind == "shipping":
                weights = next((w for w in (goods, [l.total_minor for l in lines],
                                            [l.quantity for l in lines]) if any(w)))
                parts = allocate(adjustment.amount_minor, weights)
            else:
                parts = [-part for part in adjustment.per_line] + [0] * len(self.gifts)
            shares.append(parts)
        return shares


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
    """Add a step to the price. A discount on the goods is split over the lines (its own
    split, or in proportion to what is due on each) and taken off what is due on them;
    shipping, the one charge, is split when the order is stored (Pricing.line_shares)."""
    if adjustment.kind != "shipping":
        if adjustment.amount_minor > 0:
            raise ValueError("only shipping adds to the price; a step takes off the goods")
        if adjustment.per_line is None:
            adjustment.per_line = allocate(-adjustment.amount_minor,
                                           [max(0, l.due_minor) for l in pricing.lines])
        if (sum(adjustment.per_line) != -adjustment.amount_minor
                or any(part > max(0, l.due_minor) or part < 0
                       for l, part in zip(pricing.lines, adjustment.per_line))):
            raise ValueError(f"{adjustment.kind}: its split does not add up to its amount "
                             "or takes more off a line than is due on it")
        for line, part in zip(pricing.lines, adjustment.per_line):
            line.discount_minor += part
    pricing.adjustments.append(adjustment)


def due_minor(pricing: Pricing) -> int:
    """What is due so far, by the steps already applied."""
    return pricing.subtotal_minor + sum(a.amount_minor for a in pricing.adjustments)
