"""Wallet rules. move() is the one way a balance changes: a guarded UPDATE (a debit only
where the balance covers it) and its ledger row, in one savepoint. Services flush and
raise WalletError; they never commit."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from shop.db import db
from shop.wallet.models import Wallet, WalletEntry


class WalletError(ValueError):
    pass


def _ensure_wallet(user_id: int) -> None:
    """Create the wallet row if missing; racing creators do not fail (ON CONFLICT)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(Wallet).values(user_id=user_id, currency=current_app.config["SHOP_CURRENCY"],
                              balance_minor=0).on_conflict_do_nothing(index_elements=["user_id"])
    )


def balance(user_id: int) -> int:
    return db.session.scalar(select(Wallet.balance_minor).where(Wallet.user_id == user_id)) or 0


def move(user_id: int, amount_minor: int, *, reason: str, ref_type: str, ref_id: str,
         actor_id: int | None = None) -> int:
    """Add `amount_minor` (negative to debit) with its ledger row; returns the balance."""
    if amount_minor == 0:
        raise WalletError(_("The amount must not be zero."))
    try:
        with db.session.begin_nested():
            _ensure_wallet(user_id)
            new_balance = db.session.execute(
                update(Wallet)
                .where(Wallet.user_id == user_id, Wallet.balance_minor + amount_minor >= 0)
                .values(balance_minor=Wallet.balance_minor + amount_minor)
                .returning(Wallet.balance_minor)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if new_balance is None:
                raise WalletError(_("Your wallet balance is not enough."))
            db.session.add(WalletEntry(user_id=user_id, amount_minor=amount_minor,
                                       balance_after_minor=new_balance, reason=reason,
                                       ref_type=ref_type, ref_id=ref_id, actor_id=actor_id))
    except IntegrityError:
        raise WalletError(_("This wallet change was already recorded.")) from None
    return new_balance


def history(user_id: int, limit: int = 100) -> list[WalletEntry]:
    return list(db.session.scalars(select(WalletEntry).where(WalletEntry.user_id == user_id)
                                   .order_by(WalletEntry.id.desc()).limit(limit)))
