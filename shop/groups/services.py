"""Group-buy rules. Services flush and raise GroupError; they never commit.

- A seat is a GroupMember with an order of kind "group" at the group price (the leader's
  price for the leader), shipping included, no other discount. Claiming it takes one of
  the group's seats and one of the campaign's units, each through its ledger, in the
  transaction that places the order; so twenty shoppers racing for the last seat end
  with one seat taken and nineteen refused before they pay.
- A seat is held until its order is paid, for at most ORDER_HOLD_MINUTES and never past
  the group's deadline; an unpaid order that is cancelled gives its seat and unit back.
- The leader's payment opens the group: its deadline is the campaign's `hours` from
  then. When the last seat is paid the group is complete and every member's order is
  released for shipping (orders are held from shipping until then).
- At the deadline (settle(): a scheduled job, and the sweeper) an unfilled group fails:
  unpaid seats are cancelled and every paid member is refunded in full the way they
  paid (card through Stripe, wallet back to the wallet). Under auto-complete, a group
  with at least the campaign's share of seats paid completes instead, with the shop
  carrying the missing seats; nobody is invented to fill them.
- A payment that lands when its group has closed (failed, or past the deadline) is
  refused: the group participant of "paid" raises OrderError, so a wallet payment is not taken
  and a card payment is refunded in full.

Locks follow the LOCK ORDER of shop.orders.lifecycle: a seat's order, its payments, the
shoppers' ledgers, then the group, then the campaign's units, the stock last. Placing a
seat's order (the group participant) takes the group, then the campaign; paying it takes
the group after the order and its payment; cancelling or refunding it, the group after
the money. settle() takes the group alone: it decides (complete or failed) and leaves
each seat to settle_seat(), one job per seat in its own transaction, which starts from
the seat's order like every other path (refund or cancel it, or release its hold); the
sweeper finds any seat a lost job left behind. So nothing ever takes an order, a payment
or a shopper's ledger while holding a group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shop import jobs, live
from shop.catalog.models import Product
from shop.db import db, ledger_move, utcnow
from shop.groups.models import (CampaignUnitEntry, Group, GroupCampaign, GroupCampaignSku,
                                GroupMember, GroupSeatEntry)
from shop.orders import lifecycle
from shop.orders import services as orders
from shop.orders.models import PAID_STATUSES, Address, Order
from shop.orders.placement import Placement, place
from shop.referrals import margin

LIVE = ("held", "paid")


class GroupError(ValueError):
    pass


# --- reading ----------------------------------------------------------------------------


def _running(now):
    return [GroupCampaign.active.is_(True), GroupCampaign.starts_at <= now,
            GroupCampaign.ends_at > now]


def campaign_on(campaign_id: int) -> GroupCampaign | None:
    """The campaign if shoppers can open groups in it now (its product on sale too)."""
    campaign = db.session.scalar(
        select(GroupCampaign).where(GroupCampaign.id == campaign_id, *_running(utcnow()))
        .options(selectinload(GroupCampaign.skus)))
    return campaign if campaign is not None and campaign.product.on_sale else None


def campaigns_for_product(product_id: int) -> list[GroupCampaign]:
    return list(db.session.scalars(
        select(GroupCampaign).where(GroupCampaign.product_id == product_id, *_running(utcnow()))
        .options(selectinload(GroupCampaign.skus)).order_by(GroupCampaign.id)))


def open_groups(campaign_ids: list[int], limit: int = 5) -> list[Group]:
    """Groups a shopper can join now, those closest to their deadline first, with their
    members (two queries)."""
    if not campaign_ids:
        return []
    return list(db.session.scalars(
        select(Group).where(Group.campaign_id.in_(campaign_ids), Group.status == "open",
                            Group.expires_at > utcnow(), Group.seats_left > 0)
        .options(selectinload(Group.members))
        .order_by(Group.expires_at, Group.id).limit(limit)))


def group_version(group_id: int) -> tuple[int, str, datetime] | None:
    """(version, status, expires_at) of a group shoppers may see: the progress fragment's
    ETag and whether it is settled or past its deadline (shop.live: from the cache).
    None for a pending or unknown group."""
    def load():
        return db.session.execute(select(Group.version, Group.status, Group.expires_at).where(
            Group.id == group_id, Group.status != "pending")).one_or_none()

    return live.version("group", group_id, load)


def _changed(group: Group) -> None:
    """Something shoppers see changed: a new version, and the cached one goes."""
    group.version += 1
    live.changed("group", group.id)


def group_for(group_id: int, viewer_id: int | None) -> Group | None:
    """The group with its campaign, product and live members; a pending group (its
    leader has not paid) only for its leader."""
    group = db.session.scalar(
        select(Group).where(Group.id == group_id)
        .options(selectinload(Group.members), selectinload(Group.campaign)
                 .selectinload(GroupCampaign.skus)))
    if group is None or (group.status == "pending" and group.leader_id != viewer_id):
        return None
    return group


def seat_of(group: Group, user_id: int | None) -> GroupMember | None:
    """The shopper's live seat in the group, if any."""
    return next((m for m in group.members if m.user_id == user_id and m.status in LIVE), None)


