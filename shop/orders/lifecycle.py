"""The order lifecycle's participants, in one declared order, and the lock order they follow.

LOCK ORDER. Every path that locks more than one row takes them in this order, so two
transactions never wait for each other in a circle (a deadlock is a bug, not bad luck):

  1. order      the order row (shop.orders.services.locked(), or the guarded UPDATE of
                a transition);
  2. payments   its payments and their refunds, lowest id first (shop.payments: every
                path that locks a payment of an order asks the order's owner to lock the
                order first, the webhook and the jobs included);
  3. shoppers   the ledgers of people: the buyer's wallet, coupons, points account and
                member growth, then the earners' commission accounts, lowest user id
                first, then the buyer's acquisition figures;
  4. group      a group buy's group, a bargain;
  5. campaign   the counters of a campaign: a group campaign's units, a flash item's
                per-shopper count then its stock, a points-mall item's stock;
  6. stock      SKU stock through the stock ledger, lowest SKU id first.

Work another domain must do in the order's transaction is a *participant*: a named step
with a hook per stage (placed, paid, cancelled, refunded), run by run() in the order of
PARTICIPANTS below, which is the lock order: the participants of a stage run after the
order's own rows (1, 2) and before the stock (6), which the orders domain moves last.
A domain joins with join(name, placed=..., ...); a participant that is not declared here
cannot join, so the order is decided here and nowhere else (tests/orders pins it).
A hook raises OrderError to refuse (the whole placement, payment or refund is undone).

Signals (shop.signals) are for reactions after the commit (emails, caches); nothing that
must commit with the order is a signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RANKS = ("order", "payments", "shoppers", "group", "campaign", "stock")
STAGES = ("placed", "paid", "cancelled", "refunded")


@dataclass(frozen=True)
class Participant:
    name: str
    owner: str       # the domain that joins it
    rank: str | None  # the first kind of row it locks (RANKS), None if it locks none
    does: str         # what it does, for the reader


PARTICIPANTS = (
    Participant("pickup", "stores", None,
                "placed: the store takes pickups, the products may be picked up; "
                "paid: the pickup code"),
    Participant("coupons", "promotions", "shoppers",
                "placed: the coupon is used; cancelled, refunded in full: given back"),
    Participant("points", "points", "shoppers",
                "placed: points spent (a deduction, a redemption's price); paid: points "
                "earned and tasks; cancelled: spent points back; refunded: per line"),
    Participant("growth", "members", "shoppers",
                "paid: member growth; refunded: taken back for the goods refunded"),
    Participant("commissions", "referrals", "shoppers",
                "placed: who earns is fixed; paid: commissions per line; refunded: "
                "reversed per line"),
    Participant("attribution", "articles", None,
                "placed: each line carries the article it was reached through"),
    Participant("figures", "analytics", "shoppers",
                "placed, paid, refunded: the order's fact and the buyer's value to date"),
    Participant("bargain", "bargains", "group",
                "placed: the bargain is bought; cancelled: it comes back"),
    Participant("group", "groups", "group",
                "placed: a seat and a campaign unit; paid: the seat counts, may complete "
                "the group; cancelled: the seat comes back; refunded: not while open"),
    Participant("flash", "promotions", "campaign",
                "placed: the shopper's allowance, then the item's flash stock; cancelled, "
                "refunded with the goods back: returned"),
    Participant("mall", "points", "campaign",
                "placed: the mall item's stock and the redemption; cancelled, refunded "
                "with the goods back: returned"),
)
_BY_NAME = {p.name: p for p in PARTICIPANTS}
_HOOKS: dict[str, dict[str, Callable]] = {}


def join(name: str, **hooks: Callable) -> None:
    """A domain's hooks for a declared participant (placed=..., paid=..., ...). Joining
    twice replaces (a module imported again in tests), never adds a second copy."""
    if name not in _BY_NAME:
        raise LookupError(f"{name!r} is not a declared participant of the order lifecycle")
    unknown = set(hooks) - set(STAGES)
    if unknown:
        raise LookupError(f"unknown stages {sorted(unknown)} for {name!r}")
    _HOOKS[name] = hooks


def run(stage: str, order, **kwargs) -> None:
    """Every participant's hook for this stage, in the declared order."""
    for participant in PARTICIPANTS:
        hook = _HOOKS.get(participant.name, {}).get(stage)
        if hook is not None:
            hook(order, **kwargs)


def joined() -> dict[str, tuple[str, ...]]:
    """Which stages each participant has hooks for (the order page of the README, tests)."""
    return {name: tuple(stage for stage in STAGES if stage in hooks)
            for name, hooks in _HOOKS.items()}
