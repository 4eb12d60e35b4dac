"""Distribution rules. Services flush and raise ReferralError; they never commit.

Binding (who referred whom)
- Every user has a referral code. A code is *valid* for a shopper when it belongs to an
  active account that is not a disabled distributor, is not the shopper's own, and does
  not close a loop (the sharer is not the shopper's downline at any depth: A->B->A and
  A->B->C->A are refused). Binding writes are serialised (one advisory lock on
  PostgreSQL; SQLite writes one at a time anyway), so two crossing bindings can not make
  a loop either.
- The admin's rule says when a binding is made: `first_visit` (the first valid link a
  shopper opens binds them; later links do not replace it), `registration` (only an
  account registered through a link, or with a code typed at registration, is bound), or
  `last_click` (every valid link opened rebinds). A binding lasts `binding_days` (0: for
  good); once it has expired the shopper may be bound again.
- A visitor who is not signed in carries the link's code in a first-party cookie for
  `cookie_days`; it is applied when they register or sign in. A signed-in shopper is
  bound when the page of the link has loaded (links.py).
- At checkout a shopper who is not bound may type a referrer's code (not under the
  `registration` rule).

Earning
- When an order is placed, its level-1 earner (the buyer's referrer) and level-2 earner
  (the referrer's referrer) are fixed on it. With `self_purchase` on, a buyer who may
  earn is their own level 1 (自购返佣) and their referrer level 2; otherwise a buyer never
  earns on their own order. Nobody earns twice on one order, and a loop earns nothing.
- When it is paid, each earner who may earn then (the admin's mode: everyone, approved
  applicants, or shoppers who have spent the threshold; never a disabled distributor)
  gets a pending commission: per line, what the line paid for its goods (after its own
  discounts and its share of the order's, shipping aside: OrderLine.goods_minor, kept on
  the order when it was placed) times the line's rate in basis points, rounded down per
  line. The rate is the SKU's override, else the product's, else the earner's
  distributor level, else the shop's default. Each line's part is kept (CommissionLine).
- Margin guard: what is paid for the goods, minus its cost, minus the commissions must
  stay at or above `margin_floor_bp` of what is paid. When the commissions would go below,
  they are cut to what fits (in proportion, rounded down) and the uncut figure is kept on
  each commission, shown to the admin.
- After `settle_days` (the refund window) the sweeper settles a pending commission: its
  remaining amount moves from pending to the withdrawable balance. Not while a refund
  is requested on the order.
- A refund reverses, line by line, each line's part of every commission in the share
  its goods were refunded (a line's refund counts against its goods first, its share of
  shipping last; cumulative, rounded down; a line whose goods are all back reverses all
  its part, the whole order refunded reverses everything): refunding one line takes
  back that line's commission, not a share of the order's. From pending if not yet
  settled, else from the balance, which may then go below zero: a debt, shown as such
  and repaid by later commissions. Nothing is capped silently.

Withdrawals
- At least `withdraw_min_minor`, at most the balance; the fee (`withdraw_fee_bp`,
  rounded down) is kept by the shop. The amount leaves the balance when requested (a
  guarded UPDATE: parallel requests can never take more than there is); a rejection
  returns it. Approved into the wallet, it is paid at once; by bank transfer, an admin
  marks it paid with the transfer's reference. Every step is a guarded status change,
  so nothing is paid twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.catalog.models import Product, Sku
from shop.db import db, insert_missing, ledger_move, save_settings_row, settings_row, utcnow
from shop.money import allocate, format_minor
from shop.orders import lifecycle
from shop.signals import account_closing, account_closure_blockers, link_opened
from shop.orders.models import PAID_STATUSES, Order, OrderLine
from shop.referrals.models import (Binding, Commission, CommissionEntry, CommissionLine, CommissionRate,
                                   Distributor, DistributorLevel, LinkOpen, OrderReferral,
                                   ReferralSettings, Withdrawal)

MAX_AMOUNT = 2**31 - 1  # what an amount column holds
MAX_CHAIN = 1000  # hops followed when looking for a loop; chains are never this long
BINDING_LOCK = 0x5E_FE_44  # the advisory lock that serialises binding changes


class ReferralError(ValueError):
    """A refusal; `field` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- settings ---------------------------------------------------------------------------


def settings() -> ReferralSettings:
    return settings_row(ReferralSettings)


