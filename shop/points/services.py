"""Points rules. Services flush and raise PointsError; they never commit.

The ledger
- move() is the one way a balance changes: the account row is locked (so one shopper's
  changes queue up), then shop.db.ledger_move adds the amount with its PointsEntry, whose
  (user, ref_type, ref_id) is unique: a retried earning, spending or reversal fails
  instead of counting twice. A debit is refused if the balance does not cover it; only
  taking back points a refunded order earned may leave a debt (a negative balance),
  which later earnings repay.
- Earned points come in lots (PointsLot) that expire by the admin's rule: never, at the
  end of the next calendar year in the shop's time zone, or N days after. A debit
  consumes lots with the earliest expiry first, so the lots' remaining points always add
  up to the balance (to nothing while in debt). The sweeper expires what is due.

Earning
- A paid order earns `earn_per_unit` points per currency unit paid for each line's goods
  (what the line paid after its discounts, a points deduction included, shipping aside:
  OrderLine.goods_minor; a product may have its own rate), rounded down per line (50.50
  at 2 a yuan: 101), times the multiplier of the member level the buyer had before this
  order's growth, rounded down; each line's part is kept (LinePoints). Points-mall
  orders earn none.
- A refund takes back, line by line, the share of each line's points that its goods
  were refunded (all of them once its goods are back), and returns the same share of
  the points the order used on that line; a cancelled unpaid order returns all it used.
- Daily sign-in: points for the day plus a bonus on set days of the streak; one per day
  in the shop's time zone, by a unique key.
- Tasks: newcomer tasks once, repeatable ones once per period; done by what the shopper
  does (signals), then claimed once.

Spending
- At checkout the shopper may use points: at most deduct_max_bp of the goods after
  discounts and deduct_cap_points per order, redeem_per_unit points a currency unit. The
  deduction is the last step of the price pipeline (after shipping: points pay for
  goods only, and free shipping is judged before them); the points are taken when the
  order is placed, in its transaction, or the order is refused.
- The points mall: an item for points, or points and cash, with its own stock and a
  per-user limit, becomes an order like any other (paid at once when it is points only).
"""

from __future__ import annotations

import calendar as calendars
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.catalog.models import Product, Sku
from shop import pricing
from shop.db import (day_start, db, insert_missing, ledger_move, local_day, save_settings_row,
                     settings_row, utcnow)
from shop.money import allocate, exponent, format_minor
from shop.orders import lifecycle
from shop.orders import services as orders
from shop.orders.models import Address, Order, OrderAdjustment, OrderLine, OrderLineAdjustment
from shop.orders.placement import Placement, place
from shop.points import TASKS
from shop.referrals import margin
from shop.points.models import (LinePoints, MallItem, MallStockEntry, PointsAccount, PointsEntry,
                                PointsLot, PointsLotTake, PointsRate, PointsSettings, Redemption,
                                Signin, SigninBonus, TaskCompletion, TaskRule)
from shop.signals import account_closing, link_opened, profile_updated

pricing.ADJUSTMENT_LABELS["points"] = _l("Points deduction")
MAX_POINTS = 10_000_000  # the most one entry moves; forms and services share it


class PointsError(ValueError):
    pass


# --- settings ---------------------------------------------------------------------------


def settings() -> PointsSettings:
    return settings_row(PointsSettings)


def save_settings(*, bonuses: dict[int, int] | None = None, **values) -> PointsSettings:
    """Change the rules, and with bonuses, replace the sign-in streak bonuses
    ({day: points})."""
    row = save_settings_row(PointsSettings, values, unknown=PointsError(_("Unknown setting.")))
    if bonuses is not None:
        if any(not 2 <= day <= 31 or not 0 < points <= MAX_POINTS for day, points in bonuses.items()):
            raise PointsError(_("A bonus is for a day from 2 to 31, and more than zero points."))
        db.session.execute(SigninBonus.__table__.delete())
        db.session.add_all(SigninBonus(day=day, points=points) for day, points in bonuses.items())
        db.session.flush()
    return row


