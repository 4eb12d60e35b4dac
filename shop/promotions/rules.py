"""The arithmetic of promotions, on plain values: no database, no clock. services.py
loads what is active and calls these; the property tests call them directly. Every
amount is integer minor units; every discount is rounded down (in the shop's favour)
and never more than what is still due on the lines it applies to."""

from __future__ import annotations

from dataclasses import dataclass

from shop.money import allocate


@dataclass(frozen=True)
class Line:
    """A line as a promotion sees it: what it is, how many, and what is still due."""

    sku_id: int
    product_id: int
    category_ids: frozenset[int]  # its category and that category's parent
    quantity: int
    unit_minor: int
    due_minor: int


def in_scope(scope: str, scope_ids, line: Line) -> bool:
    if scope == "all":
        return True
    ids = set(scope_ids or ())
    if scope == "products":
        return line.product_id in ids
    return bool(line.category_ids & ids)


def timed_unit(kind: str, price_minor: int | None, percent_bp: int | None, unit_minor: int) -> int:
    """The unit price under a limited-time price: the set price (never above the list
    price), or the list price less a percentage (the saving rounded down)."""
    if kind == "price":
        return min(unit_minor, price_minor)
    return unit_minor - unit_minor * percent_bp // 10_000


def buy_get_free_units(quantity: int, buy_n: int, get_m: int) -> int:
    """Units free under buy N get M: for every full N + M bought, M are free."""
    return quantity // (buy_n + get_m) * get_m


def buy_get_discount(line: Line, buy_n: int, get_m: int) -> int:
    """The free units' share of what is due on the line, rounded down."""
    free = buy_get_free_units(line.quantity, buy_n, get_m)
    return line.due_minor * free // line.quantity if free else 0


@dataclass(frozen=True)
class Tier:
    threshold: int             # minor units (basis "amount") or items (basis "count")
    off_minor: int | None = None
    off_bp: int | None = None
    free_shipping: bool = False
    gift_sku_id: int | None = None


def reached_tier(tiers: list[Tier], basis: str, lines: list[Line]) -> Tier | None:
    """The highest tier the lines in scope reach, by what is due on them or by count."""
    base = (sum(l.due_minor for l in lines) if basis == "amount"
            else sum(l.quantity for l in lines))
    reached = [t for t in tiers if base >= t.threshold]
    return max(reached, key=lambda t: t.threshold) if reached else None


def tier_discount(tier: Tier, lines: list[Line]) -> int:
    due = sum(l.due_minor for l in lines)
    if tier.off_minor:
        return min(tier.off_minor, due)
    if tier.off_bp:
        return due * tier.off_bp // 10_000
    return 0


def coupon_discount(kind: str, amount_minor: int | None, percent_bp: int | None,
                    cap_minor: int | None, lines: list[Line]) -> int:
    """A fixed amount (at most what is due), or a percentage of what is due, capped."""
    due = sum(l.due_minor for l in lines)
    if kind == "amount":
        return min(amount_minor, due)
    off = due * percent_bp // 10_000
    return min(off, cap_minor) if cap_minor else off


def split(amount: int, lines: list[Line], chosen: list[bool]) -> list[int]:
    """`amount` spread over the chosen lines in proportion to what is due on them
    (largest remainder), 0 on the others: aligned with `lines`."""
    weights = [l.due_minor if pick else 0 for l, pick in zip(lines, chosen)]
    return allocate(amount, weights) if amount else [0] * len(lines)
