"""Bargain rules. Services flush and raise BargainError; they never commit.

Campaigns
- An admin sells one SKU from a start price down to a floor price (at least 0.01), with
  the number of helpers needed (1 to 100), how long each bargain runs (1 to 720 hours)
  and a window (starts_at..ends_at) in which shoppers may start bargains. The start
  price is at least the floor plus one fen per helper, so no cut is ever zero.
- Switching a campaign off, or its window closing, stops new bargains; bargains already
  started run their course on the prices they started with (a snapshot on the row).

A bargain
- start(): one live bargain (active or complete) per shopper and campaign, by a partial
  unique index; starting again returns the live one. The cuts are drawn at the start by
  plan_cuts(): positive, summing to start - floor, the largest first.
- cut(): each signed-in friend (not the owner) cuts once, while the bargain is active
  and not past expires_at. The bargain row is locked, so racing helpers queue up and
  take the plan's cuts in order; the BargainHelp row (unique per helper and per place in
  the plan) is the ledger of the price and is written in the same transaction. The last
  helper reaches the floor exactly and completes the bargain.
- buy(): the owner buys at the current price at any time (the floor once complete): an
  order of kind "bargain" for the SKU at that price, shipping included, once per form
  token. The bargain is then "ordered"; if that order is cancelled unpaid, the bargain
  comes back (active or complete by its helps; expired if its time ran out meanwhile).
- expire(): the sweeper ends live bargains past expires_at. Every change of a bargain
  adds one to its version, the ETag of its progress fragment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import User
from shop.bargains.models import Bargain, BargainCampaign, BargainHelp
from shop.catalog.models import Product, Sku
from shop import live
from shop.db import db, utcnow
from shop.orders import lifecycle
from shop.orders import services as orders
from shop.orders.models import PAID_STATUSES, Address, Order
from shop.orders.placement import Placement, place
from shop.referrals import margin

LIVE_STATUSES = ("active", "complete")
MAX_HELPERS, MAX_HOURS = 100, 720


class BargainError(ValueError):
    pass


# --- the plan ---------------------------------------------------------------------------


def plan_cuts(total: int, helpers: int, rng: random.Random | None = None) -> list[int]:
    """`helpers` positive whole amounts summing to `total` (total >= helpers), largest
    first: helpers - 1 distinct cut points drawn from 1..total-1 split the range, so
    every part is at least one and they add up exactly. The first friends cut most."""
    if helpers < 1 or total < helpers:
        raise ValueError("every helper must cut at least one minor unit")
    rng = rng or random.SystemRandom()
    points = sorted(rng.sample(range(1, total), helpers - 1))
    bounds = [0, *points, total]
    return sorted((high - low for low, high in zip(bounds, bounds[1:])), reverse=True)


# --- campaigns --------------------------------------------------------------------------


def _running(now: datetime):
    """Campaigns shoppers may start a bargain on now: switched on, within their window,
    for a product on sale and an active SKU."""
    return (select(BargainCampaign)
            .join(Product, Product.id == BargainCampaign.product_id)
            .join(Sku, Sku.id == BargainCampaign.sku_id)
            .where(BargainCampaign.active.is_(True), BargainCampaign.starts_at <= now,
                   BargainCampaign.ends_at > now, Product.status == "on_sale",
                   Product.archived_at.is_(None), Sku.active.is_(True)))


def running_campaigns(now: datetime | None = None) -> list[BargainCampaign]:
    """The campaigns on now, ending soonest first, with product and images in two
    queries however many."""
    query = (_running(now or utcnow()).order_by(BargainCampaign.ends_at, BargainCampaign.id)
             .options(joinedload(BargainCampaign.product).selectinload(Product.images)))
    return list(db.session.scalars(query).unique())


def campaigns_for_product(product_id: int, now: datetime | None = None) -> list[BargainCampaign]:
    """The campaigns on now for a product, the lowest floor first (the product page
    mentions the first)."""
    query = (_running(now or utcnow()).where(BargainCampaign.product_id == product_id)
             .order_by(BargainCampaign.floor_price_minor, BargainCampaign.id))
    return list(db.session.scalars(query).unique())


def campaign_for_shoppers(campaign_id: int) -> BargainCampaign | None:
    """A campaign switched on, with its product's images; None otherwise (a 404).
    Whether it is running now is is_running()."""
    return db.session.scalar(
        select(BargainCampaign).where(BargainCampaign.id == campaign_id,
                                      BargainCampaign.active.is_(True))
        .options(joinedload(BargainCampaign.product).selectinload(Product.images)))


def is_running(campaign: BargainCampaign, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (campaign.active and campaign.starts_at <= now < campaign.ends_at
            and campaign.product.on_sale and campaign.sku.active)


def sku_by_code(code: str) -> Sku | None:
    return db.session.scalar(select(Sku).where(Sku.code == code.strip()))


def save_campaign(campaign: BargainCampaign | None, *, sku_code: str, start_price_minor: int,
                  floor_price_minor: int, helpers_needed: int, hours: int, starts_at: datetime,
                  ends_at: datetime, active: bool, actor_id: int | None = None,
                  loss_leader: bool = False) -> BargainCampaign:
    """Create or change a campaign. The same rules as the table's checks, as messages:
    a floor of at least one minor unit, room for every helper's cut of at least one, the
    end after the start. Bargains already started keep the prices they started with.
    The floor price (what a bargain ends at) is checked against the SKU's floor
    (shop.referrals.margin): below it, refused (margin.BelowFloor) unless confirmed as
    a loss leader by `actor_id`."""
    sku = sku_by_code(sku_code)
    if sku is None or not sku.active or sku.product.archived_at is not None:
        raise BargainError(_("There is no active SKU with this code."))
    if floor_price_minor < 1:
        raise BargainError(_("The floor price must be at least 0.01."))
    if not 1 <= helpers_needed <= MAX_HELPERS:
        raise BargainError(_("Ask for 1 to %(n)d helpers.", n=MAX_HELPERS))
    if start_price_minor - floor_price_minor < helpers_needed:
        raise BargainError(_("The start price must be above the floor by at least 0.01 per helper."))
    if not 1 <= hours <= MAX_HOURS:
        raise BargainError(_("A bargain runs from 1 to %(n)d hours.", n=MAX_HOURS))
    if ends_at <= starts_at:
        raise BargainError(_("The campaign must end after it starts."))
    below = margin.check("bargain", campaign.id if campaign else None,
                         [margin.Priced(sku, floor_price_minor)], field="floor_price_minor",
                         confirmed=loss_leader)
    if campaign is None:
        campaign = BargainCampaign()
        db.session.add(campaign)
    elif campaign.sku_id != sku.id and db.session.scalar(
            select(Bargain.id).where(Bargain.campaign_id == campaign.id).limit(1)) is not None:
        # bargains buy their campaign's SKU at the prices they started with
        raise BargainError(_("The item can not change once bargains have started; "
                             "make a new campaign for another item."))
    campaign.product_id, campaign.sku_id, campaign.currency = sku.product_id, sku.id, sku.product.currency
    campaign.start_price_minor, campaign.floor_price_minor = start_price_minor, floor_price_minor
    campaign.helpers_needed, campaign.hours = helpers_needed, hours
    campaign.starts_at, campaign.ends_at, campaign.active = starts_at, ends_at, active
    db.session.flush()
    margin.record("bargain", campaign.id, below, actor_id=actor_id)
    return campaign


@dataclass(frozen=True)
class CampaignFigures:
    started: int = 0
    completed: int = 0  # reached the floor (whether bought or not)
    ordered: int = 0  # bought: an order placed and not cancelled
    paid: int = 0  # of those, paid


def admin_campaigns() -> list[tuple[BargainCampaign, CampaignFigures]]:
    """Every campaign, newest first, with its figures: two queries however many."""
    campaigns = list(db.session.scalars(
        select(BargainCampaign).order_by(BargainCampaign.id.desc())).unique())
    rows = db.session.execute(
        select(Bargain.campaign_id, func.count(Bargain.id),
               func.sum(case((Bargain.helps == Bargain.helpers_needed, 1), else_=0)),
               func.sum(case((Bargain.status == "ordered", 1), else_=0)),
               func.sum(case((Order.status.in_(PAID_STATUSES), 1), else_=0)))
        .outerjoin(Order, and_(Order.id == Bargain.order_id, Bargain.status == "ordered"))
        .group_by(Bargain.campaign_id)).all()
    figures = {row[0]: CampaignFigures(*(int(n or 0) for n in row[1:])) for row in rows}
    return [(campaign, figures.get(campaign.id, CampaignFigures())) for campaign in campaigns]


# --- bargains ---------------------------------------------------------------------------


def state_of(bargain: Bargain, now: datetime | None = None) -> str:
    """The status as shoppers should see it: a live bargain past its time is expired
    even before the sweeper has marked it."""
    if bargain.status in LIVE_STATUSES and bargain.expires_at <= (now or utcnow()):
        return "expired"
    return bargain.status


def _live_of(user_id: int, campaign_id: int) -> Bargain | None:
    return db.session.scalar(select(Bargain).where(
        Bargain.campaign_id == campaign_id, Bargain.user_id == user_id,
        Bargain.status.in_(LIVE_STATUSES)))


def live_bargain_of(user_id: int, campaign_id: int) -> Bargain | None:
    """The shopper's bargain on this campaign that is still running, if any."""
    bargain = _live_of(user_id, campaign_id)
    return bargain if bargain is not None and state_of(bargain) != "expired" else None