def signin_bonuses() -> dict[int, int]:
    return dict(db.session.execute(select(SigninBonus.day, SigninBonus.points)
                                   .order_by(SigninBonus.day)).all())


def rates() -> list[PointsRate]:
    return list(db.session.scalars(select(PointsRate).order_by(PointsRate.product_id)))


def set_rate(product_id: int, earn_per_unit: int | None) -> None:
    """A product's own earning rate; None goes back to the shop's."""
    if db.session.get(Product, product_id) is None:
        raise PointsError(_("There is no such product."))
    row = db.session.get(PointsRate, product_id)
    if earn_per_unit is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(PointsRate(product_id=product_id, earn_per_unit=earn_per_unit))
    else:
        row.earn_per_unit = earn_per_unit
    db.session.flush()


def expiry_for(moment: datetime) -> datetime | None:
    """When points earned at `moment` expire, by the admin's rule."""
    rules = settings()
    if rules.expiry_rule == "never":
        return None
    if rules.expiry_rule == "days":
        return moment + timedelta(days=rules.expiry_days)
    year = local_day(moment).year
    return day_start(date(year + 2, 1, 1))  # end of next year


# --- the ledger -------------------------------------------------------------------------


def _locked_balance(user_id: int) -> int:
    """The account row, made if missing (racing makers do not fail) and locked for this
    transaction: every change of one shopper's points queues up behind it."""
    insert_missing(PointsAccount, "user_id", user_id=user_id, balance=0)
    return db.session.scalar(select(PointsAccount.balance).where(PointsAccount.user_id == user_id)
                             .with_for_update())


def balance(user_id: int) -> int:
    return db.session.scalar(select(PointsAccount.balance)
                             .where(PointsAccount.user_id == user_id)) or 0


def move(user_id: int, amount: int, *, reason: str, ref_type: str, ref_id: str,
         actor_id: int | None = None, note: str = "", debt: bool = False,
         first_lot_id: int | None = None,
         lots: list[tuple[int, datetime | None]] | None = None) -> int:
    """Add `amount` points (negative to take) with its ledger row and lots; returns the
    balance. debt=True lets a debit go below zero (a refund taking back spent points);
    first_lot_id: the lot a debit consumes before the oldest (an expiring or refunded one);
    lots: a credit's (points, expires_at) parts when not one lot by the rule (points given
    back keep their expiry), latest expiry first: a debt is repaid from the last parts."""
    if amount == 0 or abs(amount) > MAX_POINTS:
        raise PointsError(_("The number of points must not be zero or that large."))
    with db.session.begin_nested():
        before = _locked_balance(user_id)
        entries = []

        def entry(after: int) -> PointsEntry:
            row = PointsEntry(user_id=user_id, amount=amount, balance_after=after, reason=reason,
                              ref_type=ref_type, ref_id=ref_id, actor_id=actor_id, note=note)
            entries.append(row)
            return row

        after = ledger_move(PointsAccount.balance, [PointsAccount.user_id == user_id], amount,
                            entry, error=PointsError,
                            refused=_("You do not have enough points."),
                            duplicate=_("These points were already counted."),
                            may_go_negative=debt or amount > 0)  # a credit repays a debt
        change = max(after, 0) - max(before, 0)
        if change > 0:
            for points, expires_at in lots or [(change, expiry_for(utcnow()))]:
                points = min(points, change)
                if points > 0:
                    db.session.add(PointsLot(user_id=user_id, entry_id=entries[0].id,
                                             points=points, remaining=points,
                                             expires_at=expires_at))
                change -= points
        elif change < 0:
            _consume(entries[0], -change, first_lot_id)
        db.session.flush()
    return after


def _consume(entry: PointsEntry, points: int, first_lot_id: int | None) -> None:
    """Take `points` from the lots, soonest expiry first, and write down what was taken
    from which lot."""
    lots = db.session.scalars(
        select(PointsLot).where(PointsLot.user_id == entry.user_id, PointsLot.remaining > 0)
        .order_by(case((PointsLot.id == (first_lot_id or 0), 0), else_=1),
                  PointsLot.expires_at.is_(None), PointsLot.expires_at, PointsLot.id))
    for lot in lots:
        taken = min(points, lot.remaining)
        lot.remaining -= taken
        points -= taken
        db.session.add(PointsLotTake(entry_id=entry.id, lot_id=lot.id, points=taken))
        if points == 0:
            return
    raise AssertionError("the lots do not add up to the balance")  # the invariant broke


