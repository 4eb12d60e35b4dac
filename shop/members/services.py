"""Member level rules. Services flush and raise MemberError; they never commit.

Growth (成长值)
- A paid order earns growth: 1 per full currency unit (yuan) of what was paid for the
  goods (Order.goods_paid_minor: the lines after discounts, points included, shipping
  aside), rounded down; once per order (ledger reference ("order", order id)).
  Points-mall redemptions (order.kind "redemption") earn none, like points and
  commissions.
- A refund takes growth back in proportion to what has been refunded of the goods
  (Order.goods_refunded_minor: each line's goods refunded, a line's goods before its
  share of shipping, as for points and commissions): the target taken back is
  earned x refunded // goods paid (refunding all the goods takes it all), and each
  refund writes the difference between that target and what
  earlier refunds of the order already took back (ref ("order_refund", "<order>-<key>")),
  the same cumulative idea as commissions' reverse(). Rounded down, so a partial refund
  never takes more than its share. Growth never goes below zero: a reversal larger than
  the growth there is (which the rules above never produce) takes what there is.
- Growth changes only through move(): shop.db.ledger_move, a guarded UPDATE of the
  cached `members.growth` and its GrowthEntry row, in one savepoint.

Levels (会员等级)
- Automatic: after every change of growth, the member's level is the highest level
  whose threshold is at most their growth, or none below the lowest threshold. That
  works both ways: a refund that takes growth back below a threshold moves the member
  down, as growth is what the level is built on. A shopper who has never earned growth
  has no member row yet and stands where 0 growth does (a level starting at 0, if any).
- Creating a level or changing a threshold moves every member to where their growth
  puts them now; deleting a level moves its members to the next level down (or none):
  deleting is allowed and re-levels, it is never refused.
- Benefits of a level: `discount_bp` off what is due for the goods (first step of the
  price pipeline, position 100, rounded down in the shop's favour; a signed-in shopper
  with a level only), free shipping (the pipeline's shipping step honours it), and the
  points multiplier the points domain reads through benefits().
- Below-cost guard (shop.referrals.margin, kind "member"): saving a level whose discount
  would sell a SKU on sale (active, its product on sale and not archived, with a cost)
  below its floor is refused on the discount field, saying how many SKUs and the one
  furthest below with the figures, unless the admin confirms it as a deliberate loss
  leader; then one LossLeader row per SKU below records who confirmed it. Each SKU is
  taken at its own price less the discount as checkout takes it off (discount_minor:
  rounded down, so the price paid is rounded up). Checked when the level is saved, as
  for the other kinds: a price, cost or product that changes later is checked the next
  time the level is saved. A level without a discount is not checked (it sells nothing
  below the SKU's own price).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from shop.catalog.models import Product, Sku
from shop.db import db, insert_missing, ledger_move
from shop.members.models import (MAX_DISCOUNT_BP, MAX_MULTIPLIER_BP, MAX_THRESHOLD,
                                 MIN_MULTIPLIER_BP, GrowthEntry, Member, MemberLevel)
from shop import pricing
from shop.money import exponent, format_minor, refunded_share
from shop.orders import lifecycle
from shop.orders.models import Order
from shop.referrals import margin

pricing.ADJUSTMENT_LABELS["member_discount"] = _l("Member discount")


class MemberError(ValueError):
    """A rule refused the change; `field` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- growth -----------------------------------------------------------------------------


def _ensure_member(user_id: int) -> None:
    """Create the member row if missing; racing creators do not fail (ON CONFLICT)."""
    insert_missing(Member, "user_id", user_id=user_id, growth=0, level_id=None)


def _best_level(growth, *, excluding: int | None = None):
    """The id of the highest level reached by `growth` (a value or a column), as a scalar
    subquery: NULL below the lowest threshold."""
    query = select(MemberLevel.id).where(MemberLevel.threshold <= growth)
    if excluding is not None:
        query = query.where(MemberLevel.id != excluding)
    return query.order_by(MemberLevel.threshold.desc()).limit(1).scalar_subquery()


def _relevel(*where) -> None:
    """Put the members matching `where` (all with no condition) on the level their growth
    reaches, in one UPDATE; rows already there are left alone."""
    best = _best_level(Member.growth)
    db.session.execute(update(Member).where(*where, Member.level_id.is_distinct_from(best))
                       .values(level_id=best).execution_options(synchronize_session=False))