def start(user_id: int, campaign_id: int) -> Bargain:
    """Start a bargain on a running campaign, its cuts drawn now; the shopper's live
    bargain on it if there is one (a double tap or a second visit lands on it)."""
    campaign = db.session.get(BargainCampaign, campaign_id)
    if campaign is None or not campaign.active:
        raise LookupError(campaign_id)
    now = utcnow()
    if not is_running(campaign, now):
        raise BargainError(_("This bargain campaign is not running now."))
    if campaign.sku.stock < 1:
        raise BargainError(_("This item is sold out."))
    existing = _live_of(user_id, campaign.id)
    if existing is not None:
        if existing.expires_at > now:
            return existing
        expire(existing.id, now)  # its time ran out before the sweeper came by
    bargain = Bargain(campaign_id=campaign.id, user_id=user_id, status="active",
                      currency=campaign.currency, start_price_minor=campaign.start_price_minor,
                      floor_price_minor=campaign.floor_price_minor,
                      helpers_needed=campaign.helpers_needed,
                      plan=plan_cuts(campaign.start_price_minor - campaign.floor_price_minor,
                                     campaign.helpers_needed),
                      price_minor=campaign.start_price_minor, helps=0,
                      expires_at=now + timedelta(hours=campaign.hours), version=1)
    try:
        with db.session.begin_nested():
            db.session.add(bargain)
            db.session.flush()
    except IntegrityError:  # the same shopper started one meanwhile (a double tap)
        existing = _live_of(user_id, campaign.id)
        if existing is None:
            raise
        return existing
    return bargain