def _given_back(spend: PointsEntry, already: int, points: int) -> list[tuple[int, datetime | None]]:
    """The lots `points` given back for a debit come back as: what it took from each
    lot with that lot's expiry, the latest expiring first, after the `already` given
    back before. Points it took before lots were written down expire by the rule."""
    parts = []
    takes = db.session.execute(
        select(PointsLotTake.points, PointsLot.expires_at)
        .join(PointsLot, PointsLot.id == PointsLotTake.lot_id)
        .where(PointsLotTake.entry_id == spend.id)
        .order_by(PointsLot.expires_at.is_(None).desc(), PointsLot.expires_at.desc(),
                  PointsLot.id.desc())).all()
    for taken, expires_at in takes:
        skipped = min(taken, already)
        already -= skipped
        part = min(taken - skipped, points)
        if part > 0:
            parts.append((part, expires_at))
            points -= part
    if points > 0:
        parts.append((points, expiry_for(utcnow())))
    return parts


def history(user_id: int, *, page: int = 1):
    return db.paginate(select(PointsEntry).where(PointsEntry.user_id == user_id)
                       .order_by(PointsEntry.id.desc()), page=page, per_page=30,
                       error_out=True, count=True)


@dataclass(frozen=True)
class Expiring:
    points: int
    at: datetime


def next_expiry(user_id: int) -> Expiring | None:
    """The points that expire first, and when."""
    first = db.session.scalar(select(func.min(PointsLot.expires_at)).where(
        PointsLot.user_id == user_id, PointsLot.remaining > 0))
    if first is None:
        return None
    points = db.session.scalar(select(func.sum(PointsLot.remaining)).where(
        PointsLot.user_id == user_id, PointsLot.remaining > 0, PointsLot.expires_at == first))
    return Expiring(points, first)


def adjust(user_id: int, points: int, *, note: str, key: str, actor_id: int) -> int:
    """An admin's change with a reason, once per form (key); never below zero."""
    if db.session.get(User, user_id) is None:
        raise PointsError(_("There is no such customer."))
    if not note.strip():
        raise PointsError(_("Say why the points change."))
    return move(user_id, points, reason="adjustment", ref_type="adjustment", ref_id=key,
                actor_id=actor_id, note=note.strip())


def expired_lot_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(select(PointsLot.id).where(
        PointsLot.expires_at <= now, PointsLot.remaining > 0).order_by(PointsLot.id)))


def expire(lot_id: int) -> bool:
    """What is left of a lot past its expiry leaves the balance, once (ref: the lot)."""
    lot = db.session.get(PointsLot, lot_id)
    _locked_balance(lot.user_id)
    db.session.refresh(lot)
    if lot.remaining == 0 or lot.expires_at is None or lot.expires_at > utcnow():
        return False
    move(lot.user_id, -lot.remaining, reason="expiry", ref_type="expiry", ref_id=str(lot.id),
         first_lot_id=lot.id)
    return True


# --- earning on orders ------------------------------------------------------------------


def _entry_amount(user_id: int, ref_type: str, ref_id: str) -> int:
    return db.session.scalar(select(PointsEntry.amount).where(
        PointsEntry.user_id == user_id, PointsEntry.ref_type == ref_type,
        PointsEntry.ref_id == ref_id)) or 0


def points_for(order: Order) -> int:
    """What a paid order earns (see the rules above)."""
    return sum(points_per_line(order))