def group_of_order(order_id: int) -> GroupMember | None:
    return db.session.scalar(select(GroupMember).where(GroupMember.order_id == order_id))


def groups_of(user_id: int) -> list[GroupMember]:
    """The shopper's seats, newest first, with their groups."""
    return list(db.session.scalars(
        select(GroupMember).where(GroupMember.user_id == user_id)
        .options(selectinload(GroupMember.group).selectinload(Group.campaign))
        .order_by(GroupMember.id.desc()).limit(50)))


def is_new_customer(user_id: int) -> bool:
    """Never paid for an order (one since refunded counts as paid)."""
    return db.session.scalar(select(func.count(Order.id)).where(
        Order.user_id == user_id, Order.status.in_(PAID_STATUSES | {"refunded"}))) == 0


# --- opening and joining ----------------------------------------------------------------


def _campaign_sku(campaign: GroupCampaign, sku_id: int) -> GroupCampaignSku:
    offered = next((cs for cs in campaign.skus if cs.sku_id == sku_id and cs.sku.active), None)
    if offered is None:
        raise GroupError(_("Choose one of the options offered in this group buy."))
    return offered


def _locked_campaign(campaign_id: int) -> GroupCampaign:
    # FOR UPDATE OF the campaign alone: its product is joined in (lazy="joined"), and
    # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    return db.session.get(GroupCampaign, campaign_id, with_for_update={"of": GroupCampaign},
                          populate_existing=True)


def _check_limit(campaign: GroupCampaign, user_id: int) -> None:
    """Under the campaign's row lock, so two seats claimed at once are counted in turn."""
    if campaign.per_user_limit is None:
        return
    taken = db.session.scalar(select(func.count(GroupMember.id)).where(
        GroupMember.campaign_id == campaign.id, GroupMember.user_id == user_id,
        GroupMember.status.in_(LIVE)))
    if taken >= campaign.per_user_limit:
        raise GroupError(ngettext("You can take at most %(num)d seat in this group buy.",
                                  "You can take at most %(num)d seats in this group buy.",
                                  campaign.per_user_limit))


def _move_seats(group: Group, delta: int, *, reason: str, ref_type: str, ref_id: int) -> None:
    group.seats_left = ledger_move(
        Group.seats_left, [Group.id == group.id], delta,
        lambda after: GroupSeatEntry(group_id=group.id, delta=delta, seats_after=after,
                                     reason=reason, ref_type=ref_type, ref_id=str(ref_id)),
        error=GroupError, refused=_("This group is full."),
        duplicate=_("This seat was already counted."))


def _move_units(campaign_id: int, delta: int, *, reason: str, ref_type: str, ref_id: int,
                actor_id: int | None = None) -> None:
    ledger_move(GroupCampaign.units_left, [GroupCampaign.id == campaign_id], delta,
                lambda after: CampaignUnitEntry(campaign_id=campaign_id, delta=delta,
                                                units_after=after, reason=reason,
                                                ref_type=ref_type, ref_id=str(ref_id),
                                                actor_id=actor_id),
                error=GroupError, refused=_("This group buy has sold out."),
                duplicate=_("This unit was already counted."))