def _locked(bargain_id: int) -> Bargain | None:
    """The bargain row, locked for this transaction and read afresh: cuts, purchases and
    expiry of one bargain queue up behind it."""
    return db.session.get(Bargain, bargain_id, with_for_update=True, populate_existing=True)


def _has_helped(bargain_id: int, helper_id: int) -> bool:
    return db.session.scalar(select(BargainHelp.id).where(
        BargainHelp.bargain_id == bargain_id, BargainHelp.helper_id == helper_id)) is not None


def _refusal(bargain: Bargain, now: datetime) -> str | None:
    """Why nobody may cut this bargain any more, if so."""
    state = state_of(bargain, now)
    if state == "complete":
        return _("This bargain has already reached its floor price.")
    if state == "ordered":
        return _("This bargain has already been bought.")
    if state == "expired":
        return _("This bargain has expired.")
    return None


def cut(bargain_id: int, helper_id: int) -> BargainHelp:
    """A friend's cut: the next amount of the plan, once per friend, never the owner's.
    The bargain is locked first, so the cuts of racing friends take the plan in order
    and the last one lands exactly on the floor."""
    bargain = _locked(bargain_id)
    if bargain is None:
        raise LookupError(bargain_id)
    if bargain.user_id == helper_id:
        raise BargainError(_("You can not cut your own bargain; share it with friends."))
    if _has_helped(bargain.id, helper_id):
        raise BargainError(_("You have already helped cut this price."))
    refusal = _refusal(bargain, utcnow())
    if refusal:
        raise BargainError(refusal)
    seq = bargain.helps + 1
    amount = bargain.plan[bargain.helps]
    price = bargain.price_minor - amount
    row = BargainHelp(bargain_id=bargain.id, helper_id=helper_id, seq=seq, amount_minor=amount,
                      price_after_minor=price)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the unique keys decide, should the lock not have
        raise BargainError(_("You have already helped cut this price.")) from None
    bargain.helps, bargain.price_minor = seq, price
    if seq == bargain.helpers_needed:
        bargain.status = "complete"
    _changed(bargain)
    db.session.flush()
    return row


