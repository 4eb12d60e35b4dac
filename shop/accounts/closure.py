"""Closing an account: the shopper's personal data are erased or anonymised, what the books
need is kept (China's PIPL art. 47 and the GDPR art. 17 both let a shop keep what the law
on accounting requires, and nothing more).

- Who: a shopper, from their own account page. A backoffice account (editor, staff,
  admin) is refused: its name is on articles, audit entries and decisions, and an admin
  disables it instead (shop.customers).
- Confirmation: the account's password; an account without one (made by phone) types
  the confirmation word shown on the page ("CLOSE", or its translation). Wrong
  confirmations are counted by the view like wrong passwords at sign-in.
- Refusals: blockers() lists what still needs the person, each domain answering
  shop.signals.account_closure_blockers for its own (an order not yet completed,
  cancelled or refunded; money in the wallet; commissions pending, to withdraw, or a
  withdrawal being paid). The close page shows them before its form, and closing
  asks again (locking what it reads) and is refused (Blocked) while any is left; then
  every domain's receiver of shop.signals.account_closing erases or anonymises its
  rows about them. All of it runs in one savepoint: a refusal anywhere leaves
  everything as it was.
- Here, last: the account's own rows. The users row stays (the orders and ledgers kept
  for the books point at it) with nothing personal left: no email (nor when it was
  confirmed), no numbers, no password, no avatar, a nickname that says "Closed
  account"; it is inactive for good (set_active refuses to enable it) and every
  session of it ends. Its referral code is kept so it is never given to anyone else,
  and binds nobody (shop.referrals.sharer_of refuses an inactive account). Sign-in codes sent to its number are erased: the number
  is free again, and a code sent to it later makes a new, empty account.

Services flush, never commit."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete
from werkzeug.security import check_password_hash

from shop.accounts.models import PhoneCode, User
from shop.accounts.services import AccountError, end_sessions
from shop.db import db, utcnow
from shop.media.services import forget_files
from shop.signals import account_closing, account_closure_blockers

# What an account without a password types to confirm (shown translated; either form is
# accepted, so a shopper reading the Chinese page may type the English word too).
CONFIRM_WORD = "CLOSE"


class WrongConfirmation(AccountError):
    """The password or the word given to confirm is wrong (counted like a wrong password)."""


@dataclass(frozen=True)
class Blocker:
    """Something that still needs the person, and where to see to it: links are
    (label, endpoint, url_for's arguments)."""

    message: str
    links: tuple[tuple[str, str, dict], ...] = ()


class Blocked(AccountError):
    """Closing is refused while something still needs the person (`blockers`)."""

    def __init__(self, found: list[Blocker]):
        super().__init__(" ".join(blocker.message for blocker in found))
        self.blockers = found


def blockers(user: User, *, lock: bool = False) -> list[Blocker]:
    """What still needs the person before the account can close ([] if nothing): one
    answer per domain (shop.signals.account_closure_blockers). lock=True (closing)
    locks what is read until the transaction ends, so nothing comes in meanwhile."""
    return [blocker for _receiver, found in account_closure_blockers.send(user, lock=lock)
            for blocker in found]


def confirm_word() -> str:
    return _("CLOSE")


def _same_word(typed: str) -> bool:
    typed = unicodedata.normalize("NFKC", typed or "").strip().casefold()
    return bool(typed) and typed in {CONFIRM_WORD.casefold(), confirm_word().casefold()}


def check_confirmation(user: User, *, password: str = "", word: str = "") -> None:
    """AccountError (field "password" or "word") unless the shopper confirmed."""
    if user.has_password:
        if not check_password_hash(user.password_hash, password or ""):
            raise WrongConfirmation(_("The password is wrong."), field="password")
    elif not _same_word(word):
        raise WrongConfirmation(_("Type %(word)s to confirm.", word=confirm_word()), field="word")


def may_close(user: User) -> None:
    """AccountError unless this account may be closed from its own page at all."""
    if user.is_closed:
        raise AccountError(_("This account is already closed."))
    if user.in_backoffice:
        raise AccountError(_("A backoffice account can not be closed here: an admin "
                             "disables it."))


def close_account(user: User, *, password: str = "", word: str = "") -> None:
    """Close the account, once confirmed; AccountError (nothing changed) when the
    confirmation is wrong or something still needs the person."""
    may_close(user)
    check_confirmation(user, password=password, word=word)
    with db.session.begin_nested():
        found = blockers(user, lock=True)
        if found:
            raise Blocked(found)
        account_closing.send(user)
        _erase_own(user)
    end_sessions(user)


def _erase_own(user: User) -> None:
    if user.signin_phone:
        db.session.execute(delete(PhoneCode).where(PhoneCode.phone == user.signin_phone)
                           .execution_options(synchronize_session=False))
    if user.avatar_key and user.avatar_widths:
        forget_files(user.avatar_key, user.avatar_widths)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        nickname = _("Closed account")
    user.email = user.phone = user.signin_phone = None
    user.email_verified_at = None
    user.avatar_key = user.avatar_widths = None
    user.nickname = nickname[:32]
    user.password_hash = ""
    user.active = False
    user.can_publish = False
    user.last_signin_at = None
    user.closed_at = utcnow()
    db.session.flush()