def save_settings(**values) -> ReferralSettings:
    """Change the rules. The default rates fit under the margin floor (check_pool), and a
    higher floor is refused while a level or a product's rate would not fit under it."""
    current = settings()
    floor = values.get("margin_floor_bp", current.margin_floor_bp)
    check_pool(values.get("level1_bp", current.level1_bp), values.get("level2_bp", current.level2_bp),
               floor_bp=floor)
    widest = max([level.level1_bp + level.level2_bp for level in levels()]
                 + list(db.session.scalars(select(CommissionRate.level1_bp + CommissionRate.level2_bp))),
                 default=0)
    if widest > pool_cap_bp(floor):
        raise ReferralError(_("A distributor level or a product rate pays %(pool)s in all, more "
                              "than this margin floor leaves (%(most)s): lower it first.",
                              pool=percent(widest), most=percent(pool_cap_bp(floor))),
                            field="margin_floor_bp")
    return save_settings_row(ReferralSettings, values, unknown=ReferralError(_("Unknown setting.")))


def percent(bp: int) -> str:
    """Basis points as a percentage: 1250 -> "12.50%" (integers only)."""
    return f"{bp // 100}.{bp % 100:02d}%"


def pool_cap_bp(floor_bp: int | None = None) -> int:
    """The most level 1 and level 2 together may take of what is paid for the goods:
    whatever the margin floor leaves (the guard would cut any more at every sale)."""
    return 10_000 - (settings().margin_floor_bp if floor_bp is None else floor_bp)


def check_pool(level1_bp: int, level2_bp: int, *, floor_bp: int | None = None) -> None:
    """Refuse two-level rates that together take more than the margin floor leaves."""
    cap = pool_cap_bp(floor_bp)
    if level1_bp + level2_bp > cap:
        raise ReferralError(_("Level 1 and level 2 together may take at most %(most)s of what is "
                              "paid for the goods: the margin floor keeps %(floor)s.",
                              most=percent(cap), floor=percent(10_000 - cap)), field="level2_bp")


# --- distributors -----------------------------------------------------------------------


def account(user_id: int) -> Distributor:
    """The user's distributor row (balances, standing), made on first use."""
    insert_missing(Distributor, "user_id", user_id=user_id, status="none",
                   currency=current_app.config["SHOP_CURRENCY"], pending_minor=0,
                   balance_minor=0, real_name="", phone="", pitch="", decision_reason="",
                   created_at=utcnow(), updated_at=utcnow())
    return db.session.get(Distributor, user_id)


def _known_account(user_id: int) -> Distributor:
    if db.session.get(User, user_id) is None:
        raise ReferralError(_("There is no such user."))
    return account(user_id)


def standing(user_id: int) -> Distributor | None:
    return db.session.get(Distributor, user_id)


def spent_minor(user_id: int) -> int:
    """What the user has paid for orders and not had back."""
    from shop.payments.models import Payment

    return db.session.scalar(select(func.coalesce(func.sum(Payment.refundable_minor), 0)).where(
        Payment.user_id == user_id, Payment.purpose == "order", Payment.status == "succeeded")) or 0


def may_earn(user_id: int) -> bool:
    """Whether this user earns commissions now, by the admin's mode."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return False
    row = standing(user_id)
    status = row.status if row else "none"
    if status == "disabled":
        return False
    mode = settings().mode
    if mode == "everyone" or status == "approved":
        return True
    if mode == "threshold":
        return spent_minor(user_id) >= settings().threshold_minor
    return False


def apply(user_id: int, *, real_name: str, phone: str, pitch: str) -> Distributor:
    """An application to become a distributor (when the shop approves applicants)."""
    if settings().mode != "approved":
        raise ReferralError(_("This shop does not take applications: the distributor centre says who may earn."))
    row = account(user_id)
    if row.status in ("applied", "approved", "disabled"):
        raise ReferralError({"applied": _("Your application is waiting for a decision."),
                             "approved": _("You are a distributor already."),
                             "disabled": _("Your distributor account is disabled.")}[row.status])
    moved = db.session.execute(
        update(Distributor).where(Distributor.user_id == user_id,
                                  Distributor.status.in_(("none", "rejected")))
        .values(status="applied", real_name=real_name.strip(), phone=phone.strip(),
                pitch=pitch.strip(), decision_reason="", updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise ReferralError(_("Your application has just changed; reload the page."))
    db.session.refresh(row)
    return row


def decide(user_id: int, *, approve: bool, reason: str, actor_id: int) -> Distributor:
    """Approve or reject an application; a rejection says why."""
    if not approve and not reason.strip():
        raise ReferralError(_("Say why the application is rejected."))
    moved = db.session.execute(
        update(Distributor).where(Distributor.user_id == user_id, Distributor.status == "applied")
        .values(status="approved" if approve else "rejected", decision_reason=reason.strip(),
                decided_by_id=actor_id, decided_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise ReferralError(_("This application is no longer waiting for a decision."))
    row = db.session.get(Distributor, user_id)
    db.session.refresh(row)
    return row


def set_disabled(user_id: int, disabled: bool, *, reason: str, actor_id: int) -> Distributor:
    """Disable a distributor (their code stops working, they earn nothing more), or
    enable them again as approved."""
    row = _known_account(user_id)
    row.status = "disabled" if disabled else "approved"
    row.decision_reason, row.decided_by_id, row.decided_at = reason.strip(), actor_id, utcnow()
    db.session.flush()
    return row


def set_level(user_id: int, level_id: int | None) -> Distributor:
    if level_id is not None and db.session.get(DistributorLevel, level_id) is None:
        raise ReferralError(_("There is no such level."))
    row = _known_account(user_id)
    row.level_id = level_id
    db.session.flush()
    return row


def levels() -> list[DistributorLevel]:
    return list(db.session.scalars(select(DistributorLevel).order_by(DistributorLevel.level1_bp,
                                                                     DistributorLevel.id)))


def save_level(level_id: int | None, *, name: str, level1_bp: int, level2_bp: int) -> DistributorLevel:
    level = DistributorLevel() if level_id is None else db.session.get(DistributorLevel, level_id)
    if level is None:
        raise ReferralError(_("There is no such level."))
    taken = db.session.scalar(select(DistributorLevel.id).where(
        DistributorLevel.name == name.strip(), DistributorLevel.id != (level_id or 0)))
    if taken:
        raise ReferralError(_("Another level has this name."), field="name")
    check_pool(level1_bp, level2_bp)
    level.name, level.level1_bp, level.level2_bp = name.strip(), level1_bp, level2_bp
    db.session.add(level)
    db.session.flush()
    return level


# --- codes and bindings -----------------------------------------------------------------


def sharer_of(code: str) -> User | None:
    """The active account whose code this is, unless it is a disabled distributor."""
    code = (code or "").strip().upper()
    if not code:
        return None
    user = db.session.scalar(select(User).where(User.referral_code == code))
    if user is None or not user.active:
        return None
    row = standing(user.id)
    return None if row is not None and row.status == "disabled" else user


def _in_force():
    return Binding.expires_at.is_(None) | (Binding.expires_at > utcnow())


def referrer_of(user_id: int | None) -> int | None:
    """The user's referrer under a binding still in force."""
    if user_id is None:
        return None
    return db.session.scalar(select(Binding.referrer_id).where(Binding.user_id == user_id, _in_force()))