def _placed_before(bargain: Bargain, user_id: int, key: str) -> Order | None:
    """The order this form token placed already: this bargain's (a double tap), or a
    refusal when the token placed something else."""
    order = orders.order_by_key(user_id, key)
    if order is not None and order.id != bargain.order_id:
        raise BargainError(_("This form was already used; reload the page."))
    return order


@dataclass(frozen=True)
class BargainClaim:
    """The bargain an order buys, at the price it had when the shopper chose to buy."""

    bargain_id: int
    price_minor: int


def buy(bargain: Bargain, user_id: int, address: Address, key: str) -> Order:
    """The owner buys at the bargain's price now: an order of kind "bargain" for one unit
    of the campaign's SKU at that price, shipping included (the price is final), once
    per form token. Only a live bargain in its time may be bought; the bargain
    participant claims it when the order is placed."""
    if (order := _placed_before(bargain, user_id, key)) is not None:
        return order
    if bargain.user_id != user_id:
        raise BargainError(_("This is not your bargain."))
    state = state_of(bargain)
    if state == "ordered":
        raise BargainError(_("You have already bought this bargain."))
    if state == "expired":
        raise BargainError(_("This bargain has expired."))
    sku = bargain.campaign.sku
    if not sku.active or not sku.product.on_sale:
        raise BargainError(_("This item is no longer for sale."))
    try:
        return place(Placement(user_id=user_id, key=key, destination=address, kind="bargain",
                               channel=None, lines=[(sku, 1, bargain.price_minor)],
                               claims={"bargain": BargainClaim(bargain.id, bargain.price_minor)}))
    except orders.OrderError as exc:
        raise BargainError(str(exc)) from None