LEVELS_LOCK = 0x4D454D42  # "MEMB": growth moves share it, level changes take it alone


def _lock_levels(*, alone: bool) -> None:
    """Growth moves (shared) and level changes (alone) queue up on one advisory lock on
    PostgreSQL, so an admin's change and a member's re-levelling never wait on each
    other's rows in opposite orders (a deadlock), a deleted level is never picked, and
    re-levelling everyone sees every member. SQLite serialises writers anyway."""
    if db.engine.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
        db.session.execute(text(f"SELECT {function}(:key)"), {"key": LEVELS_LOCK})


def move(user_id: int, amount: int, *, reason: str, ref_type: str, ref_id: str) -> int:
    """Add `amount` growth (negative to take back) with its ledger row, then move the
    member to the level the new growth reaches. Returns the growth."""
    if amount == 0:
        raise MemberError(_("The amount must not be zero."))
    _lock_levels(alone=False)
    _ensure_member(user_id)
    growth = ledger_move(
        Member.growth, [Member.user_id == user_id], amount,
        lambda after: GrowthEntry(user_id=user_id, amount=amount, growth_after=after,
                                  reason=reason, ref_type=ref_type, ref_id=ref_id),
        error=MemberError, refused=_("Growth can not go below zero."),
        duplicate=_("This growth change was already recorded."))
    _relevel(Member.user_id == user_id)
    return growth


def growth_for(amount_minor: int, currency: str) -> int:
    """1 growth per full currency unit: 129.90 yuan (12990 fen) -> 129."""
    return max(0, amount_minor) // 10 ** exponent(currency)


def growth_unit_minor() -> int:
    """What earns 1 growth, in minor units of the shop's currency (100 fen)."""
    return 10 ** exponent(current_app.config["SHOP_CURRENCY"])


def _earned(order: Order) -> int | None:
    return db.session.scalar(select(GrowthEntry.amount).where(
        GrowthEntry.user_id == order.user_id, GrowthEntry.ref_type == "order",
        GrowthEntry.ref_id == str(order.id)))


def earn(order: Order) -> int:
    """The order is paid: growth for what was paid for the goods, once per order.
    Points-mall redemptions earn none, as they earn no points nor commission."""
    if order.kind == "redemption":
        return 0
    growth = growth_for(order.goods_paid_minor, order.currency)
    if growth <= 0 or _earned(order) is not None:
        return 0
    move(order.user_id, growth, reason="order", ref_type="order", ref_id=str(order.id))
    return growth


def reverse(order: Order, *, key: str) -> int:
    """Take back the share of the order's growth that has been refunded of the goods
    (each line's goods refunded, goods before shipping; all of it once every line's goods
    are back), cumulative over the order's refunds. Returns what this refund took back."""
    earned, goods = _earned(order), order.goods_paid_minor
    if not earned or goods <= 0:
        return 0
    target = refunded_share(earned, order.goods_refunded_minor, goods)
    taken = -db.session.scalar(select(func.coalesce(func.sum(GrowthEntry.amount), 0)).where(
        GrowthEntry.user_id == order.user_id, GrowthEntry.ref_type == "order_refund",
        GrowthEntry.ref_id.startswith(f"{order.id}-", autoescape=True)))
    delta = target - taken
    if delta <= 0:
        return 0
    member = db.session.get(Member, order.user_id, with_for_update=True, populate_existing=True)
    delta = min(delta, member.growth)  # never below zero
    if delta <= 0:
        return 0
    move(order.user_id, -delta, reason="order_refund", ref_type="order_refund",
         ref_id=f"{order.id}-{key}")
    return delta


def growth(user_id: int) -> int:
    return db.session.scalar(select(Member.growth).where(Member.user_id == user_id)) or 0


def history(user_id: int, limit: int = 100) -> list[GrowthEntry]:
    return list(db.session.scalars(select(GrowthEntry).where(GrowthEntry.user_id == user_id)
                                   .order_by(GrowthEntry.id.desc()).limit(limit)))


lifecycle.join("growth", paid=lambda order, **_kwargs: earn(order),
               refunded=lambda order, *, key, **_kwargs: reverse(order, key=key))


# --- benefits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Benefits:
    """What a member's level gives; the defaults are a shopper without one."""

    level: MemberLevel | None = None
    discount_bp: int = 0
    points_multiplier_bp: int = MIN_MULTIPLIER_BP  # 10 000 = x1
    free_shipping: bool = False


