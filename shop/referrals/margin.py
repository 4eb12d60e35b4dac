"""The margin guard at pricing time: the lowest price a SKU may be offered at, and the
one check every backoffice price of a channel goes through (flash items, group-buy
prices, a bargain campaign's floor price, limited-time prices, points-mall items,
member levels' discounts).

The same rule as the guard at sale time (services.earn), turned into a floor: what is
paid, less the product's cost, less the two-level commission, keeps at least the
margin floor (`margin_floor_bp` of what is paid). For a price p, with the commission
rates l1 + l2 and the margin floor f (basis points), that is
p x (10 000 - f - l1 - l2) >= cost x 10 000 (integers only), so the floor is the
smallest such p: cost x 10 000 / (10 000 - f - l1 - l2), rounded up. At the floor and
above the commission is paid in full (earn's cap never cuts it); below, the admin is
told the figures at the floor: cost + margin floor + commission = floor (the commission
rounded down per level as earn rounds it, the margin what is left, so the three add up).

- Rates: the SKU's override, else the product's; without an override, the widest of
  the shop's default rates and the distributor levels' (the most a sale could pay,
  since the earner's level is not known when the price is set).
- Cost: the SKU's own (`Sku.cost_price_minor`: a 5斤 box costs more than a 1斤 one),
  else its product's (`Sku.cost_minor`). A SKU without a cost (0: not known) is not
  guarded: the margin floor and the commission are shares of the price itself, and any
  price keeps them.
- Points mall: redemptions earn no commission (services._on_placed), so the floor is
  cost and margin only; the price compared is the cash part plus the points valued at
  the shop's points rate (points.services.points_value_minor), counted by the caller.
- A price below the floor is refused (BelowFloor, naming the form's field) unless the
  admin confirms it as a deliberate loss leader; then it is saved and recorded
  (LossLeader: who confirmed it and when). A price already recorded as a loss leader
  for the same object and SKU stays confirmed when the object is saved again; a price
  back at or above the floor deletes the record.
- Member levels give a percentage off every product: a level's discount is checked on
  every SKU on sale (active, its product on sale and not archived, with a cost: its own
  or its product's) at its price less the discount, rounded as checkout takes it off
  (members.services.discount_minor); the refusal says how many SKUs are below and
  explains the one furthest below (check(summary=True)); confirmed, one row per SKU
  below (kind "member", object_id the level's id); deleting the level forgets them.
- Every kind is checked when its object is saved: a SKU's price or cost or a product's
  cost that changes later, or a new product, is checked the next time the object is
  saved (the sale-time guard still trims the commission meanwhile).

Like the services, nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, select

from shop.catalog.labels import sku_short
from shop.catalog.models import Sku
from shop.db import db, utcnow
from shop.money import format_minor
from shop.referrals import services
from shop.referrals.models import LOSS_LEADER_KINDS, LossLeader


# The confirmation every form of a channel's price carries (one wording everywhere).
LOSS_LEADER_LABEL = _l("Deliberate loss leader: sell at this price even below cost, margin "
                       "floor and commission")


class BelowFloor(ValueError):
    """A price below its SKU's floor, not confirmed as a loss leader; `field` names the
    form's field it is about."""

    def __init__(self, message: str, field: str | None = None, sku_id: int | None = None):
        super().__init__(message)
        self.field = field
        self.sku_id = sku_id


@dataclass(frozen=True)
class Floor:
    """The lowest price of a SKU, and what it is made of (they add up to it)."""

    currency: str
    cost_minor: int
    margin_minor: int
    commission_minor: int

    @property
    def minor(self) -> int:
        return self.cost_minor + self.margin_minor + self.commission_minor


@dataclass(frozen=True)
class Priced:
    """A price to check: the SKU, the price, and how the message names it (a SKU among
    several, or a points-mall item's cash and points)."""

    sku: Sku
    price_minor: int
    label: str = ""


@dataclass(frozen=True)
class Verdict:
    priced: Priced
    floor: Floor

    @property
    def below(self) -> bool:
        return self.priced.price_minor < self.floor.minor


def label_of(sku: Sku) -> str:
    """How a message names one SKU among several: its option values, else its code
    (shop.catalog.labels, the one way the backoffice names a SKU)."""
    return sku_short(sku)


def _rates(sku: Sku, overrides: dict, widest: tuple[int, int]) -> tuple[int, int]:
    row = overrides.get((sku.product_id, sku.id)) or overrides.get((sku.product_id, None))
    return (row.level1_bp, row.level2_bp) if row is not None else widest


def _widest() -> tuple[int, int]:
    rows = [services.settings(), *services.levels()]
    return max(((r.level1_bp, r.level2_bp) for r in rows), key=sum)