def _claim(order: Order, *, placement, **_kwargs) -> None:
    """Placed, a bargain's order (LOCK ORDER: group): the bargain moves from live to
    "ordered" by one guarded UPDATE, only if it is still its owner's, live, in its time
    and at the price the order was placed at (a friend's cut meanwhile: reload)."""
    claim = placement.claims.get("bargain")
    if claim is None:
        return
    bought = db.session.execute(
        update(Bargain).where(Bargain.id == claim.bargain_id, Bargain.user_id == order.user_id,
                              Bargain.status.in_(LIVE_STATUSES), Bargain.expires_at > utcnow(),
                              Bargain.price_minor == claim.price_minor)
        .values(status="ordered", order_id=order.id, version=Bargain.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if not bought:
        bargain = db.session.get(Bargain, claim.bargain_id, populate_existing=True)
        state = state_of(bargain)
        raise orders.OrderError(
            _("You have already bought this bargain.") if state == "ordered" else
            _("This bargain has expired.") if state == "expired" else
            _("The price has just changed; check it and buy again."))
    db.session.get(Bargain, claim.bargain_id, populate_existing=True)  # as it is now
    live.changed("bargain", claim.bargain_id)


def expired_bargain_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(
        select(Bargain.id).where(Bargain.status.in_(LIVE_STATUSES), Bargain.expires_at < now)
        .order_by(Bargain.id)))


def expire(bargain_id: int, now: datetime | None = None) -> bool:
    """End a live bargain past its time; False when nothing was due (already ended,
    bought meanwhile, or not yet due)."""
    bargain = _locked(bargain_id)
    if bargain is None or bargain.status not in LIVE_STATUSES or bargain.expires_at > (now or utcnow()):
        return False
    bargain.status = "expired"
    _changed(bargain)
    db.session.flush()
    return True


def _on_cancelled(order, **_kwargs) -> None:
    """A bargain's order cancelled unpaid: the bargain comes back as it was (complete if
    every helper cut, else active), or expired if its time ran out meanwhile or the
    shopper has started another on the same campaign since."""
    if order.kind != "bargain":
        return
    bargain = db.session.scalar(select(Bargain).where(Bargain.order_id == order.id)
                                .with_for_update().execution_options(populate_existing=True))
    if bargain is None or bargain.status != "ordered":
        return
    bargain.order_id = None
    if bargain.expires_at <= utcnow() or _live_of(bargain.user_id, bargain.campaign_id) is not None:
        bargain.status = "expired"
    else:
        bargain.status = "complete" if bargain.helps == bargain.helpers_needed else "active"
    _changed(bargain)
    db.session.flush()


lifecycle.join("bargain", placed=_claim, cancelled=_on_cancelled)


# --- pages ------------------------------------------------------------------------------


def progress_state(bargain_id: int) -> tuple[int, str, datetime, int] | None:
    """(version, status, expires_at, owner's user id): all the progress fragment reads
    before it knows whether anything changed (shop.live: from the cache, else one indexed
    query)."""
    def load():
        return db.session.execute(select(Bargain.version, Bargain.status, Bargain.expires_at,
                                         Bargain.user_id)
                                  .where(Bargain.id == bargain_id)).first()

    return live.version("bargain", bargain_id, load)


def _changed(bargain: Bargain) -> None:
    """Something shoppers see changed: a new version, and the cached one goes."""
    bargain.version += 1
    live.changed("bargain", bargain.id)


def bargain_page(bargain_id: int) -> Bargain | None:
    """A bargain with its campaign, product, SKU, images, cuts and helpers: three
    queries however many friends cut."""
    return db.session.scalar(
        select(Bargain).where(Bargain.id == bargain_id)
        .options(joinedload(Bargain.campaign).joinedload(BargainCampaign.product)
                 .selectinload(Product.images),
                 selectinload(Bargain.cuts)))


def owner_of(bargain: Bargain) -> User:
    return db.session.get(User, bargain.user_id)


def bargains_of(user_id: int, limit: int = 20) -> list[Bargain]:
    """The shopper's latest bargains with their campaigns and products."""
    return list(db.session.scalars(
        select(Bargain).where(Bargain.user_id == user_id)
        .order_by(Bargain.id.desc()).limit(limit)
        .options(joinedload(Bargain.campaign).joinedload(BargainCampaign.product)
                 .selectinload(Product.images))).unique())


def titles(bargain_ids: list[int]) -> dict[int, str]:
    """What each bargain page is called (its product's title), for share figures."""
    rows = db.session.execute(
        select(Bargain.id, Product).join(BargainCampaign, BargainCampaign.id == Bargain.campaign_id)
        .join(Product, Product.id == BargainCampaign.product_id)
        .where(Bargain.id.in_(bargain_ids))).all()
    return {bargain_id: product.tr("title") for bargain_id, product in rows}