NO_BENEFITS = Benefits()


def starting_level_id():
    """The level a shopper who has never earned growth is on (the one 0 reaches, if a
    level starts at 0), as a scalar subquery: lists join it as level_of() reads it."""
    return _best_level(0)


def level_of(user_id: int | None) -> MemberLevel | None:
    """The user's level (one query): the member row's, or for a shopper who has never
    earned growth (no row yet) the level 0 growth reaches, if one starts at 0."""
    if user_id is None:
        return None
    cached = select(Member.level_id).where(Member.user_id == user_id).scalar_subquery()
    return db.session.scalar(select(MemberLevel).where(
        MemberLevel.id == func.coalesce(cached, _best_level(0))))


def benefits(user_id: int | None) -> Benefits:
    """The benefits of the user's level now (one query); the defaults for a visitor or a
    shopper without a level. The points domain reads points_multiplier_bp here."""
    return _benefits_of(level_of(user_id))


def _benefits_of(level: MemberLevel | None) -> Benefits:
    if level is None:
        return NO_BENEFITS
    return Benefits(level=level, discount_bp=level.discount_bp,
                    points_multiplier_bp=level.points_multiplier_bp,
                    free_shipping=level.free_shipping)


def benefits_before(order: Order) -> Benefits:
    """The benefits of the level the buyer had before this order's own growth counted,
    whichever of the "paid" participants runs first (the points multiplier of a paid
    order: the order that lifts a member to a level is earned at the level it came from)."""
    own = db.session.scalar(select(GrowthEntry.amount).where(
        GrowthEntry.user_id == order.user_id, GrowthEntry.ref_type == "order",
        GrowthEntry.ref_id == str(order.id))) or 0
    return _benefits_of(db.session.scalar(select(MemberLevel).where(
        MemberLevel.id == _best_level(growth(order.user_id) - own))))


def discount_minor(amount_minor: int, discount_bp: int) -> int:
    """A level's discount on an amount: rounded down, in the shop's favour."""
    return max(0, amount_minor) * discount_bp // 10_000


def member_discount(priced: pricing.Pricing, user_id: int | None) -> pricing.Adjustment | None:
    """Price step 100: the level's discount on what is due (the goods: it runs first),
    rounded down; and free shipping when the level grants it. At checkout only: a flash
    sale or a group buy has its own price."""
    if priced.channel != "cart":
        return None
    perks = benefits(user_id)
    if perks.free_shipping:
        priced.free_shipping = True
    amount = discount_minor(pricing.due_minor(priced), perks.discount_bp)
    return pricing.Adjustment("member_discount", -amount) if amount else None


pricing.register_adjuster(100, member_discount)


@dataclass(frozen=True)
class Standing:
    """Where a member stands, for the Me page: growth, level (None below the lowest),
    the next level (None at the top), the growth still needed for it, and the progress
    from the current level's threshold to the next one in basis points (10 000 at the
    top). `levels`: every level, lowest first."""

    growth: int
    level: MemberLevel | None
    next_level: MemberLevel | None
    needed: int
    progress_bp: int
    levels: tuple[MemberLevel, ...]


def standing(user_id: int) -> Standing:
    """Two queries: the member row and the levels (a handful of rows)."""
    row = db.session.execute(select(Member.growth, Member.level_id)
                             .where(Member.user_id == user_id)).one_or_none()
    ladder = tuple(levels())
    if row is None:  # never earned growth: where 0 growth stands
        points, level = 0, next((item for item in ladder if item.threshold == 0), None)
    else:
        points, level = row.growth, next((item for item in ladder if item.id == row.level_id), None)
    upcoming = next((item for item in ladder if item.threshold > points), None)
    if upcoming is None:
        return Standing(points, level, None, 0, 10_000, ladder)
    base = level.threshold if level is not None and level.threshold <= points else 0
    progress = (points - base) * 10_000 // (upcoming.threshold - base)
    return Standing(points, level, upcoming, upcoming.threshold - points, progress, ladder)


# --- backoffice -------------------------------------------------------------------------


def levels() -> list[MemberLevel]:
    return list(db.session.scalars(select(MemberLevel).order_by(MemberLevel.threshold)))


def level_sizes() -> dict[int, int]:
    """How many members each level has now, in one query."""
    return dict(db.session.execute(select(Member.level_id, func.count())
                                   .where(Member.level_id.is_not(None))
                                   .group_by(Member.level_id)).all())