def _placed_before(user_id: int, key: str) -> Order | None:
    order = orders.order_by_key(user_id, key)
    if order is not None and order.kind != "group":
        raise GroupError(_("This form was already used; reload the page."))
    return order


@dataclass(frozen=True)
class SeatClaim:
    """The seat a group order takes: in this group (None: a new one, with the shopper as
    its leader), of this campaign, for this SKU."""

    group_id: int | None
    campaign_id: int
    sku_id: int

    @property
    def leader(self) -> bool:
        return self.group_id is None


def _seat_price(offered: GroupCampaignSku, *, leader: bool) -> int:
    return offered.leader_price_minor if leader and offered.leader_price_minor else offered.price_minor


def _place_seat(user_id: int, address, key: str, offered: GroupCampaignSku, claim: SeatClaim,
                pay_by: datetime | None) -> Order:
    """The seat's order at the group price (the leader's for the leader), with what
    stacks with a group buy (shop.promotions: a full reduction that allows it, a coupon
    made for group buys); shipping is free. The seat is taken when it is placed."""
    try:
        return place(Placement(
            user_id=user_id, key=key, destination=address, kind="group", channel="group",
            lines=[(offered.sku, 1, _seat_price(offered, leader=claim.leader))],
            claims={"group": claim}, hold="group", pay_by=pay_by))
    except orders.OrderError as exc:
        raise GroupError(str(exc)) from None


def open_group(user_id: int, campaign_id: int, sku_id: int,
               address: Address | orders.PickupPoint, key: str) -> Order:
    """A new group with the shopper as its leader, pending until the leader's order (at
    the leader's price where there is one) is paid. Returns that order."""
    if (order := _placed_before(user_id, key)) is not None:
        return order
    campaign = campaign_on(campaign_id)
    if campaign is None:
        raise GroupError(_("This group buy is not running now."))
    offered = _campaign_sku(campaign, sku_id)
    return _place_seat(user_id, address, key, offered, SeatClaim(None, campaign.id, sku_id), None)


def join_group(user_id: int, group_id: int, sku_id: int,
               address: Address | orders.PickupPoint, key: str) -> Order:
    """A seat in an open group, its order awaiting payment. Raises LookupError for a
    group shoppers can not see, GroupError for one they can not join (checked here for
    a clear message, and again under the group's lock when the seat is taken)."""
    if (order := _placed_before(user_id, key)) is not None:
        return order
    group = db.session.get(Group, group_id)
    if group is None or group.status == "pending":
        raise LookupError(group_id)
    _check_joinable(group, group.campaign, user_id)
    offered = _campaign_sku(group.campaign, sku_id)
    return _place_seat(user_id, address, key, offered, SeatClaim(group.id, group.campaign_id, sku_id),
                       group.expires_at)


def _check_joinable(group: Group, campaign: GroupCampaign, user_id: int) -> None:
    if seat_of(group, user_id) is not None:
        raise GroupError(_("You are already in this group."))
    if group.status != "open" or group.expires_at <= utcnow():
        raise GroupError(_("This group has closed."))
    if group.seats_left == 0:
        raise GroupError(_("This group is full."))
    if campaign.new_customers_only and not is_new_customer(user_id):
        raise GroupError(_("Only new customers can join this group."))
    _check_limit(campaign, user_id)


def _take_seat(order: Order, *, placement, **_kwargs) -> None:
    """Placed, a seat's order (LOCK ORDER: group, then campaign): the group locked (or
    made, pending, for a leader) and checked again, the campaign locked and its
    per-shopper limit checked, then the member row, one seat and one unit, each through
    its ledger. Refusals raise OrderError: nothing is placed."""
    claim = placement.claims.get("group")
    if claim is None:
        return
    try:
        if claim.leader:
            campaign = _locked_campaign(claim.campaign_id)
            _check_limit(campaign, order.user_id)
            group = Group(campaign_id=campaign.id, leader_id=order.user_id, status="pending",
                          size=campaign.group_size, seats_left=0)
            db.session.add(group)
            db.session.flush()
            _move_seats(group, group.size, reason="opened", ref_type="group", ref_id=group.id)
        else:
            group = db.session.get(Group, claim.group_id, with_for_update=True,
                                   populate_existing=True)
            db.session.refresh(group, ["members"])
            if group.status == "pending":
                raise GroupError(_("This group has closed."))
            campaign = _locked_campaign(group.campaign_id)
            _check_joinable(group, campaign, order.user_id)
        db.session.add(GroupMember(group_id=group.id, campaign_id=campaign.id,
                                   user_id=order.user_id, order_id=order.id,
                                   sku_id=claim.sku_id, leader=claim.leader, status="held"))
        _move_seats(group, -1, reason="claimed", ref_type="order", ref_id=order.id)
        _move_units(campaign.id, -1, reason="claimed", ref_type="order", ref_id=order.id)
    except GroupError as exc:
        raise orders.OrderError(str(exc)) from None
    _changed(group)
    db.session.flush()


