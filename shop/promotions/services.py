"""Promotion rules. Services flush and raise PromotionError; they never commit.

The price pipeline (shop.pricing), in order, on a cart at checkout:
   50  limited-time price   each line at its product's (or SKU's) price for the window;
                            the lowest when several apply
   60  buy N get M          on one SKU: for every N + M units, M free (the best offer)
  100  member discount      (shop.members)
  200  full reduction       满减: the one promotion that takes the most off the goods in
                            its scope (ties: the older one); its tier may add free
                            shipping and a gift (one unit, at 0, while in stock)
  300  coupon               the shopper's choice, or by default the coupon that takes the
                            most off (ties: the one expiring first)
  900  shipping             (shop.pricing; a tier's free shipping honoured)
  950  points               (shop.points)
Each discount is on what is still due after the steps before it (a coupon's minimum
spend counts the goods in its scope after the full reduction), rounded down, never
more than what is due on its lines, and split over those lines so later steps see it.

Stacking (叠加), explicit and set per promotion:
- A flash sale (channel "flash") has its own price: no limited-time price, buy-N-get-M,
  member discount or points. A full reduction or a coupon follows it only if its
  session allows it (`with_full_reduction`, `with_coupons`; both off by default).
  Shipping is charged as at checkout.
- A group buy (channel "group") has its group price and ships free: a full reduction
  applies if it allows group buys (`group_buys`, on by default, as the seeds suggest);
  a coupon only if it is made for group buys (`group_buys`, off by default).
- Bargains and points-mall redemptions have their price and nothing else.
- A coupon does not follow a full reduction that says so (`with_coupons` off); lines at
  a limited-time price that says so (`with_coupons` off) are outside every coupon's
  scope.
- The margin guard of distribution (shop.referrals) counts what is paid after all of
  these: discounts and commissions together never take an order below the margin floor
  through commissions; the discounts themselves are the admin's choice, and the
  backoffice shows each promotion's figures.

Coupons
- Claimed in the claim centre (up to `per_user_limit` per shopper: claims are numbered
  and (coupon, shopper, number) is unique, so racing claims can not pass the limit),
  granted at registration (`newcomer`), or granted by an admin to chosen customers
  (not bound by the per-user limit). Every hand-out takes one of `remaining` when the
  quantity is limited: a guarded UPDATE with its CouponEntry row (shop.db.ledger_move).
- Used when its order is placed: a guarded UPDATE from available to used, so a coupon
  in two checkouts at once is used by one; the other is refused and places nothing.
- Given back (to the same shopper, with its original validity) when its order is
  cancelled or refunded in full, if the coupon says so (`returns`, on by default).

Flash sales
- An item's flash stock is set aside from the SKU's stock (a stock movement and a
  FlashStockEntry) and sold only from the item's `stock_left` by a guarded UPDATE, so
  a burst sells exactly what was set aside; the SKU's own stock is not touched by a
  purchase. A shopper's units (unpaid or paid) are counted in FlashBuyer by a guarded
  UPDATE against the per-user limit.
- An unpaid flash order is held FLASH_HOLD_MINUTES; cancelled, its units go back to the
  item (or to the SKU once the session has ended and been released). Refunded in full
  with the goods back in stock, they go to the SKU.
- When a session ends the sweeper releases what is left to the SKUs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from shop.signals import user_registered
from shop.catalog.models import Category, Product, Sku
from shop.catalog.services import CatalogError, move_stock
from shop.db import db, insert_missing, ledger_move, utcnow
from shop.money import format_minor
from shop import pricing
from shop.orders import lifecycle
from shop.orders import services as orders
from shop.orders.models import Address, Order
from shop.orders.placement import Placement, place
from shop.promotions import rules
from shop.promotions.models import (Coupon, CouponEntry, FlashBuyer, FlashItem, FlashOrder,
                                    FlashSession, FlashStockEntry, Promotion, TimedPrice,
                                    UserCoupon)

pricing.ADJUSTMENT_LABELS.update({
    "timed_price": _l("Limited-time price"), "buy_get": _l("Buy more, get free"),
    "full_reduction": _l("Full reduction"), "coupon": _l("Coupon"),
})


class PromotionError(ValueError):
    pass


# --- the lines as promotions see them ---------------------------------------------------


def _sku_facts(priced: pricing.Pricing) -> dict[int, tuple[int, frozenset[int]]]:
    """sku id -> (product id, its category and that category's parent), loaded once."""
    facts = priced.context.get("sku_facts")
    if facts is None:
        ids = {line.sku_id for line in priced.lines}
        rows = db.session.execute(
            select(Sku.id, Product.id, Product.category_id, Category.parent_id)
            .join(Product, Product.id == Sku.product_id)
            .join(Category, Category.id == Product.category_id)
            .where(Sku.id.in_(ids))).all() if ids else []
        facts = {sku_id: (product_id, frozenset(c for c in (category_id, parent_id) if c))
                 for sku_id, product_id, category_id, parent_id in rows}
        priced.context["sku_facts"] = facts
    return facts


def _lines(priced: pricing.Pricing) -> list[rules.Line]:
    facts = _sku_facts(priced)
    return [rules.Line(l.sku_id, *facts.get(l.sku_id, (0, frozenset())), l.quantity,
                       l.unit_price_minor, l.due_minor) for l in priced.lines]


def _live(model, now: datetime):
    return [model.active.is_(True), model.starts_at <= now, model.ends_at > now]


# --- price steps ------------------------------------------------------------------------


def _best_timed(offers, product_id: int, sku_id: int, unit_minor: int) -> tuple[TimedPrice | None, int]:
    """The offer (of those given, in id order) that prices one unit of a SKU lowest, below
    its usual unit, and that unit: (None, unit_minor) when none does; the first on a tie."""
    best, best_unit = None, unit_minor
    for offer in offers:
        if offer.product_id == product_id and offer.sku_id in (None, sku_id):
            unit = rules.timed_unit(offer.kind, offer.price_minor, offer.percent_bp, unit_minor)
            if unit < best_unit:
                best, best_unit = offer, unit
    return best, best_unit


def timed_prices(priced: pricing.Pricing, user_id: int | None) -> list[pricing.Adjustment]:
    """Step 50: each line at its limited-time price, one adjustment per price used."""
    if priced.channel != "cart" or not priced.lines:
        return []
    lines = _lines(priced)
    offers = db.session.scalars(select(TimedPrice).where(
        *_live(TimedPrice, utcnow()), TimedPrice.product_id.in_({l.product_id for l in lines}))
        .order_by(TimedPrice.id)).all()
    used: dict[int, list[int]] = {}
    by_id = {offer.id: offer for offer in offers}
    timed = priced.context.setdefault("timed_lines", {})
    for index, line in enumerate(lines):
        best, best_unit = _best_timed(offers, line.product_id, line.sku_id, line.unit_minor)
        if best is not None:
            used.setdefault(best.id, [0] * len(lines))[index] = \
                (line.unit_minor - best_unit) * line.quantity
            timed[index] = best
    return [pricing.Adjustment("timed_price", -sum(parts), detail=by_id[offer_id].name,
                               ref_id=offer_id, per_line=parts)
            for offer_id, parts in used.items()]


def buy_get(priced: pricing.Pricing, user_id: int | None) -> list[pricing.Adjustment]:
    """Step 60: buy N get M on a SKU, the best offer for each line."""
    if priced.channel != "cart" or not priced.lines:
        return []
    lines = _lines(priced)
    offers = db.session.scalars(select(Promotion).where(
        *_live(Promotion, utcnow()), Promotion.kind == "buy_get",
        Promotion.sku_id.in_({l.sku_id for l in lines})).order_by(Promotion.id)).all()
    made = {}
    for index, line in enumerate(lines):
        best = max(((rules.buy_get_discount(line, o.buy_n, o.get_m), -o.id, o)
                    for o in offers if o.sku_id == line.sku_id), default=None,
                   key=lambda item: item[:2])
        if best is not None and best[0] > 0:
            offer = best[2]
            if offer.id not in made:
                made[offer.id] = pricing.Adjustment("buy_get", 0, detail=offer.name,
                                                    ref_id=offer.id, per_line=[0] * len(lines))
            made[offer.id].per_line[index] = best[0]
            made[offer.id].amount_minor -= best[0]
    return list(made.values())


def _channel_allows(priced: pricing.Pricing, promotion_flag: bool, session_flag: str) -> bool:
    if priced.channel == "cart":
        return True
    if priced.channel == "group":
        return promotion_flag
    if priced.channel == "flash":
        session = priced.context.get("flash_session")
        return bool(session is not None and getattr(session, session_flag))
    return False


def full_reduction(priced: pricing.Pricing, user_id: int | None) -> pricing.Adjustment | None:
    """Step 200: the full reduction that takes the most off; its free shipping and gift."""
    if not priced.lines or priced.channel not in ("cart", "group", "flash"):
        return None
    lines, best = _lines(priced), None
    candidates = db.session.scalars(select(Promotion).where(
        *_live(Promotion, utcnow()), Promotion.kind == "full_reduction",
        Promotion.currency == priced.currency).order_by(Promotion.id)).all()
    for promotion in candidates:
        if not _channel_allows(priced, promotion.group_buys, "with_full_reduction"):
            continue
        chosen = [rules.in_scope(promotion.scope, promotion.scope_ids, l) for l in lines]
        eligible = [l for l, pick in zip(lines, chosen) if pick]
        tier = rules.reached_tier([_tier(t) for t in promotion.tiers], promotion.basis, eligible)
        if tier is None:
            continue
        off = rules.tier_discount(tier, eligible)
        rank = (off, tier.free_shipping, tier.gift_sku_id is not None)
        if best is None or rank > best[0]:
            best = (rank, promotion, tier, off, chosen)
    if best is None:
        return None
    _rank, promotion, tier, off, chosen = best
    priced.context["full_reduction"] = promotion
    if tier.free_shipping:
        priced.free_shipping = True
    if tier.gift_sku_id is not None:
        _add_gift(priced, tier.gift_sku_id)
    return pricing.Adjustment("full_reduction", -off, detail=promotion.name, ref_id=promotion.id,
                              per_line=rules.split(off, lines, chosen))


def _tier(row) -> rules.Tier:
    return rules.Tier(row.threshold, row.off_minor, row.off_bp, row.free_shipping, row.gift_sku_id)


def _add_gift(priced: pricing.Pricing, sku_id: int) -> None:
    """One unit of the gift, while the SKU is on sale with a unit beyond those bought."""
    sku = db.session.get(Sku, sku_id)
    bought = sum(l.quantity for l in priced.lines if l.sku_id == sku_id)
    if sku is not None and sku.active and sku.product.on_sale and sku.stock > bought:
        priced.gifts.append(pricing.PricedLine(sku_id, 1, 0))
        priced.offers["gift"] = sku


@dataclass
class CouponOffer:
    """A coupon of the shopper's as checkout shows it: what it would take off here, or
    why it does not apply."""

    held: UserCoupon
    discount_minor: int = 0
    reason: str = ""
    per_line: list[int] | None = None

    @property
    def usable(self) -> bool:
        return self.discount_minor > 0


def usable_coupons(user_id: int, now: datetime | None = None) -> list[UserCoupon]:
    now = now or utcnow()
    return list(db.session.scalars(select(UserCoupon).join(Coupon).where(
        UserCoupon.user_id == user_id, UserCoupon.status == "available",
        UserCoupon.starts_at <= now, UserCoupon.expires_at > now, Coupon.active.is_(True))
        .order_by(UserCoupon.expires_at, UserCoupon.id)))


def evaluate(held: UserCoupon, priced: pricing.Pricing, now: datetime) -> CouponOffer:
    """What the coupon would take off this price now, or why it can not be used."""
    coupon, offer = held.coupon, CouponOffer(held)
    lines = _lines(priced)
    full = priced.context.get("full_reduction")
    timed = priced.context.get("timed_lines", {})
    if held.status != "available":
        offer.reason = _("This coupon has been used.")
    elif not coupon.active or held.expires_at <= now:
        offer.reason = _("This coupon has expired.")
    elif held.starts_at > now:
        offer.reason = _("This coupon can be used from %(when)s.", when=held.starts_at.date())
    elif coupon.currency != priced.currency:
        offer.reason = _("This coupon is for another currency.")
    elif not _channel_allows(priced, coupon.group_buys, "with_coupons"):
        offer.reason = _("Coupons can not be used on this purchase.")
    elif full is not None and not full.with_coupons:
        offer.reason = _("Not with the full reduction %(name)s.", name=full.name)
    if offer.reason:
        return offer
    chosen = [rules.in_scope(coupon.scope, coupon.scope_ids, l)
              and (i not in timed or timed[i].with_coupons) for i, l in enumerate(lines)]
    eligible = [l for l, pick in zip(lines, chosen) if pick]
    due = sum(l.due_minor for l in eligible)
    if not eligible:
        offer.reason = _("This coupon does not apply to these items.")
    elif due < coupon.min_spend_minor:
        offer.reason = _("Spend %(amount)s more on the items it applies to.",
                         amount=format_minor(coupon.min_spend_minor - due, coupon.currency))
    else:
        offer.discount_minor = rules.coupon_discount(coupon.kind, coupon.amount_minor,
                                                     coupon.percent_bp, coupon.cap_minor, eligible)
        offer.per_line = rules.split(offer.discount_minor, lines, chosen)
        if not offer.discount_minor:
            offer.reason = _("This coupon takes nothing off these items.")
    return offer


def coupon_step(priced: pricing.Pricing, user_id: int | None) -> pricing.Adjustment | None:
    """Step 300: the chosen coupon (options["coupon"]: an id, "none", or empty for the
    best one), with every coupon of the shopper's offered for checkout to show."""
    if user_id is None or not priced.lines:
        return None
    now, choice = utcnow(), str(priced.options.get("coupon") or "")
    offers = sorted((evaluate(held, priced, now) for held in usable_coupons(user_id, now)),
                    key=lambda o: (-o.discount_minor, o.held.expires_at, o.held.id))
    priced.offers["coupons"] = offers
    picked = None
    if choice == "none":
        pass
    elif choice.isdigit():
        held = db.session.get(UserCoupon, int(choice)) if int(choice) < 2**31 else None
        if held is None or held.user_id != user_id:
            priced.refused.append(_("That coupon is not yours."))
        else:
            picked = next((o for o in offers if o.held.id == held.id), None) \
                or evaluate(held, priced, now)
            if not picked.usable:
                priced.refused.append(picked.reason)
                picked = None
    elif offers and offers[0].usable:
        picked = offers[0]
    priced.offers["coupon_chosen"] = picked.held.id if picked else None
    if picked is None:
        return None
    return pricing.Adjustment("coupon", -picked.discount_minor, spends={"coupon": picked.held.id},
                              detail=picked.held.coupon.name, ref_id=picked.held.coupon_id,
                              per_line=picked.per_line)


pricing.register_adjuster(50, timed_prices)
pricing.register_adjuster(60, buy_get)
pricing.register_adjuster(200, full_reduction)
pricing.register_adjuster(300, coupon_step)


# --- coupons: handing out, using, giving back -------------------------------------------


def claimable_coupons(now: datetime | None = None) -> list[Coupon]:
    """The claim centre: coupons on offer that can still be claimed and used."""
    now = now or utcnow()
    return list(db.session.scalars(select(Coupon).where(
        Coupon.active.is_(True), Coupon.claimable.is_(True),
        or_(Coupon.valid_until.is_(None), Coupon.valid_until > now))
        .order_by(Coupon.id.desc()).limit(100)))


def claims_of(user_id: int, coupon_ids) -> dict[int, int]:
    """How many of each coupon the shopper has claimed."""
    if not coupon_ids:
        return {}
    return dict(db.session.execute(select(UserCoupon.coupon_id, func.count()).where(
        UserCoupon.user_id == user_id, UserCoupon.coupon_id.in_(coupon_ids))
        .group_by(UserCoupon.coupon_id)).all())


def claim(user_id: int, coupon_id: int, *, source: str = "claim",
          actor_id: int | None = None) -> UserCoupon:
    """Hand the shopper one coupon: from the claim centre (within the per-user limit),
    at registration, or from an admin. Raises PromotionError and changes nothing when it
    can not be had."""
    now = utcnow()
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or not coupon.active or (source == "claim" and not coupon.claimable):
        raise PromotionError(_("This coupon is not on offer."))
    if coupon.valid_until is not None and coupon.valid_until <= now:
        raise PromotionError(_("This coupon has expired."))
    starts = coupon.valid_from if coupon.valid_until is not None else max(now, coupon.valid_from)
    expires = coupon.valid_until or starts + timedelta(days=coupon.valid_days)
    first = number = claims_of(user_id, [coupon.id]).get(coupon.id, 0) + 1
    while True:  # the shopper's next claim number; a racing claim of theirs took it: the next
        if number > first + 100:  # not a race: something else is refused
            raise PromotionError(_("You have just claimed this coupon."))
        if source == "claim" and number > coupon.per_user_limit:
            raise PromotionError(_("You have already claimed this coupon.")
                                 if coupon.per_user_limit == 1 else
                                 _("You can claim at most %(n)d of this coupon.",
                                   n=coupon.per_user_limit))
        try:
            held = _hand_out(coupon, user_id, number, source, starts, expires, actor_id)
            break
        except IntegrityError:
            number += 1
    db.session.refresh(coupon, ["remaining"])
    return held


def _hand_out(coupon: Coupon, user_id: int, number: int, source: str, starts: datetime,
              expires: datetime, actor_id: int | None) -> UserCoupon:
    """In one savepoint: the coupon's row locked first (every hand-out queues on it, so a
    grant, an admin's change of the quantity and a claim never wait on each other in
    opposite orders), the numbered claim (unique per shopper and coupon: IntegrityError
    when a claim of theirs took the number), then one of `remaining` by the ledger."""
    with db.session.begin_nested():
        db.session.execute(select(Coupon.id).where(Coupon.id == coupon.id).with_for_update())
        held = UserCoupon(coupon_id=coupon.id, user_id=user_id, claim_no=number, source=source,
                          starts_at=starts, expires_at=expires)
        db.session.add(held)
        db.session.flush()

        def entry(after, delta=-1):
            return CouponEntry(coupon_id=coupon.id, user_coupon_id=held.id, action="claim",
                               delta=delta, remaining_after=after, ref_type="user_coupon",
                               ref_id=str(held.id), actor_id=actor_id)

        if coupon.remaining is not None:
            ledger_move(Coupon.remaining, [Coupon.id == coupon.id], -1, entry,
                        error=PromotionError, refused=_("All of this coupon have been claimed."),
                        duplicate=_("You have just claimed this coupon."))
        else:
            db.session.add(entry(None, 0))
            db.session.flush()
    return held


def grant(coupon_id: int, user_ids: list[int], *, actor_id: int) -> int:
    """An admin gives the coupon to each of these customers (all or, when there are not
    enough left, none: the caller's transaction is undone). Returns how many."""
    for user_id in sorted(set(user_ids)):
        claim(user_id, coupon_id, source="grant", actor_id=actor_id)
    return len(set(user_ids))


@user_registered.connect
def _welcome(user, **extra) -> None:
    """Newcomer coupons for a new account; one that has run out is simply not given."""
    for coupon_id in db.session.scalars(select(Coupon.id).where(
            Coupon.active.is_(True), Coupon.newcomer.is_(True)).order_by(Coupon.id)):
        try:
            claim(user.id, coupon_id, source="newcomer")
        except PromotionError:
            continue


def use(held_id: int, order: Order, discount_minor: int) -> None:
    """The coupon is used on the order: available -> used, by one guarded UPDATE."""
    now = utcnow()
    moved = db.session.execute(
        update(UserCoupon).where(UserCoupon.id == held_id, UserCoupon.user_id == order.user_id,
                                 UserCoupon.status == "available", UserCoupon.expires_at > now)
        .values(status="used", order_id=order.id, discount_minor=discount_minor)
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise orders.OrderError(_("This coupon has just been used or has expired; "
                                  "check the price and place the order again."))
    held = db.session.get(UserCoupon, held_id, populate_existing=True)
    db.session.add(CouponEntry(coupon_id=held.coupon_id, user_coupon_id=held_id, action="use",
                               delta=0, ref_type="order", ref_id=str(order.id)))
    db.session.flush()


def give_back(order: Order, **_kwargs) -> None:
    """The order's coupon is the shopper's again (if its coupon returns), once."""
    held = db.session.scalar(select(UserCoupon).where(UserCoupon.order_id == order.id))
    if held is None or not held.coupon.returns:
        return
    moved = db.session.execute(
        update(UserCoupon).where(UserCoupon.id == held.id, UserCoupon.order_id == order.id,
                                 UserCoupon.status == "used")
        .values(status="available", order_id=None, discount_minor=0)
        .execution_options(synchronize_session=False)).rowcount
    if moved:
        db.session.add(CouponEntry(coupon_id=held.coupon_id, user_coupon_id=held.id,
                                   action="return", delta=0, ref_type="order", ref_id=str(order.id)))
        db.session.flush()


def coupons_of(user_id: int) -> list[UserCoupon]:
    return list(db.session.scalars(select(UserCoupon).where(UserCoupon.user_id == user_id)
                                   .order_by(UserCoupon.status, UserCoupon.expires_at.desc(),
                                             UserCoupon.id.desc()).limit(200)))


# --- flash sales ------------------------------------------------------------------------


def flash_sessions(now: datetime | None = None, limit: int = 6) -> list[FlashSession]:
    """Sessions on now and to come, soonest first."""
    now = now or utcnow()
    return list(db.session.scalars(select(FlashSession).where(
        FlashSession.active.is_(True), FlashSession.ends_at > now)
        .order_by(FlashSession.starts_at, FlashSession.id).limit(limit)))


def flash_item(item_id: int) -> FlashItem | None:
    item = db.session.get(FlashItem, item_id)
    return item if item is not None and item.session.active else None


def flash_for_product(product_id: int, now: datetime | None = None) -> FlashItem | None:
    """The product's flash item on now, else the next one to come."""
    now = now or utcnow()
    return db.session.scalar(select(FlashItem).join(FlashSession).join(Sku).where(
        Sku.product_id == product_id, FlashSession.active.is_(True), FlashSession.ends_at > now,
        FlashItem.released.is_(False)).order_by(FlashSession.starts_at, FlashItem.id).limit(1))


@dataclass(frozen=True)
class TimedOffer:
    """What the product page says of its limited-time price: the offer of the headline
    unit, that unit, whether other options in stock have other timed prices ("from"), and
    whether no option it applies to is in stock (sold out)."""

    offer: TimedPrice
    unit_minor: int
    varies: bool
    sold_out: bool


def timed_price_for(product: Product, now: datetime | None = None) -> TimedOffer | None:
    """The limited-time price the product page shows. Each active option takes the lowest
    of the offers on now (the first by id on a tie), as checkout prices it; the headline is
    the lowest timed unit of the options in stock, "from" only when those differ; when no
    option with a timed price is in stock, the lowest one, sold out. None without one."""
    now = now or utcnow()
    offers = db.session.scalars(select(TimedPrice).where(
        *_live(TimedPrice, now), TimedPrice.product_id == product.id).order_by(TimedPrice.id)).all()
    priced = []  # (unit, in stock, offer) per option with a timed price
    for sku in (s for s in product.skus if s.active):
        best, best_unit = _best_timed(offers, product.id, sku.id, sku.price_minor)
        if best is not None:
            priced.append((best_unit, sku.stock > 0, best))
    if not priced:
        return None
    left = [row for row in priced if row[1]] or priced
    unit, in_stock, offer = min(left, key=lambda row: (row[0], row[2].id))
    return TimedOffer(offer, unit, varies=len({row[0] for row in left}) > 1 and in_stock,
                      sold_out=not in_stock)


def full_reductions_for(product: Product, now: datetime | None = None) -> list[Promotion]:
    """The full reductions on now whose scope takes the product, for its page."""
    now = now or utcnow()
    line = rules.Line(0, product.id, frozenset(c for c in (product.category_id,
                                                           product.category.parent_id) if c),
                      1, 0, 0)
    return [p for p in db.session.scalars(select(Promotion).where(
        *_live(Promotion, now), Promotion.kind == "full_reduction").order_by(Promotion.id))
        if rules.in_scope(p.scope, p.scope_ids, line)]


def _move_flash(item_id: int, delta: int, *, reason: str, ref_type: str, ref_id: str,
                actor_id: int | None = None) -> int:
    return ledger_move(
        FlashItem.stock_left, [FlashItem.id == item_id], delta,
        lambda after: FlashStockEntry(item_id=item_id, delta=delta, stock_after=after,
                                      reason=reason, ref_type=ref_type, ref_id=ref_id,
                                      actor_id=actor_id),
        error=PromotionError, refused=_("Sold out."),
        duplicate=_("This flash stock change was already recorded."))


def set_aside(item: FlashItem, allotted: int, *, actor_id: int) -> None:
    """Make the item's flash stock `allotted`: more is taken off the SKU's stock, less
    goes back to it (only what is not sold). Under the item's row lock."""
    item = _locked_item(item.id)
    if item.released:
        raise PromotionError(_("This session has ended; its stock went back."))
    delta, ref = allotted - item.allotted, uuid.uuid4().hex
    if delta == 0:
        return
    if delta < 0 and item.stock_left < -delta:
        raise PromotionError(_("Only %(n)d are unsold; the flash stock can not go lower.",
                               n=item.stock_left))
    if delta > 0:  # the allotment grows before the stock in it (stock_left <= allotted)
        try:
            move_stock(item.sku_id, -delta, reason="flash_set_aside", ref_type="flash_item",
                       ref_id=ref, actor_id=actor_id)
        except CatalogError:
            raise PromotionError(_("The SKU has not that much stock.")) from None
        item.allotted = allotted
        db.session.flush()
        _move_flash(item.id, delta, reason="set_aside", ref_type="admin", ref_id=ref,
                    actor_id=actor_id)
    else:  # and shrinks after it
        _move_flash(item.id, delta, reason="put_back", ref_type="admin", ref_id=ref,
                    actor_id=actor_id)
        db.session.refresh(item, ["stock_left"])
        item.allotted = allotted
        db.session.flush()
        move_stock(item.sku_id, -delta, reason="flash_put_back", ref_type="flash_item",
                   ref_id=ref, actor_id=actor_id)
    db.session.refresh(item)


def _locked_item(item_id: int) -> FlashItem | None:
    """The item's row locked (PostgreSQL) and freshly read; only its own row (its session
    and SKU come by outer join, which FOR UPDATE may not lock)."""
    return db.session.get(FlashItem, item_id, with_for_update={"of": FlashItem},
                          populate_existing=True)


def flash_quote(user_id: int, item: FlashItem, quantity: int,
                province: str = "") -> pricing.Pricing:
    """What `quantity` of the item costs this shopper: the flash price, what the session
    lets stack (a full reduction, their best coupon), and shipping to `province`."""
    return pricing.price([(item.sku_id, quantity, item.price_minor)], user_id,
                         {"province": province}, channel="flash",
                         context={"flash_session": item.session})


def buy_flash(user_id: int, item_id: int, quantity: int, address: Address, key: str) -> Order:
    """A flash purchase: the shopper's allowance, the item's flash stock and the order,
    all or nothing (the flash participant takes them when the order is placed). Before
    the start, after the end, above the limit or sold out it raises PromotionError; a
    repeated form (the same key) returns its order."""
    if (order := orders.order_by_key(user_id, key)) is not None:
        return order
    item, now = flash_item(item_id), utcnow()
    if item is None:
        raise PromotionError(_("This flash sale is not on."))
    session = item.session
    if now < session.starts_at:
        raise PromotionError(_("This flash sale has not started yet."))
    if now >= session.ends_at or item.released:
        raise PromotionError(_("This flash sale has ended."))
    if not 1 <= quantity <= item.per_user_limit:
        raise PromotionError(_("You can buy at most %(n)d of this item.", n=item.per_user_limit))
    if item.stock_left < quantity:  # a cheap first look; the guarded UPDATE decides
        raise PromotionError(_("Sold out."))
    hold = timedelta(minutes=current_app.config["FLASH_HOLD_MINUTES"])
    try:
        return place(Placement(
            user_id=user_id, key=key, destination=address, kind="flash", channel="flash",
            lines=[(item.sku, quantity, item.price_minor)], context={"flash_session": session},
            claims={"flash": item}, pay_by=now + hold, take_stock=False))
    except orders.OrderError as exc:
        raise PromotionError(str(exc)) from None


def _take_flash(order: Order, *, placement, **_kwargs) -> None:
    """Placed, a flash order (LOCK ORDER, campaign): the shopper's allowance counted by a
    guarded UPDATE against the per-user limit, then the units from the item's flash
    stock by the ledger; the order's FlashOrder row says what to give back."""
    item = placement.claims.get("flash")
    if item is None:
        return
    quantity = sum(quantity for _sku, quantity, _unit in placement.lines)
    insert_missing(FlashBuyer, ("item_id", "user_id"), item_id=item.id, user_id=order.user_id,
                   quantity=0)
    allowed = db.session.execute(
        update(FlashBuyer).where(FlashBuyer.item_id == item.id,
                                 FlashBuyer.user_id == order.user_id,
                                 FlashBuyer.quantity + quantity <= item.per_user_limit)
        .values(quantity=FlashBuyer.quantity + quantity)
        .execution_options(synchronize_session=False)).rowcount
    if not allowed:
        raise orders.OrderError(_("You can buy at most %(n)d of this item.",
                                  n=item.per_user_limit))
    try:
        _move_flash(item.id, -quantity, reason="sold", ref_type="order_placed", ref_id=str(order.id))
    except PromotionError as exc:
        raise orders.OrderError(str(exc)) from None
    db.session.add(FlashOrder(order_id=order.id, item_id=item.id, user_id=order.user_id,
                              quantity=quantity))
    db.session.flush()


def _return_flash(order: Order, *, restock: bool) -> None:
    """A flash order's units come back once: to the item while its session is not
    released (a cancelled unpaid order), else to the SKU; the shopper's allowance too."""
    bought = db.session.get(FlashOrder, order.id, with_for_update={"of": FlashOrder},
                            populate_existing=True)
    if bought is None or bought.returned:
        return
    bought.returned = True
    db.session.execute(update(FlashBuyer).where(FlashBuyer.item_id == bought.item_id,
                                                FlashBuyer.user_id == bought.user_id)
                       .values(quantity=FlashBuyer.quantity - bought.quantity)
                       .execution_options(synchronize_session=False))
    item = _locked_item(bought.item_id)
    if not item.released and not restock:
        _move_flash(item.id, bought.quantity, reason="returned", ref_type="order",
                    ref_id=str(order.id))
    else:
        # its own reference: the order's other units (a gift) come back under the order's
        move_stock(item.sku_id, bought.quantity, reason="flash_returned",
                   ref_type="flash_refund" if restock else "flash_cancel", ref_id=str(order.id))
    db.session.flush()


def ended_item_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(select(FlashItem.id).join(FlashSession).where(
        FlashSession.ends_at <= now, FlashItem.released.is_(False)).order_by(FlashItem.id)))


def release(item_id: int) -> bool:
    """The session is over: what is left of the item's flash stock goes back to the SKU."""
    item = _locked_item(item_id)
    if item is None or item.released or item.session.ends_at > utcnow():
        return False
    left = item.stock_left
    item.released = True
    if left:
        _move_flash(item.id, -left, reason="released", ref_type="release", ref_id=str(item.id))
        db.session.flush()
        move_stock(item.sku_id, left, reason="flash_released", ref_type="flash_release",
                   ref_id=str(item.id))
    db.session.flush()
    return True


# --- the order lifecycle's participants (shop.orders.lifecycle) ------------------------


def _use_coupon(order: Order, *, placement, **_kwargs) -> None:
    for step in placement.priced.adjustments:
        if step.kind == "coupon":
            use(step.spends["coupon"], order, -step.amount_minor)


def _coupon_back_refunded(order: Order, *, refunded_minor: int, paid_minor: int,
                          **_kwargs) -> None:
    if refunded_minor >= paid_minor:
        give_back(order)


def _flash_back_cancelled(order: Order, **_kwargs) -> None:
    if order.kind == "flash":
        _return_flash(order, restock=False)


def _flash_back_refunded(order: Order, *, refunded_minor: int, paid_minor: int,
                         restock: bool = False, **_kwargs) -> None:
    if order.kind == "flash" and restock and refunded_minor >= paid_minor:
        _return_flash(order, restock=True)


lifecycle.join("coupons", placed=_use_coupon, cancelled=give_back, refunded=_coupon_back_refunded)
lifecycle.join("flash", placed=_take_flash, cancelled=_flash_back_cancelled,
               refunded=_flash_back_refunded)
