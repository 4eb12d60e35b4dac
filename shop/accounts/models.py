from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import TimestampMixin, UTCDateTime, db

ROLES = ("shopper", "editor", "staff", "admin")
BACKOFFICE_ROLES = ("editor", "staff", "admin")
ROLE_LABELS = {"shopper": _l("Shopper"), "editor": _l("Editor"), "staff": _l("Store staff"),
               "admin": _l("Admin")}
# Referral codes: no 0/O, 1/I/L, so a code read aloud or typed from a poster survives.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_referral_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('shopper', 'editor', 'staff', 'admin')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an account made by phone (shop.accounts.phone) that has given no email.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # When the owner of `email` proved it by opening a link sent to it (a sign-in link,
    # a password reset, the confirmation): None while it is only typed, as /register
    # takes it. Proving it removes the password and passkeys set before (they were set
    # by whoever typed the address, maybe not its owner: shop.accounts.email_links).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "" for an account without a password (made by phone): no password ever matches it.
    password_hash: Mapped[str] = mapped_column(String(255))
    nickname: Mapped[str] = mapped_column(String(32))
    # A contact number the shopper types on the profile, never checked: not a way in.
    phone: Mapped[str | None] = mapped_column(String(20))
    # The number this account signs in with (E.164, e.g. +8613800138000), set only by a
    # code sent to it (shop.accounts.phone), so typing someone's number on a profile
    # never opens their way in. Unique: one account a number.
    signin_phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    avatar_key: Mapped[str | None] = mapped_column(String(32))
    avatar_widths: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16), default="shopper")
    active: Mapped[bool] = mapped_column(default=True)
    # An editor with the publishing right publishes and unpublishes articles (admins
    # always may); without it, an editor's articles go to review.
    can_publish: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Carried by every share link of this user (shop.referrals): 31**8 codes, unique.
    referral_code: Mapped[str] = mapped_column(String(8), unique=True, default=new_referral_code)
    # Every session of the account carries it (get_id()); signing out, changing the
    # password or the account being disabled adds one, and every session made before,
    # on any device, is over (shop.create_app's user loader compares them).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the shopper closed the account (shop.accounts.closure): its personal data are
    # erased, it is inactive for good (set_active refuses to enable it again), and its
    # row stays only so the orders and ledgers kept for the books still point somewhere.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """What a session holds of its account: "<id>.<session version>"."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def email_unverified(self) -> bool:
        """An email nobody has proven yet (typed at /register)."""
        return self.email is not None and self.email_verified_at is None

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[self.role])

    @property
    def may_publish(self) -> bool:
        return self.role == "admin" or (self.role == "editor" and self.can_publish)

    @property
    def in_backoffice(self) -> bool:
        return self.role in BACKOFFICE_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PhoneCode(db.Model):
    """A 6-digit sign-in code sent to a number: only its HMAC is kept (never the code),
    it is valid until expires_at, and used once (used_at; also set on the codes a newer
    one replaces). Wrong guesses are counted by the rate limiter (PHONE_CODE_GUESS_LIMIT,
    per code), not here: a refused attempt's transaction is rolled back."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Passkey(db.Model):
    """A passkey (a WebAuthn credential) an account signs in with (shop.accounts.passkeys).
    Only its public key is kept; the private key never leaves the shopper's phone or its
    password manager. credential_id and user_handle are base64url (no padding), as the
    browser sends them; sign_count is what the authenticator last reported (0 for most
    synced passkeys, which do not count); last_used_at also makes each sign-in's
    challenge single use (a challenge issued before the passkey's last use is refused)."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # A credential id is at most 1023 bytes (WebAuthn §5.1): 1364 base64url characters.
    credential_id: Mapped[str] = mapped_column(String(1364), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # The random handle the authenticator keeps for the account (never its id or email):
    # the same for every passkey of an account, checked against the one a sign-in returns.
    user_handle: Mapped[str] = mapped_column(String(88))
    transports: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