# --- settling ---------------------------------------------------------------------------


def _members(group: Group) -> list[GroupMember]:
    return list(db.session.scalars(select(GroupMember).where(GroupMember.group_id == group.id)
                                   .order_by(GroupMember.id)
                                   .execution_options(populate_existing=True)))


def due_group_ids(now) -> list[int]:
    """Open groups past their deadline (indexed on status, expires_at)."""
    return list(db.session.scalars(select(Group.id).where(
        Group.status == "open", Group.expires_at <= now).order_by(Group.id)))


def settle(group_id: int) -> bool:
    """Settle a group past its deadline: complete under auto-complete with enough seats
    paid (the shop carries the missing ones), otherwise failed. Takes the group's lock
    alone; each live seat is then settled by settle_seat() in a job of its own (a failed
    group's paid members refunded in full the way they paid, unpaid seats cancelled, the
    holds of a completed group's orders released). False when nothing was done (settled
    already, or not yet due). Safe to run twice at once: the group is locked and its
    status re-read. A seat's payment racing it waits for the group's lock and then finds
    the group settled (and its money refused) or completes it first."""
    group = db.session.get(Group, group_id, with_for_update=True, populate_existing=True)
    if group is None or group.status != "open" or group.expires_at > utcnow():
        return False
    members = _members(group)
    paid = [m for m in members if m.status == "paid"]
    share = group.campaign.auto_complete_bp
    complete = share is not None and len(paid) * 10_000 >= group.size * share
    group.status, group.settled_at = ("complete" if complete else "failed"), utcnow()
    group.auto_completed = complete
    _changed(group)
    db.session.flush()
    for member in members:
        if member.status in LIVE:
            jobs.enqueue(settle_seat, member.id)
    return True


def settle_seat(member_id: int) -> bool:
    """Job: one seat of a settled group, starting from its order (LOCK ORDER): a failed
    group's paid member refunded in full the way they paid, with the stock back (the
    group participant then gives the seat and the unit back); an unpaid seat of a closed
    group cancelled (its seat and unit come back); a completed group's paid order released
    for shipping. Each at most once (refund keys are the group's, moves are guarded);
    False when nothing was left to do."""
    member = db.session.get(GroupMember, member_id)
    if member is None:
        return False
    order = orders.locked(member.order_id)
    db.session.refresh(member)
    group = db.session.get(Group, member.group_id, populate_existing=True)
    if group.status == "failed" and member.status == "paid" and order.status in PAID_STATUSES:
        orders.refund(order, orders.refundable_minor(order), key=f"group-{group.id}-failed",
                      reason="group failed", actor_id=None, restock=True)
        return True
    if member.status == "held" and group.status in ("failed", "complete") \
            and order.status == "awaiting_payment":
        orders.cancel(order, actor_id=None, reason="group closed")
        return True
    if group.status == "complete" and member.status == "paid" and order.hold is not None:
        orders.release_hold(order, actor_id=None, reason="group completed by the shop"
                            if group.auto_completed else "group complete")
        return True
    return False


def unsettled_seat_ids() -> list[int]:
    """Seats of settled groups that a lost job left: a failed group's paid members, a
    closed group's unpaid seats, a completed group's orders still held (the sweeper)."""
    return list(db.session.scalars(
        select(GroupMember.id).join(Group, Group.id == GroupMember.group_id)
        .join(Order, Order.id == GroupMember.order_id)
        .where((Group.status == "failed") & (GroupMember.status == "paid")
               & Order.status.in_(sorted(PAID_STATUSES))
               | Group.status.in_(("failed", "complete")) & (GroupMember.status == "held")
               & (Order.status == "awaiting_payment")
               | (Group.status == "complete") & (GroupMember.status == "paid")
               & Order.hold.is_not(None))
        .order_by(GroupMember.id)))


