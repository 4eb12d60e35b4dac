"""Wallet rules. move() is the one way a balance changes, through shop.db.ledger_move:
a guarded UPDATE (a debit only where the balance covers it) and its ledger row. Services flush and
raise WalletError; they never commit."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from shop.db import db, insert_missing, ledger_move
from shop.money import format_minor
from shop.payments import services as payments
from shop.signals import account_closure_blockers
from shop.wallet.models import RechargePackage, Wallet, WalletEntry


class WalletError(ValueError):
    pass


def _ensure_wallet(user_id: int) -> None:
    """Create the wallet row if missing; racing creators do not fail (ON CONFLICT)."""
    insert_missing(Wallet, "user_id", user_id=user_id,
                   currency=current_app.config["SHOP_CURRENCY"], balance_minor=0)


def balance(user_id: int) -> int:
    return db.session.scalar(select(Wallet.balance_minor).where(Wallet.user_id == user_id)) or 0


def move(user_id: int, amount_minor: int, *, reason: str, ref_type: str, ref_id: str,
         actor_id: int | None = None) -> int:
    """Add `amount_minor` (negative to debit) with its ledger row; returns the balance."""
    if amount_minor == 0:
        raise WalletError(_("The amount must not be zero."))
    _ensure_wallet(user_id)
    return ledger_move(
        Wallet.balance_minor, [Wallet.user_id == user_id], amount_minor,
        lambda balance: WalletEntry(user_id=user_id, amount_minor=amount_minor,
                                    balance_after_minor=balance, reason=reason,
                                    ref_type=ref_type, ref_id=ref_id, actor_id=actor_id),
        error=WalletError, refused=_("Your wallet balance is not enough."),
        duplicate=_("This wallet change was already recorded."),
    )


def history(user_id: int, limit: int = 100) -> list[WalletEntry]:
    return list(db.session.scalars(select(WalletEntry).where(WalletEntry.user_id == user_id)
                                   .order_by(WalletEntry.id.desc()).limit(limit)))


# --- recharge packages ------------------------------------------------------------------


def packages(*, active_only: bool = True) -> list[RechargePackage]:
    query = select(RechargePackage).order_by(RechargePackage.pay_minor, RechargePackage.id)
    if active_only:
        query = query.where(RechargePackage.active.is_(True))
    return list(db.session.scalars(query))


def add_package(pay_minor: int, credit_minor: int) -> RechargePackage:
    if pay_minor <= 0 or credit_minor < pay_minor:
        raise WalletError(_("A package gives at least what is paid."))
    package = RechargePackage(pay_minor=pay_minor, credit_minor=credit_minor, active=True)
    db.session.add(package)
    db.session.flush()
    return package


def start_recharge(user_id: int, package_id: int):
    """A card payment for an active package; the wallet is credited when it succeeds. The
    shopper's wallet row is locked first, so two recharges started at once are numbered
    one after the other (the key: user-<id>-recharge-<n>)."""
    package = db.session.get(RechargePackage, package_id)
    if package is None or not package.active:
        raise WalletError(_("This recharge package is not offered any more."))
    _ensure_wallet(user_id)
    db.session.execute(select(Wallet.user_id).where(Wallet.user_id == user_id).with_for_update())
    try:
        return payments.start_card_payment(
            user_id=user_id, purpose="recharge", amount_minor=package.pay_minor,
            credit_minor=package.credit_minor, currency=current_app.config["SHOP_CURRENCY"],
            description=f"Wallet recharge {package.id}",
            key=payments.next_key(user_id=user_id, purpose_name="recharge"))
    except payments.PaymentError as exc:
        raise WalletError(str(exc)) from None


def _recharged(payment) -> None:
    """A recharge was paid: credit what the package promised, once (ref: the payment)."""
    move(payment.user_id, payment.credit_minor, reason="recharge", ref_type="recharge",
         ref_id=str(payment.id), actor_id=payment.user_id)


# A recharge is for nothing but itself: its payment row is the first lock, the wallet next.
payments.purpose("recharge", lock=lambda payment: None, succeeded=_recharged)


@account_closure_blockers.connect
def _closure_blockers(user, *, lock: bool = False, **_kwargs) -> list:
    """Money in the wallet blocks closing (it is the person's: spent, or refunded by the
    shop, first); when closing, the wallet stays locked so none comes in meanwhile. The
    wallet and its entries stay for the books (shop.accounts.closure)."""
    from shop.accounts.closure import Blocker

    query = select(Wallet.balance_minor).where(Wallet.user_id == user.id)
    held = db.session.scalar(query.with_for_update() if lock else query)
    if not held or held <= 0:
        return []
    return [Blocker(_("Your wallet still holds %(amount)s: spend it, or ask us to refund it, "
                      "before closing your account.",
                      amount=format_minor(held, current_app.config["SHOP_CURRENCY"])),
                    ((_("Wallet"), "wallet.view", {}),))]