def points_per_line(order: Order) -> list[int]:
    """What each line of a paid order earns (see the rules above): per line, its goods'
    points at its product's rate, rounded down; the member multiplier on their sum,
    rounded down, at most what one entry may move, split back over the lines by largest
    remainder so the parts add up. Points-mall redemptions earn nothing."""
    from shop.members import services as members

    lines = sorted(order.lines, key=lambda line: line.id)
    if order.kind == "redemption" or not lines:
        return [0] * len(lines)
    unit = 10 ** exponent(order.currency)
    own = dict(db.session.execute(select(PointsRate.product_id, PointsRate.earn_per_unit).where(
        PointsRate.product_id.in_({line.product_id for line in lines}))).all())
    rate = settings().earn_per_unit
    per_line = [line.goods_minor * own.get(line.product_id, rate) // unit for line in lines]
    multiplier = members.benefits_before(order).points_multiplier_bp
    earned = min(sum(per_line) * multiplier // 10_000, MAX_POINTS)
    return allocate(earned, per_line) if earned else [0] * len(lines)


def earn(order: Order) -> int:
    """The points a paid order earns, once (ref: the order), with each line's part kept."""
    parts = points_per_line(order)
    points = sum(parts)
    if points > 0:
        move(order.user_id, points, reason="order", ref_type="order", ref_id=str(order.id))
        db.session.add_all(LinePoints(order_line_id=line.id, order_id=order.id, points=part)
                           for line, part in zip(sorted(order.lines, key=lambda l: l.id), parts)
                           if part)
        db.session.flush()
    return points


def _follow_refund(order: Order, target: int, *, ref_type: str, key: str, sign: int,
                   spend: PointsEntry | None = None) -> None:
    """Move what the refunds so far take back or give back (target, from each line's
    own), less what earlier refunds of the order moved already."""
    done = abs(db.session.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
        PointsEntry.user_id == order.user_id, PointsEntry.ref_type == ref_type,
        PointsEntry.ref_id.startswith(f"{order.id}-", autoescape=True))))
    if target > done:
        earned_lot = db.session.scalar(select(PointsLot.id).join(
            PointsEntry, PointsEntry.id == PointsLot.entry_id).where(
            PointsEntry.user_id == order.user_id, PointsEntry.ref_type == "order",
            PointsEntry.ref_id == str(order.id)))
        move(order.user_id, sign * (target - done), reason=ref_type, ref_type=ref_type,
             ref_id=f"{order.id}-{key}", debt=sign < 0, first_lot_id=earned_lot,
             lots=_given_back(spend, done, target - done) if spend is not None else None)


def _spent_per_line(order: Order, spent: int) -> list[tuple[OrderLine, int]]:
    """The points the order used, split over its lines as the money they stood for was
    (the points deduction's share of each line); a redemption's over what each line
    costs in list price (one line: all of it)."""
    lines = sorted(order.lines, key=lambda line: line.id)
    shares = dict(db.session.execute(
        select(OrderLineAdjustment.order_line_id, OrderLineAdjustment.amount_minor)
        .join(OrderAdjustment, OrderAdjustment.id == OrderLineAdjustment.adjustment_id)
        .where(OrderAdjustment.order_id == order.id, OrderAdjustment.kind == "points")).all())
    weights = [-shares.get(line.id, 0) for line in lines]
    if not any(weights):
        weights = [line.total_minor or line.quantity for line in lines]
    return list(zip(lines, allocate(spent, weights)))


def reverse(order: Order, *, key: str) -> None:
    """A refund: each line's earned points go back in the share its goods were refunded
    (all of them once its goods are back, or the whole order is), and so do the points
    the order used on it."""
    everything = order.status == "refunded"
    lines = sorted(order.lines, key=lambda line: line.id)
    earned = dict(db.session.execute(select(LinePoints.order_line_id, LinePoints.points)
                                     .where(LinePoints.order_id == order.id)).all())
    target = sum(line.refunded_share(earned.get(line.id, 0), all_back=everything) for line in lines)
    if earned:
        _follow_refund(order, target, ref_type="order_refund", key=key, sign=-1)
    spend = _spend_entry(order)
    if spend is not None:
        target = sum(line.refunded_share(part, all_back=everything)
                     for line, part in _spent_per_line(order, -spend.amount))
        _follow_refund(order, target, ref_type="spend_return", key=key, sign=1, spend=spend)


