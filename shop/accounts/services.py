"""Accounts: register, authenticate, edit the profile. Services flush, never commit."""

from __future__ import annotations

import functools
import secrets

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from shop.signals import profile_updated, user_registered
from shop.accounts.models import ROLES, User
from shop.db import db, utcnow
from shop import text
from shop.media.services import StoredImage, forget_files

def _method() -> str:
    """How passwords are hashed: PASSWORD_METHOD, Werkzeug's scrypt (n=2**15, r=8, p=1:
    memory-hard, no extra dependency) everywhere but the tests' configuration."""
    return current_app.config["PASSWORD_METHOD"]


@functools.cache
def _dummy_hash(method: str) -> str:
    """Compared against when the email is unknown, so both paths cost one hash. Made on
    first use, not at import (every worker and CLI command would pay for it)."""
    return generate_password_hash("not-a-password", method=method)


class AccountError(ValueError):
    """A refusal; `field` names the form field it is about."""

    def __init__(self, message: str, field: str = "email"):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    """NFKC, trimmed, lower case: `ＡＤＭＩＮ@example.com` is `admin@example.com`."""
    return text.normalise_email(email)


def default_nickname() -> str:
    """The nickname of an account made by a code or a link ("用户4821"), which the shopper
    may change: 4 random digits, never from the number or the address (it shows on
    group and bargain pages)."""
    digits = f"{secrets.randbelow(10 ** 4):04d}"
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _("User %(digits)s", digits=digits)[:32]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


def register_user(email: str, password: str, nickname: str, role: str = "shopper",
                  invite: str = "") -> User:
    """Create an account. The unique key on email settles races; no count-then-insert.
    Receivers of user_registered may refuse it with AccountError (a bad invitation code)."""
    if role not in ROLES:
        raise AccountError(_("Unknown role."))
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        nickname=nickname.strip(),
        role=role,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise AccountError(_("An account with this email already exists.")) from None
    user_registered.send(user, invite=invite.strip().upper())
    return user


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    user = user_by_email(email)
    if user is None or not user.password_hash:  # unknown, or made by phone: no password
        check_password_hash(_dummy_hash(_method()), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_signin_at = utcnow()
    return user


def update_profile(
    user: User, nickname: str, phone: str | None, avatar: StoredImage | None = None
) -> User:
    user.nickname = nickname.strip()
    user.phone = (phone or "").strip() or None
    if avatar is not None:
        if user.avatar_key:
            forget_files(user.avatar_key, user.avatar_widths)
        user.avatar_key = avatar.key
        user.avatar_widths = ",".join(str(w) for w in avatar.widths)
    db.session.flush()
    profile_updated.send(user)
    return user

def end_sessions(user: User) -> None:
    """Every session of the account ends, on every device (its session version moves on:
    a cookie saved before no longer signs anyone in)."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user, ["session_version"])


def still_current(user: User) -> bool:
    """Lock the account's row (until the transaction ends) and tell whether it still
    holds the session version `user` was loaded with: False once every session of it
    ended meanwhile (signed out everywhere, a new password, a link that proved its
    address and removed the ways in set before). A change that adds a way in checks it,
    so a request begun before such an end adds nothing after it (on PostgreSQL the lock
    waits for the transaction that ends them, and then reads its version)."""
    return db.session.scalar(select(User.id).where(
        User.id == user.id, User.session_version == user.session_version)
        .with_for_update()) is not None


def changed_meanwhile() -> AccountError:
    return AccountError(_("Your account changed meanwhile: sign in again."), field="current")


def change_password(user: User, current: str, new: str) -> None:
    """A new password, once the current one is given; every other session of the account
    ends (the caller signs this one in again)."""
    if not user.password_hash:
        raise AccountError(_("This account has no password: it signs in with a code sent "
                             "to its phone."), field="current")
    if not check_password_hash(user.password_hash, current):
        raise AccountError(_("The current password is wrong."), field="current")
    if not still_current(user):
        raise changed_meanwhile()
    user.password_hash = hash_password(new)
    db.session.flush()
    end_sessions(user)


def set_password(user: User, new: str) -> None:
    """A first password for an account that has none (made by phone or by a sign-in
    link); it signs in with its email and the password, so it needs an email first.
    Nothing is replaced, so no session ends."""
    if user.has_password:
        raise AccountError(_("This account has a password already: change it instead."),
                           field="password")
    if not user.email:
        raise AccountError(_("Add an email first: you sign in with it and the password."),
                           field="password")
    user.password_hash = hash_password(new)
    db.session.flush()


def set_active(user: User, active: bool) -> None:
    """Disable an account (its sessions end, it can not sign in) or enable it again; a
    closed account (shop.accounts.closure) is never enabled again."""
    if active and user.closed_at is not None:
        raise AccountError(_("This account was closed by its owner: it can not be "
                             "enabled again."))
    user.active = active
    db.session.flush()
    if not active:
        end_sessions(user)


def editors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "editor")
                                   .order_by(User.nickname, User.id)))


def toggle_publishing(user_id: int) -> User:
    """Give an editor the publishing right, or take it back."""
    user = db.session.get(User, user_id)
    if user is None or user.role != "editor":
        raise AccountError(_("There is no such editor."))
    user.can_publish = not user.can_publish
    db.session.flush()
    return user