def _downline(sharer_id: int, user_id: int) -> bool:
    """Whether `sharer_id` sits below `user_id` (so binding user -> sharer would loop)."""
    current, seen = sharer_id, set()
    for _hop in range(MAX_CHAIN):
        current = referrer_of(current)
        if current is None:
            return False
        if current == user_id or current in seen:
            return True
        seen.add(current)
    return True


def check_code(code: str, user_id: int | None) -> User:
    """The sharer a code names, if it may refer this shopper; ReferralError otherwise."""
    sharer = sharer_of(code)
    if sharer is None:
        known = db.session.scalar(select(User.id).where(User.referral_code == (code or "").strip().upper()))
        raise ReferralError(_("This referral code is no longer active.") if known
                            else _("There is no such referral code."))
    if user_id is not None and sharer.id == user_id:
        raise ReferralError(_("That is your own referral code: it earns when others use it."))
    if user_id is not None and _downline(sharer.id, user_id):
        raise ReferralError(_("%(name)s was referred by you, so they cannot be your referrer.",
                              name=sharer.nickname))
    return sharer


def _serialise_bindings() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BINDING_LOCK})


def bind(user_id: int, code: str, *, via: str) -> Binding | None:
    """Bind the shopper to the code's owner if the rule allows it through `via`
    ("link", "signin", "registration", "checkout"). Returns the new binding, None when
    the rule keeps the current one; raises ReferralError for a code that may not refer
    them (forged, disabled, their own, a loop) or a way the rule does not allow."""
    rule, now = settings().binding_rule, utcnow()
    if via == "checkout" and rule == "registration":
        raise ReferralError(_("In this shop a referrer is only set when an account is registered."))
    _serialise_bindings()
    sharer = check_code(code, user_id)
    current = db.session.get(Binding, user_id, with_for_update=True, populate_existing=True)
    in_force = current is not None and (current.expires_at is None or current.expires_at > now)
    if in_force:
        if via == "checkout":
            raise ReferralError(_("You already have a referrer."))
        if rule != "last_click" or current.referrer_id == sharer.id:
            return None
    elif rule == "registration" and via != "registration":
        return None
    days = settings().binding_days
    expires_at = now + timedelta(days=days) if days else None
    if current is None:
        current = Binding(user_id=user_id)
        db.session.add(current)
    current.referrer_id, current.via, current.bound_at, current.expires_at = sharer.id, via, now, expires_at
    db.session.flush()
    return current


def record_open(sharer_id: int, target: str, visitor: str, opener_id: int | None = None) -> None:
    db.session.add(LinkOpen(sharer_id=sharer_id, target=target, visitor=visitor))
    db.session.flush()
    link_opened.send(sharer_id, target=target, opener_id=opener_id)