def _floor(sku: Sku, rates: tuple[int, int], margin_bp: int) -> Floor | None:
    cost = sku.cost_minor
    if cost <= 0:
        return None
    level1, level2 = rates
    keeps = 10_000 - margin_bp - level1 - level2  # check_pool keeps this at 0 or more
    # at 0 the margin floor and the commission take the whole price: no price covers a cost
    lowest = -(-cost * 10_000 // keeps) if keeps > 0 else services.MAX_AMOUNT
    commission = lowest * level1 // 10_000 + lowest * level2 // 10_000
    return Floor(sku.product.currency, cost, lowest - cost - commission, commission)


def floors(skus: list[Sku], *, commission: bool = True) -> dict[int, Floor | None]:
    """{sku id: its floor, or None when it has no cost}; one query for the rates
    of all of them."""
    margin_bp = services.settings().margin_floor_bp
    if not commission:
        return {sku.id: _floor(sku, (0, 0), margin_bp) for sku in skus}
    overrides = services._rates({sku.product_id for sku in skus}) if skus else {}
    widest = _widest()
    return {sku.id: _floor(sku, _rates(sku, overrides, widest), margin_bp) for sku in skus}


def floor_for(sku: Sku, *, commission: bool = True) -> Floor | None:
    """The lowest price the SKU may be offered at (None: it has no cost)."""
    return floors([sku], commission=commission)[sku.id]


def explain(priced: Priced, floor: Floor) -> str:
    money = lambda minor: format_minor(minor, floor.currency)  # noqa: E731
    if floor.minor >= services.MAX_AMOUNT:
        text = _("%(price)s can not cover the cost %(cost)s: the margin floor and the commission "
                 "take the whole price.", price=money(priced.price_minor), cost=money(floor.cost_minor))
        return f"{priced.label}: {text}" if priced.label else text
    text = _("%(price)s is below cost %(cost)s + margin floor %(margin)s + commission "
             "%(commission)s = %(floor)s.", price=money(priced.price_minor),
             cost=money(floor.cost_minor), margin=money(floor.margin_minor),
             commission=money(floor.commission_minor), floor=money(floor.minor))
    return f"{priced.label}: {text}" if priced.label else text


def check(kind: str, object_id: int | None, prices: list[Priced], *, field: str,
          confirmed: bool, commission: bool = True, summary: bool = False) -> list[Verdict]:
    """The one check of a channel's prices. Returns the verdicts of the prices below
    their floor (to record() once the object is saved); raises BelowFloor on the first
    one that is neither confirmed now (`confirmed`: the admin ticked "deliberate loss
    leader") nor recorded already at the same price for this object and SKU.

    `summary` (a member level's discount, which prices every SKU on sale): the message
    says how many SKUs are below their floor and explains the one furthest below (the
    largest shortfall, the lowest SKU id on a tie) rather than the first one."""
    assert kind in LOSS_LEADER_KINDS
    by_sku = floors([p.sku for p in prices], commission=commission)
    below = [Verdict(p, by_sku[p.sku.id]) for p in prices if by_sku[p.sku.id] is not None]
    below = [v for v in below if v.below]
    if below and not confirmed:
        kept = set()
        if object_id is not None:
            kept = {tuple(row) for row in db.session.execute(
                select(LossLeader.sku_id, LossLeader.price_minor).where(
                    LossLeader.kind == kind, LossLeader.object_id == object_id))}
        for verdict in below:
            if (verdict.priced.sku.id, verdict.priced.price_minor) in kept:
                continue
            if summary:
                worst = min(below, key=lambda v: (v.priced.price_minor - v.floor.minor,
                                                  v.priced.sku.id))
                raise BelowFloor(
                    ngettext("%(num)d SKU on sale would sell below its floor.",
                             "%(num)d SKUs on sale would sell below their floor.", len(below))
                    + " " + _("The furthest below: %(sku)s",
                              sku=explain(worst.priced, worst.floor)) + " "
                    + _("Tick “Deliberate loss leader” to sell at these prices anyway."),
                    field=field, sku_id=worst.priced.sku.id)
            raise BelowFloor(
                explain(verdict.priced, verdict.floor) + " "
                + _("Tick “Deliberate loss leader” to sell at this price anyway."),
                field=field, sku_id=verdict.priced.sku.id)
    return below


def record(kind: str, object_id: int, below: list[Verdict], *, actor_id: int | None) -> None:
    """Keep the object's loss leaders as check() found them: a SKU no longer below its
    floor loses its row, a new price below it is recorded as confirmed by the actor now,
    a price unchanged keeps who confirmed it first."""
    rows = {row.sku_id: row for row in db.session.scalars(select(LossLeader).where(
        LossLeader.kind == kind, LossLeader.object_id == object_id))}
    wanted = {v.priced.sku.id: v for v in below}
    gone = [sku_id for sku_id in rows if sku_id not in wanted]
    if gone:
        db.session.execute(delete(LossLeader).where(
            LossLeader.kind == kind, LossLeader.object_id == object_id,
            LossLeader.sku_id.in_(gone)))
    for sku_id, verdict in wanted.items():
        row = rows.get(sku_id)
        price, floor = verdict.priced.price_minor, verdict.floor.minor
        if row is not None and row.price_minor == price:
            row.floor_minor = floor
            continue
        if actor_id is None:  # check() let it through only when confirmed, by someone
            raise BelowFloor(_("A loss leader needs the admin who confirms it."))
        if row is None:
            row = LossLeader(kind=kind, object_id=object_id, sku_id=sku_id)
            db.session.add(row)
        row.currency, row.price_minor, row.floor_minor = verdict.floor.currency, price, floor
        row.confirmed_by_id, row.confirmed_at = actor_id, utcnow()
    db.session.flush()


def forget(kind: str, object_ids: list[int]) -> None:
    """The objects are gone: so are their loss-leader rows."""
    if object_ids:
        db.session.execute(delete(LossLeader).where(LossLeader.kind == kind,
                                                    LossLeader.object_id.in_(object_ids)))


def marked(kind: str, object_ids) -> dict[int, list[LossLeader]]:
    """{object id: its loss-leader rows} for a list's objects, in one query (the badge)."""
    ids = sorted({i for i in object_ids if i is not None})
    found: dict[int, list[LossLeader]] = {}
    if ids:
        for row in db.session.scalars(select(LossLeader).where(
                LossLeader.kind == kind, LossLeader.object_id.in_(ids)).order_by(LossLeader.id)):
            found.setdefault(row.object_id, []).append(row)
    return found