def settle_job(group_id: int) -> None:
    """The job scheduled at a group's deadline (the sweeper does the same if it is late)."""
    settle(group_id)


# --- the order lifecycle's participant (shop.orders.lifecycle) --------------------------


def _member_of(order: Order) -> tuple[GroupMember, Group] | None:
    """The seat of a group order and its group, locked (LOCK ORDER: after the order, its
    payments and the shoppers' ledgers)."""
    if order.kind != "group":
        return None
    member = db.session.scalar(select(GroupMember).where(GroupMember.order_id == order.id)
                               .execution_options(populate_existing=True))
    if member is None:
        return None
    group = db.session.get(Group, member.group_id, with_for_update=True, populate_existing=True)
    db.session.refresh(member)
    return member, group


def _on_paid(order: Order, **_kwargs) -> None:
    """A seat is paid: the leader's payment opens the group; a member's counts toward it,
    unless the group has closed (then the payment is refused and goes back). The last
    seat paid completes the group: this order is released for shipping now, the other
    members' by settle_seat() (their orders are not ours to take while holding the group)."""
    found = _member_of(order)
    if found is None:
        return
    member, group = found
    now = utcnow()
    if member.leader and group.status == "pending":
        group.status = "open"
        group.expires_at = now + timedelta(hours=group.campaign.hours)
        jobs.enqueue_at(group.expires_at, settle_job, group.id)
    elif group.status != "open" or group.expires_at <= now or member.status != "held":
        raise orders.OrderError(_("This group has closed, so the payment was not taken."))
    member.status, member.paid_at = "paid", now
    group.paid_count += 1
    _changed(group)
    db.session.flush()
    if group.paid_count == group.size:
        group.status, group.settled_at, group.auto_completed = "complete", now, False
        db.session.flush()
        orders.release_hold(order, actor_id=None, reason="group complete")
        for other in _members(group):
            if other.status == "paid" and other.id != member.id:
                jobs.enqueue(settle_seat, other.id)


def _on_cancelled(order: Order, **_kwargs) -> None:
    """An unpaid seat's order was cancelled (not paid in time, or the group closed): the
    seat and the campaign's unit come back; a pending group whose leader never paid is
    cancelled."""
    found = _member_of(order)
    if found is None:
        return
    member, group = found
    if member.status != "held":
        return
    member.status = "released"
    _move_seats(group, 1, reason="released", ref_type="cancel", ref_id=order.id)
    _move_units(group.campaign_id, 1, reason="released", ref_type="cancel", ref_id=order.id)
    if member.leader and group.status == "pending":
        group.status, group.settled_at = "cancelled", utcnow()
    _changed(group)
    db.session.flush()


def _on_refunded(order: Order, **_kwargs) -> None:
    """A seat's order is refunded by hand only once its group is settled: while it is
    open the seat counts, and a failed group refunds everyone itself. A failed group's
    member refunded in full gives the seat and the campaign's unit back."""
    found = _member_of(order)
    if found is None:
        return
    member, group = found
    if group.status == "open":
        raise orders.OrderError(_("This order belongs to a group buy that is still open; "
                                  "it can be refunded once the group is settled."))
    if group.status == "failed" and member.status == "paid" and order.status == "refunded":
        member.status = "refunded"
        _move_seats(group, 1, reason="refunded", ref_type="refund", ref_id=order.id)
        _move_units(group.campaign_id, 1, reason="refunded", ref_type="refund", ref_id=order.id)
        _changed(group)
        db.session.flush()


lifecycle.join("group", placed=_take_seat, paid=_on_paid, cancelled=_on_cancelled,
               refunded=_on_refunded)
orders.PAGE_PARTS["group_seat"] = lambda order: group_of_order(order.id) if order.kind == "group" else None


# --- backoffice -------------------------------------------------------------------------