# --- earning ----------------------------------------------------------------------------


def _earners(buyer_id: int) -> tuple[int | None, int | None]:
    """(level 1, level 2) for an order of this buyer, by the bindings in force now."""
    referrer = referrer_of(buyer_id)
    if settings().self_purchase and may_earn(buyer_id):
        level1, level2 = buyer_id, referrer
    else:
        level1, level2 = referrer, referrer_of(referrer)
    if level2 in (buyer_id, level1):
        level2 = None
    return level1, level2


def snapshot(order: Order, level1: int | None, level2: int | None,
             target: str | None) -> OrderReferral | None:
    """Fix who stands to earn from this order (called when it is placed)."""
    if level1 is None and level2 is None:
        return None
    row = OrderReferral(order_id=order.id, level1_id=level1, level2_id=level2, target=target)
    db.session.add(row)
    db.session.flush()
    return row


def _rates(product_ids: set[int]) -> dict[tuple[int, int | None], CommissionRate]:
    rows = db.session.scalars(select(CommissionRate).where(CommissionRate.product_id.in_(product_ids)))
    return {(row.product_id, row.sku_id): row for row in rows}


def rate_bp(level: int, earner: Distributor | None, product_id: int, sku_id: int | None,
            overrides: dict | None = None) -> int:
    overrides = _rates({product_id}) if overrides is None else overrides
    row = overrides.get((product_id, sku_id)) or overrides.get((product_id, None))
    if row is None and earner is not None and earner.level is not None:
        row = earner.level
    if row is None:
        row = settings()
    return row.level1_bp if level == 1 else row.level2_bp


def commission_on(lines: list[tuple[int, int | None, int]], level: int, earner: Distributor | None) -> int:
    """Commission on lines (product_id, sku_id, base paid): rate x base per line, rounded down."""
    overrides = _rates({product_id for product_id, _sku, _base in lines})
    return sum(base * rate_bp(level, earner, product_id, sku_id, overrides) // 10_000
               for product_id, sku_id, base in lines)


