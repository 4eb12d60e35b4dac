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
  refused: the order_paid receiver raises OrderError, so a wallet payment is not taken
  and a card payment is refunded in full.

Locks, always in this order so two transactions never wait on each other in a circle:
member orders (by id) -> group -> campaign -> SKU stock. The payment of a seat holds its
order (and the payer's wallet) and then takes the group; settle() takes the orders of
its members first (without waiting: the payment that completes a group takes the other
members' orders after the group, so a busy order means "settle later"), then the group,
then refunds (wallets, points), then the campaign, then stock; a join takes the group,
then the campaign, then the stock of its new order (orders.create_order claims stock
after its receivers, and cancel() and refund() return it after theirs: the LOCK ORDER
note in shop/orders/services.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop import jobs
from shop.catalog.models import Product
from shop import live
from shop.db import db, ledger_move, utcnow
from shop.groups.models import (CampaignUnitEntry, Group, GroupCampaign, GroupCampaignSku,
                                GroupMember, GroupSeatEntry)
from shop.orders import order_cancelled, order_paid, order_refunded, pricing
from shop.orders import services as orders
from shop.orders.models import PAID_STATUSES, Address, Order

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


def _take_seat(group: Group, campaign: GroupCampaign, offered: GroupCampaignSku, user_id: int,
               address: Address | orders.PickupPoint, key: str, *, leader: bool) -> Order:
    """The seat's order, its member row, one seat and one unit: all or nothing."""
    sku = offered.sku
    price = offered.leader_price_minor if leader and offered.leader_price_minor else offered.price_minor
    # the group price, and what stacks with a group buy (shop.promotions: a full
    # reduction that allows it, a coupon made for group buys); shipping is free
    priced = pricing.price([(sku.id, 1, price)], user_id, channel="group")
    try:
        order = orders.create_order(user_id, address, key, [(sku, sku.product, 1, price)], priced,
                                    kind="group", hold="group", pay_by=group.expires_at)
    except orders.OrderError as exc:
        raise GroupError(str(exc)) from None
    db.session.add(GroupMember(group_id=group.id, campaign_id=campaign.id, user_id=user_id,
                               order_id=order.id, sku_id=sku.id, leader=leader, status="held"))
    _move_seats(group, -1, reason="claimed", ref_type="order", ref_id=order.id)
    _move_units(campaign.id, -1, reason="claimed", ref_type="order", ref_id=order.id)
    _changed(group)
    db.session.flush()
    if order.status == "paid":  # promotions took it to 0: paid at once, counted now
        _on_paid(order)
    return order


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
    try:
        with db.session.begin_nested():
            campaign = _locked_campaign(campaign_id)
            _check_limit(campaign, user_id)
            group = Group(campaign_id=campaign.id, leader_id=user_id, status="pending",
                          size=campaign.group_size, seats_left=campaign.group_size)
            db.session.add(group)
            db.session.flush()
            order = _take_seat(group, campaign, offered, user_id, address, key, leader=True)
    except IntegrityError:  # the same form placed it meanwhile (a double tap)
        order = orders.order_by_key(user_id, key)
        if order is None:
            raise
    return order


def join_group(user_id: int, group_id: int, sku_id: int,
               address: Address | orders.PickupPoint, key: str) -> Order:
    """A seat in an open group, its order awaiting payment. Raises LookupError for a
    group shoppers can not see, GroupError for one they can not join."""
    if (order := _placed_before(user_id, key)) is not None:
        return order
    try:
        with db.session.begin_nested():
            group = db.session.get(Group, group_id, with_for_update=True, populate_existing=True)
            if group is None or group.status == "pending":
                raise LookupError(group_id)
            if seat_of(group, user_id) is not None:
                raise GroupError(_("You are already in this group."))
            if group.status != "open" or group.expires_at <= utcnow():
                raise GroupError(_("This group has closed."))
            if group.seats_left == 0:
                raise GroupError(_("This group is full."))
            campaign = _locked_campaign(group.campaign_id)
            if campaign.new_customers_only and not is_new_customer(user_id):
                raise GroupError(_("Only new customers can join this group."))
            _check_limit(campaign, user_id)
            order = _take_seat(group, campaign, _campaign_sku(campaign, sku_id), user_id,
                               address, key, leader=False)
    except IntegrityError:  # the same form placed it meanwhile (a double tap)
        order = orders.order_by_key(user_id, key)
        if order is None:
            raise
    return order


# --- settling ---------------------------------------------------------------------------


def _complete(group: Group, *, auto: bool) -> None:
    group.status, group.settled_at, group.auto_completed = "complete", utcnow(), auto
    _changed(group)
    db.session.flush()
    paid = [m.order_id for m in _members(group) if m.status == "paid"]
    for order in db.session.scalars(select(Order).where(Order.id.in_(paid)).order_by(Order.id)):
        orders.release_hold(order, actor_id=None,
                            reason="group completed by the shop" if auto else "group complete")


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
    paid, otherwise failed with every unpaid seat cancelled and every paid member
    refunded in full, the way they paid. False when nothing was done (settled already,
    not yet due, or a member's order busy: run again later, as the sweeper does). Safe
    to run twice at once or after a crash: the orders and the group are locked and the
    status re-read, and each refund's key is the group's.

    The orders are taken with SKIP LOCKED, never waited for: a seat's payment holds its
    order, then the group, then (completing it) the other members' orders, so a settle
    holding one of those while waiting for the paying one would deadlock with it. Then
    the refunds (per-user ledgers) come before the campaign's units and the stock, in the
    LOCK ORDER of shop/orders/services.py."""
    member_orders = list(db.session.scalars(select(GroupMember.order_id).where(
        GroupMember.group_id == group_id, GroupMember.status.in_(LIVE))))
    locked = set(db.session.scalars(select(Order.id).where(Order.id.in_(member_orders))
                                    .order_by(Order.id).with_for_update(skip_locked=True)))
    if len(locked) < len(member_orders):
        return False  # a payment (or a cancel, a refund) of a seat is under way
    group = db.session.get(Group, group_id, with_for_update=True, populate_existing=True)
    if group is None or group.status != "open" or group.expires_at > utcnow():
        return False
    members = _members(group)
    if any(m.status in LIVE and m.order_id not in locked for m in members):
        return False  # a seat taken since the orders were read: its order is not ours yet
    paid = [m for m in members if m.status == "paid"]
    share = group.campaign.auto_complete_bp
    complete = share is not None and len(paid) * 10_000 >= group.size * share
    refunded = []
    if not complete:
        group.status, group.settled_at = "failed", utcnow()
        _changed(group)
        db.session.flush()
        for member in paid:  # the money first: payments, wallets and points (LOCK ORDER)
            order = db.session.get(Order, member.order_id, populate_existing=True)
            orders.refund(order, orders.refundable_minor(order), key=f"group-{group.id}-failed",
                          reason="group failed", actor_id=None, restock=False)
            member.status = "refunded"
            refunded.append(order)
    for member in members:
        if member.status == "held":  # not paid in time: the seat is given back (receiver)
            orders.cancel(db.session.get(Order, member.order_id), actor_id=None,
                          reason="group closed")
    for order in refunded:  # then the seats and the campaign's units, the stock last
        _move_seats(group, 1, reason="refunded", ref_type="refund", ref_id=order.id)
        _move_units(group.campaign_id, 1, reason="refunded", ref_type="refund", ref_id=order.id)
    for order in refunded:
        orders.return_stock(order, reason="order_refunded", ref_type="order_refund")
    if complete:
        _complete(group, auto=True)
    db.session.flush()
    return True


def settle_job(group_id: int) -> None:
    """The job scheduled at a group's deadline (the sweeper does the same if it is late)."""
    settle(group_id)


# --- receivers --------------------------------------------------------------------------


def _member_of(order: Order, *, lock: bool = True) -> tuple[GroupMember, Group] | None:
    """The seat of a group order and its group, locked unless only read."""
    if order.kind != "group":
        return None
    member = db.session.scalar(select(GroupMember).where(GroupMember.order_id == order.id)
                               .execution_options(populate_existing=True))
    if member is None:  # a seat with nothing to pay, paid before its member row exists
        return None
    group = db.session.get(Group, member.group_id, with_for_update=lock, populate_existing=True)
    return member, group


@order_paid.connect
def _on_paid(order: Order, **extra) -> None:
    """A seat is paid: the leader's payment opens the group; a member's counts toward it,
    unless the group has closed (then the payment is refused and goes back)."""
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
        _complete(group, auto=False)


@order_cancelled.connect
def _on_cancelled(order: Order, **extra) -> None:
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


@order_refunded.connect
def _on_refunded(order: Order, **extra) -> None:
    """A seat's order is refunded by hand only once its group is settled: while it is
    open the seat counts, and a failed group refunds everyone itself."""
    found = _member_of(order, lock=False)  # "open" is read as it stands: settled is final
    if found is not None and found[1].status == "open":
        raise orders.OrderError(_("This order belongs to a group buy that is still open; "
                                  "it can be refunded once the group is settled."))


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
                  values: dict, actor_id: int) -> GroupCampaign:
    """Create or change a campaign. prices: {sku_id: (group price, leader price or None)}
    for the SKUs in it. The stock cap moves units_left by the same amount, through the
    ledger; it can not go below what seats have taken."""
    if not prices:
        raise GroupError(_("Give a group price to at least one option."))
    skus = {sku.id: sku for sku in product.skus}
    for sku_id, (price, leader_price) in prices.items():
        if sku_id not in skus:
            raise GroupError(_("Choose one of the product's options."))
        if leader_price is not None and leader_price > price:
            raise GroupError(_("The leader's price can not be above the group price."))
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
    return campaign