def campaigns_with_figures() -> list[tuple[GroupCampaign, dict]]:
    """Every campaign, newest first, with its groups by status and the seats paid."""
    campaigns = list(db.session.scalars(select(GroupCampaign).order_by(GroupCampaign.id.desc())))
    counts = db.session.execute(
        select(Group.campaign_id, Group.status, func.count(Group.id), func.sum(Group.paid_count))
        .group_by(Group.campaign_id, Group.status)).all()
    figures: dict[int, dict] = {c.id: {"groups": {}, "paid_seats": 0} for c in campaigns}
    for campaign_id, status, n, paid in counts:
        if campaign_id in figures:
            figures[campaign_id]["groups"][status] = n
            if status == "complete":
                figures[campaign_id]["paid_seats"] += paid or 0
    return [(c, figures[c.id]) for c in campaigns]


def campaign_groups(campaign_id: int, page: int = 1):
    return db.paginate(select(Group).where(Group.campaign_id == campaign_id)
                       .options(selectinload(Group.members)).order_by(Group.id.desc()),
                       page=page, per_page=30, error_out=True, count=True)


def save_campaign(campaign: GroupCampaign | None, *, product: Product, prices: dict[int, tuple],
                  values: dict, actor_id: int, loss_leader: bool = False) -> GroupCampaign:
    """Create or change a campaign. prices: {sku_id: (group price, leader price or None)}
    for the SKUs in it. The stock cap moves units_left by the same amount, through the
    ledger; it can not go below what seats have taken. Each SKU's lowest price (the
    leader's, when given) is checked against its floor (shop.referrals.margin): below
    it, refused (margin.BelowFloor naming the SKU) unless confirmed as a loss leader."""
    if not prices:
        raise GroupError(_("Give a group price to at least one option."))
    skus = {sku.id: sku for sku in product.skus}
    for sku_id, (price, leader_price) in prices.items():
        if sku_id not in skus:
            raise GroupError(_("Choose one of the product's options."))
        if leader_price is not None and leader_price > price:
            raise GroupError(_("The leader's price can not be above the group price."))
    below = margin.check(
        "group", campaign.id if campaign else None,
        [margin.Priced(skus[sku_id], price if leader is None else leader,
                       margin.label_of(skus[sku_id]) if len(prices) > 1 else "")
         for sku_id, (price, leader) in sorted(prices.items())],
        field="price", confirmed=loss_leader)
    cap = values.pop("stock_cap")
    if campaign is not None:  # two admins saving at once change the cap one after the other
        campaign = _locked_campaign(campaign.id)
    if campaign is None:
        campaign = GroupCampaign(product_id=product.id, currency=product.currency, stock_cap=0,
                                 units_left=0, **values)
        db.session.add(campaign)
        db.session.flush()
    else:
        for name, value in values.items():
            setattr(campaign, name, value)
    if cap != campaign.stock_cap:
        change = cap - campaign.stock_cap
        if change > 0:
            campaign.stock_cap = cap
            db.session.flush()
        revision = db.session.scalar(select(func.count(CampaignUnitEntry.id)).where(
            CampaignUnitEntry.campaign_id == campaign.id, CampaignUnitEntry.ref_type == "cap"))
        try:
            _move_units(campaign.id, change, reason="stock cap", ref_type="cap",
                        ref_id=revision + 1, actor_id=actor_id)
        except GroupError:
            raise GroupError(_("The stock cap can not go below the %(n)d units seats have taken.",
                               n=campaign.stock_cap - campaign.units_left)) from None
        if change < 0:
            campaign.stock_cap = cap
        db.session.flush()
        db.session.refresh(campaign, ["units_left", "stock_cap"])
    current = {cs.sku_id: cs for cs in campaign.skus}
    for sku_id, cs in current.items():
        if sku_id not in prices:
            campaign.skus.remove(cs)
    for sku_id, (price, leader_price) in prices.items():
        cs = current.get(sku_id) or GroupCampaignSku(campaign_id=campaign.id, sku_id=sku_id)
        cs.price_minor, cs.leader_price_minor = price, leader_price
        if sku_id not in current:
            campaign.skus.append(cs)
    db.session.flush()
    margin.record("group", campaign.id, below, actor_id=actor_id)
    return campaign