def margin_cap(paid_minor: int, cost_minor: int) -> int:
    """The most commission an order can pay and keep its margin at the admin's floor."""
    floor = -(-paid_minor * settings().margin_floor_bp // 10_000)  # rounded up
    return max(0, paid_minor - cost_minor - floor)


def _entry(user_id: int, bucket: str, amount: int, *, reason: str, ref_type: str, ref_id: str,
           may_go_negative: bool = False) -> int:
    column = Distributor.pending_minor if bucket == "pending" else Distributor.balance_minor
    return ledger_move(
        column, [Distributor.user_id == user_id], amount,
        lambda after: CommissionEntry(user_id=user_id, bucket=bucket, amount_minor=amount,
                                      balance_after_minor=after, reason=reason,
                                      ref_type=ref_type, ref_id=ref_id),
        error=ReferralError, refused=_("That is more than your withdrawable balance."),
        duplicate=_("This change was already recorded."), may_go_negative=may_go_negative)


def earn(order: Order) -> list[Commission]:
    """The order is paid: pending commissions for its earners who may earn now, each on
    what every line paid for its goods (OrderLine.goods_minor) at that line's rate,
    rounded down per line; cut to the margin guard's cap in proportion when they would
    go below it (the cap counts what each line's SKU costs: its own cost, else its
    product's). Each line's part is kept (CommissionLine), adding up to the commission.
    The earners' accounts are locked lowest user id first (LOCK ORDER: shoppers)."""
    referral = db.session.get(OrderReferral, order.id)
    if referral is None:
        return []
    lines = list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                    .order_by(OrderLine.id)))
    paid = sum(line.goods_minor for line in lines)
    overrides = _rates({line.product_id for line in lines})
    costs = dict(db.session.execute(  # each line's SKU's cost, else its product's
        select(Sku.id, func.coalesce(Sku.cost_price_minor, Product.cost_price_minor))
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_({line.sku_id for line in lines}))).all())
    cost = sum(costs.get(line.sku_id, 0) * line.quantity for line in lines)
    wanted = []
    for level, earner_id in ((1, referral.level1_id), (2, referral.level2_id)):
        if earner_id is not None and may_earn(earner_id):
            earner = account(earner_id)
            rates = [rate_bp(level, earner, line.product_id, line.sku_id, overrides)
                     for line in lines]
            parts = [line.goods_minor * rate // 10_000 for line, rate in zip(lines, rates)]
            wanted.append((level, earner_id, rates, parts))
    total, cap = sum(sum(parts) for *_x, parts in wanted), margin_cap(paid, cost)
    settle_at = utcnow() + timedelta(days=settings().settle_days)
    made = []
    for level, earner_id, rates, parts in sorted(wanted, key=lambda w: w[1]):
        uncapped = sum(parts)
        if uncapped == 0:
            continue
        amount = uncapped if total <= cap else uncapped * cap // total
        commission = Commission(order_id=order.id, user_id=earner_id, level=level, status="pending",
                                currency=order.currency, base_minor=paid, uncapped_minor=uncapped,
                                amount_minor=amount, reversed_minor=0, settle_at=settle_at)
        db.session.add(commission)
        db.session.flush()
        db.session.add_all(CommissionLine(commission_id=commission.id, order_line_id=line.id,
                                          base_minor=line.goods_minor, rate_bp=rate,
                                          amount_minor=part)
                           for line, rate, part in zip(lines, rates, allocate(amount, parts))
                           if line.goods_minor)
        if amount:
            _entry(earner_id, "pending", amount, reason="earned", ref_type="commission",
                   ref_id=str(commission.id))
        made.append(commission)
    db.session.flush()
    return sorted(made, key=lambda c: c.level)


def reverse(order: Order, *, key: str) -> None:
    """Take back, line by line, the share of each commission that the line's goods have
    been refunded (all of a line's part once its goods are back, all of it once the
    whole order is), cumulative over the order's refunds; from pending if not settled,
    else from the balance, which may go below zero (a debt)."""
    commissions = list(db.session.scalars(
        select(Commission).where(Commission.order_id == order.id).order_by(Commission.user_id)
        .with_for_update().execution_options(populate_existing=True)))
    if not commissions:
        return
    lines = {line.id: line for line in order.lines}
    everything = order.status == "refunded"
    parts = db.session.execute(select(CommissionLine.commission_id, CommissionLine.order_line_id,
                                      CommissionLine.amount_minor)
                               .where(CommissionLine.commission_id.in_([c.id for c in commissions]))
                               ).all()
    targets: dict[int, int] = {}
    for commission_id, line_id, amount in parts:
        targets[commission_id] = targets.get(commission_id, 0) + lines[line_id].refunded_share(
            amount, all_back=everything)
    for commission in commissions:
        target = commission.amount_minor if everything else targets.get(commission.id, 0)
        delta = target - commission.reversed_minor
        if delta <= 0:
            continue
        commission.reversed_minor = target
        db.session.flush()
        settled = commission.status == "settled"
        _entry(commission.user_id, "balance" if settled else "pending", -delta, reason="refund",
               ref_type="refund", ref_id=f"{commission.id}-{key}", may_go_negative=settled)


def due_commission_ids(now: datetime) -> list[int]:
    return list(db.session.scalars(
        select(Commission.id).join(Order, Order.id == Commission.order_id)
        .where(Commission.status == "pending", Commission.settle_at <= now,
               Order.status != "refund_requested")
        .order_by(Commission.id)))


def settle(commission_id: int) -> bool:
    """Move a due commission's remaining amount from pending to the balance, once; not
    while a refund is requested on its order (the order row is locked first, as refunds
    lock it, so a request made meanwhile is seen)."""
    order_id = db.session.scalar(select(Commission.order_id).where(Commission.id == commission_id))
    order = db.session.get(Order, order_id, with_for_update=True, populate_existing=True) if order_id else None
    commission = db.session.get(Commission, commission_id, with_for_update=True,
                                populate_existing=True)
    if commission is None or commission.status != "pending" or order.status == "refund_requested":
        return False
    commission.status, commission.settled_at = "settled", utcnow()
    db.session.flush()
    net = commission.net_minor
    if net:
        _entry(commission.user_id, "pending", -net, reason="settled", ref_type="settle",
               ref_id=str(commission.id))
        _entry(commission.user_id, "balance", net, reason="settled", ref_type="settle",
               ref_id=str(commission.id))
    return True


# --- withdrawals ------------------------------------------------------------------------


def withdrawal_fee(amount_minor: int) -> int:
    return amount_minor * settings().withdraw_fee_bp // 10_000


def request_withdrawal(user_id: int, amount_minor: int, *, method: str, account_text: str = "") -> Withdrawal:
    config = settings()
    if not may_earn(user_id):
        raise ReferralError(_("Only distributors can withdraw commissions."))
    if amount_minor < config.withdraw_min_minor:
        raise ReferralError(_("You can withdraw from %(amount)s.",
                              amount=format_minor(config.withdraw_min_minor,
                                                  current_app.config["SHOP_CURRENCY"])))
    if method == "bank" and not account_text.strip():
        raise ReferralError(_("Give the bank account to transfer to."))
    if amount_minor > MAX_AMOUNT:
        raise ReferralError(_("That is more than your withdrawable balance."))
    fee = withdrawal_fee(amount_minor)  # < amount: the fee is at most 99.99 %, rounded down
    withdrawal = Withdrawal(user_id=user_id, currency=current_app.config["SHOP_CURRENCY"],
                            amount_minor=amount_minor, fee_minor=fee, method=method,
                            account=account_text.strip() if method == "bank" else "",
                            status="requested")
    account(user_id)
    with db.session.begin_nested():
        db.session.add(withdrawal)
        db.session.flush()
        _entry(user_id, "balance", -amount_minor, reason="withdrawal", ref_type="withdrawal",
               ref_id=str(withdrawal.id))
    return withdrawal


def _move_withdrawal(withdrawal_id: int, from_status: str, **values) -> Withdrawal:
    moved = db.session.execute(
        update(Withdrawal).where(Withdrawal.id == withdrawal_id, Withdrawal.status == from_status)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise ReferralError(_("This withdrawal has just changed; reload the page."))
    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    db.session.refresh(withdrawal)
    return withdrawal


def decide_withdrawal(withdrawal_id: int, *, approve: bool, reason: str, actor_id: int) -> Withdrawal:
    """Reject (the amount goes back to the balance) or approve: into the wallet it is
    paid at once; a bank transfer waits for mark_paid()."""
    if not approve:
        if not reason.strip():
            raise ReferralError(_("Say why the withdrawal is rejected."))
        withdrawal = _move_withdrawal(withdrawal_id, "requested", status="rejected",
                                      reason=reason.strip(), decided_by_id=actor_id)
        _entry(withdrawal.user_id, "balance", withdrawal.amount_minor, reason="withdrawal_rejected",
               ref_type="withdrawal_rejected", ref_id=str(withdrawal.id))
        return withdrawal
    from shop.wallet import services as wallet

    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    if withdrawal is None:
        raise ReferralError(_("There is no such withdrawal."))
    if withdrawal.method == "bank":
        return _move_withdrawal(withdrawal_id, "requested", status="approved",
                                reason=reason.strip(), decided_by_id=actor_id)
    withdrawal = _move_withdrawal(withdrawal_id, "requested", status="paid", reason=reason.strip(),
                                  decided_by_id=actor_id)
    wallet.move(withdrawal.user_id, withdrawal.net_minor, reason="commission withdrawal",
                ref_type="withdrawal", ref_id=str(withdrawal.id), actor_id=actor_id)
    return withdrawal


def mark_paid(withdrawal_id: int, *, reference: str, actor_id: int) -> Withdrawal:
    if not reference.strip():
        raise ReferralError(_("Give the transfer's reference."))
    return _move_withdrawal(withdrawal_id, "approved", status="paid", reference=reference.strip(),
                            decided_by_id=actor_id)


# --- receivers --------------------------------------------------------------------------


def _on_placed(order, **_kwargs) -> None:
    """Who stands to earn; points-mall redemptions earn no commission."""
    from shop.referrals import links

    if order.kind == "redemption":
        return
    level1, level2 = _earners(order.user_id)
    snapshot(order, level1, level2, links.cookie_target_for(level1))


lifecycle.join("commissions", placed=_on_placed, paid=lambda order, **_kwargs: earn(order),
               refunded=lambda order, *, key, **_kwargs: reverse(order, key=key))


# --- the distributor centre -------------------------------------------------------------


def _paid_referrals(user_id: int):
    return (select(OrderReferral).join(Order, Order.id == OrderReferral.order_id)
            .where(OrderReferral.level1_id == user_id, Order.status.in_(sorted(PAID_STATUSES))))


def conversion_bp(buyers: int, visitors: int) -> int | None:
    """The conversion of a distributor's links: buyers (distinct paying customers who came
    through them) per distinct visitor of them, in basis points rounded down; None when
    nobody visited (shown as "—"). Never above 100 %: a buyer always visited, but the
    visit is only counted when the page's beacon arrived (not with JavaScript off), so a
    buyer the count missed is taken as one visitor more rather than read as a rate above
    one. The one definition wherever a distributor's conversion is shown."""
    if visitors <= 0:
        return None
    return buyers * 10_000 // max(visitors, buyers)


def link_reach(user_ids: list[int], *, since: datetime | None = None, until: datetime | None = None,
               target: str | None = None) -> dict[int, tuple[int, int, int]]:
    """user id -> (clicks, distinct visitors, buyers) of their share links in one window
    (opens and orders placed in [since, until); all time without bounds), for one page
    (target, e.g. "p42") or all of them; two queries for any number of users. Buyers are
    distinct customers other than the sharer with a paid order placed through one of the
    links (its level-1 earner the sharer, the link's page kept on it: OrderReferral.target)."""
    if not user_ids:
        return {}
    opens = (select(LinkOpen.sharer_id, func.count(), func.count(func.distinct(LinkOpen.visitor)))
             .where(LinkOpen.sharer_id.in_(user_ids)).group_by(LinkOpen.sharer_id))
    orders = (select(OrderReferral.level1_id, func.count(func.distinct(Order.user_id)))
              .join(Order, Order.id == OrderReferral.order_id)
              .where(OrderReferral.level1_id.in_(user_ids), Order.user_id != OrderReferral.level1_id,
                     Order.status.in_(sorted(PAID_STATUSES)),
                     OrderReferral.target.is_not(None) if target is None else OrderReferral.target == target)
              .group_by(OrderReferral.level1_id))
    if target is not None:
        opens = opens.where(LinkOpen.target == target)
    if since is not None:
        opens, orders = opens.where(LinkOpen.created_at >= since), orders.where(Order.created_at >= since)
    if until is not None:
        opens, orders = opens.where(LinkOpen.created_at < until), orders.where(Order.created_at < until)
    seen = {uid: (clicks, visitors) for uid, clicks, visitors in db.session.execute(opens)}
    buyers = dict(db.session.execute(orders).all())
    return {uid: (*seen.get(uid, (0, 0)), buyers.get(uid, 0)) for uid in user_ids}


def figures(user_id: int) -> dict:
    """Since the user began sharing: clicks, unique visitors and buyers of their links,
    the conversion (conversion_bp), the paid orders they are the level-1 earner of (any
    way the buyer came: a link, a binding, their own purchase), balances and team sizes."""
    clicks, visitors, buyers = link_reach([user_id])[user_id]
    orders = db.session.scalar(select(func.count()).select_from(_paid_referrals(user_id).subquery()))
    row = standing(user_id)
    level1 = select(Binding.user_id).where(Binding.referrer_id == user_id, _in_force())
    team1, team2 = db.session.execute(select(
        select(func.count()).select_from(level1.subquery()).scalar_subquery(),
        select(func.count()).select_from(Binding).where(
            Binding.referrer_id.in_(level1), Binding.user_id != user_id, _in_force()).scalar_subquery(),
    )).one()
    return {
        "clicks": clicks, "visitors": visitors, "buyers": buyers, "orders": orders,
        "conversion_bp": conversion_bp(buyers, visitors),
        "pending": row.pending_minor if row else 0, "balance": row.balance_minor if row else 0,
        "withdrawable": max(0, row.balance_minor) if row else 0,
        "debt": max(0, -row.balance_minor) if row else 0,
        "team1": team1, "team2": team2,
    }


def link_figures(user_id: int) -> list[dict]:
    """Per page shared: clicks, visitors and paid orders, most clicked first."""
    opens = db.session.execute(
        select(LinkOpen.target, func.count(), func.count(func.distinct(LinkOpen.visitor)))
        .where(LinkOpen.sharer_id == user_id).group_by(LinkOpen.target)).all()
    orders = dict(db.session.execute(
        select(OrderReferral.target, func.count()).join(Order, Order.id == OrderReferral.order_id)
        .where(OrderReferral.level1_id == user_id, OrderReferral.target.is_not(None),
               Order.status.in_(sorted(PAID_STATUSES)))
        .group_by(OrderReferral.target)).all())
    rows = {target: {"target": target, "clicks": c, "visitors": v, "orders": 0}
            for target, c, v in opens}
    for target, n in orders.items():
        rows.setdefault(target, {"target": target, "clicks": 0, "visitors": 0, "orders": 0})["orders"] = n
    return sorted(rows.values(), key=lambda r: (-r["clicks"], r["target"]))


def team(user_id: int) -> tuple[list[tuple[User, datetime]], list[tuple[User, datetime]]]:
    """Members bound to the user (level 1), and to those (level 2), newest first."""
    in_force = _in_force()
    level1 = db.session.execute(
        select(User, Binding.bound_at).join(Binding, Binding.user_id == User.id)
        .where(Binding.referrer_id == user_id, in_force)
        .order_by(Binding.bound_at.desc()).limit(500)).all()
    ids = [user.id for user, _at in level1]
    level2 = db.session.execute(
        select(User, Binding.bound_at).join(Binding, Binding.user_id == User.id)
        .where(Binding.referrer_id.in_(ids), in_force, Binding.user_id != user_id)
        .order_by(Binding.bound_at.desc()).limit(500)).all() if ids else []
    return [tuple(r) for r in level1], [tuple(r) for r in level2]


def entries(user_id: int, limit: int = 100) -> list[CommissionEntry]:
    return list(db.session.scalars(select(CommissionEntry).where(CommissionEntry.user_id == user_id)
                                   .order_by(CommissionEntry.id.desc()).limit(limit)))


def commissions_of(user_id: int, limit: int = 50) -> list[Commission]:
    return list(db.session.scalars(select(Commission).where(Commission.user_id == user_id)
                                   .order_by(Commission.id.desc()).limit(limit)))


def withdrawals_of(user_id: int, limit: int = 50) -> list[Withdrawal]:
    return list(db.session.scalars(select(Withdrawal).where(Withdrawal.user_id == user_id)
                                   .order_by(Withdrawal.id.desc()).limit(limit)))


def per_sale_minor(user_id: int, sku: Sku | None) -> int:
    """What one unit of this option sold at its price earns this user at level 1, after
    the margin guard (no discounts assumed)."""
    if sku is None:
        return 0
    earned = commission_on([(sku.product_id, sku.id, sku.price_minor)], 1, standing(user_id))
    return min(earned, margin_cap(sku.price_minor, sku.cost_minor))


# --- backoffice -------------------------------------------------------------------------


def distributors(*, status: str = "", page: int = 1):
    """Distributor rows with their users, applications first, then by id."""
    query = (select(Distributor).join(User, User.id == Distributor.user_id)
             .options(joinedload(Distributor.user), joinedload(Distributor.level))
             .order_by((Distributor.status == "applied").desc(), Distributor.user_id.desc()))
    if status:
        query = query.where(Distributor.status == status)
    return db.paginate(query, page=page, per_page=30, error_out=True, count=True)


def withdrawals(*, status: str = "", page: int = 1):
    query = (select(Withdrawal).options(joinedload(Withdrawal.distributor).joinedload(Distributor.user))
             .order_by(Withdrawal.id.desc()))
    if status:
        query = query.where(Withdrawal.status == status)
    return db.paginate(query, page=page, per_page=30, error_out=True, count=True)


def commissions(*, page: int = 1):
    query = (select(Commission).options(joinedload(Commission.distributor).joinedload(Distributor.user))
             .order_by(Commission.id.desc()))
    return db.paginate(query, page=page, per_page=30, error_out=True, count=True)


def rates_of(product_id: int) -> list[CommissionRate]:
    return list(db.session.scalars(select(CommissionRate).where(CommissionRate.product_id == product_id)
                                   .order_by(CommissionRate.sku_id.is_not(None), CommissionRate.sku_id)))


def save_rate(product: Product, sku_id: int | None, *, level1_bp: int, level2_bp: int) -> CommissionRate:
    """Set the override of the product (sku_id None) or of one of its SKUs."""
    if sku_id is not None and sku_id not in {sku.id for sku in product.skus}:
        raise ReferralError(_("This SKU is not one of the product's."), field="sku_id")
    check_pool(level1_bp, level2_bp)
    rate = db.session.scalar(select(CommissionRate).where(
        CommissionRate.product_id == product.id,
        CommissionRate.sku_id.is_(None) if sku_id is None else CommissionRate.sku_id == sku_id))
    if rate is None:
        rate = CommissionRate(product_id=product.id, sku_id=sku_id)
        db.session.add(rate)
    rate.level1_bp, rate.level2_bp = level1_bp, level2_bp
    db.session.flush()
    return rate


def delete_rate(product_id: int, rate_id: int) -> None:
    rate = db.session.get(CommissionRate, rate_id)
    if rate is None or rate.product_id != product_id:
        raise ReferralError(_("There is no such rate."))
    db.session.delete(rate)
    db.session.flush()


# --- account closure (shop.accounts.closure) ---------------------------------------------


@account_closure_blockers.connect
def _closure_blockers(user, **_kwargs) -> list:
    """Commissions pending, withdrawable or being paid out block closing (they are the
    person's money)."""
    from shop.accounts.closure import Blocker

    row = standing(user.id)
    if row is None:
        return []
    found = []
    if row.pending_minor > 0 or row.balance_minor > 0:
        found.append(Blocker(_("You have commissions still pending or to withdraw: once they "
                               "are settled and withdrawn, you can close your account."),
                             ((_("Commissions and ledger"), "referrals.ledger", {}),)))
    if db.session.scalar(select(Withdrawal.id).where(
            Withdrawal.user_id == user.id,
            Withdrawal.status.in_(("requested", "approved"))).limit(1)):
        found.append(Blocker(_("A withdrawal of yours is being paid: once it is paid, you can "
                               "close your account."),
                             ((_("Distributor centre"), "referrals.centre", {}),)))
    return found


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """Their bindings (to their referrer, and their referees' to them: those shoppers are
    free to be bound again), the opens of their links and what they gave when applying
    (name, number, pitch) and the bank account of their withdrawals are erased (once
    _closure_blockers found nothing). Commissions, their entries and withdrawals stay for
    the books, and the code binds nobody (sharer_of refuses an inactive account)."""
    _serialise_bindings()
    for statement in (delete(Binding).where(or_(Binding.user_id == user.id,
                                                Binding.referrer_id == user.id)),
                      delete(LinkOpen).where(LinkOpen.sharer_id == user.id),
                      update(Distributor).where(Distributor.user_id == user.id)
                      .values(real_name="", phone="", pitch="", decision_reason=""),
                      update(Withdrawal).where(Withdrawal.user_id == user.id).values(account="")):
        db.session.execute(statement.execution_options(synchronize_session=False))