# --- spending at checkout ---------------------------------------------------------------


def _deduction(priced: pricing.Pricing, user_id: int | None) -> pricing.Adjustment | None:
    """The points step of the price pipeline, after shipping (points pay for goods, not
    for shipping, and using them does not lose free shipping): what the shopper's points
    could take off the goods, offered at checkout, applied when chosen."""
    if user_id is None or priced.channel != "cart":
        return None
    rules, unit = settings(), 10 ** exponent(priced.currency)
    goods = pricing.due_minor(priced) - sum(a.amount_minor for a in priced.adjustments
                                            if a.kind == "shipping")
    usable = min(balance(user_id), rules.deduct_cap_points,
                 goods * rules.deduct_max_bp // 10_000 * rules.redeem_per_unit // unit)
    minor = usable * unit // rules.redeem_per_unit
    if minor <= 0:
        return None
    points = -(-minor * rules.redeem_per_unit // unit)  # what that much costs, rounded up
    step = pricing.Adjustment("points", -minor, spends={"points": points})
    priced.offers["points"] = step
    return step if priced.options.get("use_points") else None


pricing.register_adjuster(950, _deduction)


def _spend(order: Order, *, placement, **_kwargs) -> None:
    """Placed (LOCK ORDER: shoppers): the points the order uses, a deduction chosen at
    checkout or a redemption's price, taken from the account in one entry, or the order
    is refused. The account's row stays locked: the shopper's redemptions queue up
    behind it, so the mall's per-shopper limit is checked with nothing else moving."""
    points = sum(step.spends["points"] for step in placement.priced.adjustments
                 if step.kind == "points")
    redeemed = placement.claims.get("mall")
    if redeemed is not None:
        _locked_balance(order.user_id)
        points += redeemed.points
    if not points:
        return
    try:
        move(order.user_id, -points, reason="spend", ref_type="spend", ref_id=str(order.id),
             actor_id=order.user_id)
    except PointsError:
        raise orders.OrderError(
            _("You do not have enough points.") if redeemed is not None else
            _("Your points have changed; check the deduction and place the order again.")) from None


def _spend_entry(order: Order) -> PointsEntry | None:
    return db.session.scalar(select(PointsEntry).where(
        PointsEntry.user_id == order.user_id, PointsEntry.ref_type == "spend",
        PointsEntry.ref_id == str(order.id)))


def points_spent(order: Order) -> int:
    """The points an order used (a deduction, or a redemption's price), as placed."""
    return -_entry_amount(order.user_id, "spend", str(order.id))


def return_spent(order: Order) -> None:
    """A cancelled unpaid order gives back all the points it used, once."""
    spend = _spend_entry(order)
    if spend is not None:
        move(order.user_id, -spend.amount, reason="spend_cancel", ref_type="spend_cancel",
             ref_id=str(order.id), lots=_given_back(spend, 0, -spend.amount))


# --- daily sign-in ----------------------------------------------------------------------


def _bonus(streak: int, bonuses: dict[int, int]) -> int:
    if not bonuses:
        return 0
    cycle = max(bonuses)
    return bonuses.get((streak - 1) % cycle + 1, 0)


def sign_in(user_id: int, now: datetime | None = None) -> Signin:
    """Today's sign-in and its points, once per day in the shop's time zone."""
    day = local_day(now or utcnow())
    before = db.session.scalar(select(Signin.streak).where(
        Signin.user_id == user_id, Signin.day == day - timedelta(days=1))) or 0
    streak = before + 1
    points = settings().signin_points + _bonus(streak, signin_bonuses())
    row = Signin(user_id=user_id, day=day, streak=streak, points=points)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
            if points:
                move(user_id, points, reason="signin", ref_type="signin", ref_id=day.isoformat())
    except (IntegrityError, PointsError):
        raise PointsError(_("You have already signed in today. Come back tomorrow!")) from None
    return row


@dataclass
class Month:
    today: date
    weeks: list[list[date]]
    signed: dict[date, int]  # day: points
    streak: int              # the streak today, or yesterday's while today is still open
    signed_today: bool
    next_points: int         # what signing in today (or tomorrow) brings


def month(user_id: int, now: datetime | None = None) -> Month:
    today = local_day(now or utcnow())
    weeks = calendars.Calendar(firstweekday=0).monthdatescalendar(today.year, today.month)
    rows = db.session.execute(select(Signin.day, Signin.points, Signin.streak).where(
        Signin.user_id == user_id, Signin.day >= min(weeks[0][0], today - timedelta(days=1)),
        Signin.day <= weeks[-1][-1])).all()
    signed = {row.day: row.points for row in rows}
    streaks = {row.day: row.streak for row in rows}
    signed_today = today in signed
    streak = streaks.get(today) or streaks.get(today - timedelta(days=1)) or 0
    return Month(today, weeks, signed, streak, signed_today,  # the next sign-in continues it
                 settings().signin_points + _bonus(streak + 1, signin_bonuses()))


# --- tasks ------------------------------------------------------------------------------


def period_of(period: str, moment: datetime) -> str:
    day = local_day(moment)
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day:%Y-%m}"
    return "once"


def task_rules() -> dict[str, tuple[int, bool]]:
    """{code: (points, active)} for every task, an admin's choice or the default."""
    saved = {row.code: row for row in db.session.scalars(select(TaskRule))}
    return {code: (saved[code].points, saved[code].active) if code in saved else (task.points, True)
            for code, task in TASKS.items()}


def save_task_rule(code: str, points: int, active: bool) -> None:
    if code not in TASKS:
        raise PointsError(_("There is no such task."))
    row = db.session.get(TaskRule, code)
    if row is None:
        db.session.add(TaskRule(code=code, points=points, active=active))
    else:
        row.points, row.active = points, active
    db.session.flush()


def complete(user_id: int, code: str, now: datetime | None = None) -> TaskCompletion | None:
    """Record the task done in its current period; None if it is switched off or was
    done already in this period (the unique key decides, racing or not)."""
    points, active = task_rules()[code]
    if not active:
        return None
    row = TaskCompletion(user_id=user_id, code=code, points=points,
                         period=period_of(TASKS[code].period, now or utcnow()))
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


def claim(user_id: int, completion_id: int) -> TaskCompletion:
    """The reward of a task done, once: a guarded update of claimed_at, then the points."""
    row = db.session.get(TaskCompletion, completion_id)
    if row is None or row.user_id != user_id:
        raise LookupError(completion_id)
    claimed = db.session.execute(
        update(TaskCompletion).where(TaskCompletion.id == row.id,
                                     TaskCompletion.claimed_at.is_(None))
        .values(claimed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise PointsError(_("You have already claimed this reward."))
    db.session.refresh(row, ["claimed_at"])
    if row.points:
        move(user_id, row.points, reason="task", ref_type="task", ref_id=f"{row.code}:{row.period}")
    return row


@dataclass
class TaskState:
    code: str
    points: int
    completion: TaskCompletion | None  # done in the current period

    @property
    def task(self):
        return TASKS[self.code]


def tasks_of(user_id: int, now: datetime | None = None) -> list[TaskState]:
    """Every active task with what the shopper did in its current period."""
    now = now or utcnow()
    periods = {code: period_of(task.period, now) for code, task in TASKS.items()}
    done = {(row.code, row.period): row for row in db.session.scalars(
        select(TaskCompletion).where(TaskCompletion.user_id == user_id,
                                     TaskCompletion.period.in_(set(periods.values()))))}
    return [TaskState(code, points, done.get((code, periods[code])))
            for code, (points, active) in task_rules().items() if active]


def _on_paid_tasks(order: Order) -> None:
    from shop.referrals import services as referrals

    if order.kind == "redemption" or order.total_minor == 0:  # nothing paid in money
        return
    complete(order.user_id, "first_order")
    complete(order.user_id, "weekly_order")
    referrer = referrals.referrer_of(order.user_id)
    if referrer is not None:
        complete(referrer, "invite_buyer")


# --- the points mall --------------------------------------------------------------------


def mall_items(*, active_only: bool = True) -> list[MallItem]:
    """The items with their SKU, product and images in three queries, however many."""
    query = select(MallItem).order_by(MallItem.points_price, MallItem.id).options(
        joinedload(MallItem.sku).joinedload(Sku.product).selectinload(Product.images))
    if active_only:
        query = query.where(MallItem.active.is_(True))
    return list(db.session.scalars(query))


def mall_item(item_id: int, *, active_only: bool = True) -> MallItem | None:
    item = db.session.get(MallItem, item_id)
    return None if item is None or (active_only and not item.active) else item


def points_value_minor(points: int, currency: str) -> int:
    """What points are worth in money at the shop's rate (redeem_per_unit points make one
    currency unit, as at checkout), rounded down."""
    return points * 10 ** exponent(currency) // settings().redeem_per_unit


def save_mall_item(item: MallItem | None, *, sku_id: int, points_price: int, cash_minor: int,
                   per_user_limit: int, active: bool, actor_id: int | None = None,
                   loss_leader: bool = False) -> MallItem:
    """Create or change a mall item. What it sells for, the cash part plus the points
    valued at the shop's rate, is checked against the SKU's floor without commission
    (redemptions earn none; shop.referrals.margin): below it, refused
    (margin.BelowFloor) unless confirmed as a loss leader by `actor_id`."""
    sku = db.session.get(Sku, sku_id)
    if sku is None:
        raise PointsError(_("There is no such SKU."))
    currency = current_app.config["SHOP_CURRENCY"]
    worth = points_value_minor(points_price, currency)
    label = _("%(cash)s and %(points)d points worth %(worth)s",
              cash=format_minor(cash_minor, currency), points=points_price,
              worth=format_minor(worth, currency))
    below = margin.check("mall", item.id if item else None,
                         [margin.Priced(sku, cash_minor + worth, label)], field="cash_minor",
                         confirmed=loss_leader, commission=False)
    if item is None:
        item = MallItem(currency=current_app.config["SHOP_CURRENCY"], stock=0)
        db.session.add(item)
    item.sku_id, item.points_price, item.cash_minor = sku_id, points_price, cash_minor
    item.per_user_limit, item.active = per_user_limit, active
    db.session.flush()
    margin.record("mall", item.id, below, actor_id=actor_id)
    return item


def move_mall_stock(item_id: int, delta: int, *, reason: str, ref_type: str, ref_id: str,
                    actor_id: int | None = None) -> int:
    """The one way a mall item's stock changes: a guarded update and its ledger row."""
    return ledger_move(
        MallItem.stock, [MallItem.id == item_id], delta,
        lambda after: MallStockEntry(item_id=item_id, delta=delta, stock_after=after,
                                     reason=reason, ref_type=ref_type, ref_id=ref_id,
                                     actor_id=actor_id),
        error=PointsError, refused=_("This item has just run out."),
        duplicate=_("This stock change was already recorded."))


def redeemed_count(user_id: int, item_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
        Redemption.user_id == user_id, Redemption.item_id == item_id,
        Redemption.returned.is_(False)))


@dataclass(frozen=True)
class MallClaim:
    """What a redemption takes besides the order: the item's units and its points."""

    item: MallItem
    quantity: int
    points: int


def redeem(user_id: int, item_id: int, quantity: int, address: Address, key: str) -> Order:
    """A redemption: an order for the item's SKU at its cash price (free shipping, no
    discounts), its points and the item's units taken when it is placed (the points and
    mall participants). The shopper's points account is locked before the item's stock
    (LOCK ORDER), so their redemptions queue up: the limit and the balance are checked
    again with nothing else moving them. A points-only order is paid at once; one with
    cash waits for payment like any order."""
    if (order := orders.order_by_key(user_id, key)) is not None:
        return order
    item = mall_item(item_id)
    if item is None:
        raise PointsError(_("This item is not offered any more."))
    if not 1 <= quantity <= 99:
        raise PointsError(_("Choose a quantity from 1 to 99."))
    points = item.points_price * quantity
    if balance(user_id) < points:  # a first look, for the message; the ledger decides
        raise PointsError(_("You do not have enough points."))
    _check_limit(user_id, item, quantity)
    try:
        return place(Placement(
            user_id=user_id, key=key, destination=address, kind="redemption", channel=None,
            lines=[(item.sku, quantity, item.cash_minor)],
            claims={"mall": MallClaim(item, quantity, points)}))
    except orders.OrderError as exc:
        raise PointsError(str(exc)) from None


def _check_limit(user_id: int, item: MallItem, quantity: int) -> None:
    if item.per_user_limit and redeemed_count(user_id, item.id) + quantity > item.per_user_limit:
        raise PointsError(_("You can redeem at most %(n)d of this item.", n=item.per_user_limit))


def _take_mall(order: Order, *, placement, **_kwargs) -> None:
    """Placed, a redemption (LOCK ORDER: campaign; the points account, locked by the
    points participant before, keeps the shopper's redemptions in a queue): the limit,
    the item's units by its ledger, and the Redemption row."""
    claim = placement.claims.get("mall")
    if claim is None:
        return
    try:
        _check_limit(order.user_id, claim.item, claim.quantity)
        move_mall_stock(claim.item.id, -claim.quantity, reason="redemption", ref_type="order",
                        ref_id=str(order.id))
    except PointsError as exc:
        raise orders.OrderError(str(exc)) from None
    db.session.add(Redemption(order_id=order.id, user_id=order.user_id, item_id=claim.item.id,
                              quantity=claim.quantity, points=claim.points))
    db.session.flush()


def _return_redemption(order: Order, *, ref_type: str) -> None:
    """A redemption cancelled unpaid, or refunded in full with the goods back in stock: the
    mall's unit comes back and no longer counts toward the shopper's limit, once."""
    redemption = db.session.get(Redemption, order.id, with_for_update=True)
    if redemption is None or redemption.returned:
        return
    redemption.returned = True
    move_mall_stock(redemption.item_id, redemption.quantity, reason=ref_type,
                    ref_type=ref_type, ref_id=str(order.id))


# --- the order lifecycle's participants (shop.orders.lifecycle) ------------------------


def _earn_on_paid(order: Order, **_kwargs) -> None:
    earn(order)
    _on_paid_tasks(order)


def _mall_back_refunded(order: Order, *, restock: bool = False, **_kwargs) -> None:
    if order.kind == "redemption" and restock and order.status == "refunded":
        _return_redemption(order, ref_type="order_refund")  # the goods are back: the unit too


lifecycle.join("points", placed=_spend, paid=_earn_on_paid,
               cancelled=lambda order, **_kwargs: return_spent(order),
               refunded=lambda order, *, key, **_kwargs: reverse(order, key=key))
lifecycle.join("mall", placed=_take_mall,
               cancelled=lambda order, **_kwargs: _return_redemption(order, ref_type="order_cancel"),
               refunded=_mall_back_refunded)
orders.PAGE_PARTS["points_spent"] = lambda order: points_spent(order)


# --- signals in the transaction (shop.signals) ------------------------------------------


@profile_updated.connect
def _on_profile(user, **extra) -> None:
    if user.nickname and user.phone and user.avatar_key:
        complete(user.id, "profile")


@link_opened.connect
def _on_link_opened(sharer_id, *, opener_id: int | None = None, **extra) -> None:
    """A share counts when a signed-in shopper other than the sharer opens it (a signed-out
    open could be the sharer's own)."""
    if opener_id is not None and opener_id != sharer_id:
        complete(sharer_id, "first_share")
        complete(sharer_id, "daily_share")


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """A closed account's daily sign-ins and tasks are erased (what they earned is in the
    points ledger, which stays for the books with the balance: points have no cash value,
    and are forfeited with the account)."""
    for model in (Signin, TaskCompletion):
        db.session.execute(delete(model).where(model.user_id == user.id)
                           .execution_options(synchronize_session=False))