def _priced_at(discount_bp: int) -> list[margin.Priced]:
    """Every SKU on sale with a cost (its own, else its product's), at its price less the
    level's discount as checkout takes it off; one query (the products eager-loaded).
    None without a discount."""
    if discount_bp <= 0:
        return []
    skus = db.session.scalars(
        select(Sku).join(Sku.product).options(contains_eager(Sku.product))
        .where(Sku.active.is_(True), Product.status == "on_sale", Product.archived_at.is_(None),
               func.coalesce(Sku.cost_price_minor, Product.cost_price_minor) > 0).order_by(Sku.id))
    return [margin.Priced(sku, sku.price_minor - discount_minor(sku.price_minor, discount_bp),
                          _("%(product)s (%(sku)s, list price %(price)s)",
                            product=sku.product.tr("title"), sku=margin.label_of(sku),
                            price=format_minor(sku.price_minor, sku.product.currency)))
            for sku in skus]


def save_level(level_id: int | None, *, name: str, threshold: int, discount_bp: int,
               points_multiplier_bp: int, free_shipping: bool, actor_id: int | None = None,
               loss_leader: bool = False) -> MemberLevel:
    """Create (level_id None) or change a level. Names and thresholds are unique; out of
    range values are refused (MemberError names the field). A discount that sells SKUs
    on sale below their floor is refused (margin.BelowFloor on "discount_bp") unless
    confirmed as a loss leader by `actor_id` (`loss_leader`); then recorded, one row per
    SKU below. When a threshold changes, or a level is added, every member is moved to
    where their growth puts them now."""
    _lock_levels(alone=True)
    level = MemberLevel() if level_id is None else db.session.get(
        MemberLevel, level_id, populate_existing=True)  # deleted meanwhile: None
    if level is None:
        raise MemberError(_("There is no such level."))
    name = (name or "").strip()
    if not name or len(name) > 32:
        raise MemberError(_("Give the level a name of at most 32 characters."), "name")
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise MemberError(_("The growth needed must be from 0 to %(max)d.", max=MAX_THRESHOLD),
                          "threshold")
    if not 0 <= discount_bp <= MAX_DISCOUNT_BP:
        raise MemberError(_("The discount must be from 0 to %(max)d basis points.",
                            max=MAX_DISCOUNT_BP), "discount_bp")
    if not MIN_MULTIPLIER_BP <= points_multiplier_bp <= MAX_MULTIPLIER_BP:
        raise MemberError(_("The points multiplier must be from %(min)d to %(max)d basis points.",
                            min=MIN_MULTIPLIER_BP, max=MAX_MULTIPLIER_BP), "points_multiplier_bp")
    others = select(MemberLevel.id).where(MemberLevel.id != (level_id or 0))
    if db.session.scalar(others.where(MemberLevel.name == name)):
        raise MemberError(_("Another level has this name."), "name")
    if db.session.scalar(others.where(MemberLevel.threshold == threshold)):
        raise MemberError(_("Another level starts at this growth."), "threshold")
    below = margin.check("member", level_id, _priced_at(discount_bp), field="discount_bp",
                         confirmed=loss_leader, summary=True)
    moved = level_id is None or level.threshold != threshold
    try:
        with db.session.begin_nested():
            level.name, level.threshold, level.discount_bp = name, threshold, discount_bp
            level.points_multiplier_bp, level.free_shipping = points_multiplier_bp, free_shipping
            db.session.add(level)
            db.session.flush()
    except IntegrityError:  # the same name or threshold saved meanwhile by another admin
        raise MemberError(_("Another level has this name or starts at this growth.")) from None
    margin.record("member", level.id, below, actor_id=actor_id)
    if moved:
        _relevel()
    return level


def delete_level(level_id: int) -> None:
    """Remove a level; its members move to the next level down their growth reaches (or
    to none), in the same transaction; its loss-leader records go with it."""
    _lock_levels(alone=True)
    level = db.session.get(MemberLevel, level_id)
    if level is None:
        raise MemberError(_("There is no such level."))
    db.session.execute(update(Member).where(Member.level_id == level_id)
                       .values(level_id=_best_level(Member.growth, excluding=level_id))
                       .execution_options(synchronize_session=False))
    db.session.delete(level)
    margin.forget("member", [level_id])
    db.session.flush()
