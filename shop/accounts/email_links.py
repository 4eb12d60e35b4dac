"""Links sent by email: signing in (or up) by a magic link, resetting a forgotten
password, confirming an email added to an account (the pages: shop.accounts.email_views).

- A link carries a token signed with SECRET_KEY by itsdangerous (URLSafeTimedSerializer,
  one salt per kind, so a token of one kind is no token of another) with the time it was
  made: it lives MAGIC_LINK_MINUTES, PASSWORD_RESET_MINUTES or EMAIL_CONFIRM_HOURS. Its
  payload is readable by whoever holds it (the address it was sent to and a fingerprint),
  never writable.
- A link works once without a table of tokens: it carries an HMAC (SECRET_KEY) of the
  columns of the account that using it changes (Kind.state), and the account must still
  hold those values when it is used, checked in the guarded UPDATE that uses it (of two
  parallel uses one wins). So a sign-in link dies once the account signs in by any way
  (last_signin_at moves), signs out everywhere or changes its password; a reset link
  once the password changes; a confirmation link once the account has an email. A
  sign-in link for an address with no account carries the HMAC of "no account": the
  link makes the account (the click proves the address), and then no longer fits.
- An address typed at /register is only the registrant's word: anyone may type someone
  else's. Opening a link sent to it proves it (email_verified_at): a sign-in link, a
  reset link, or the confirmation link, which /register sends and the account page
  sends again. Until then the registrant signs in with the password as usual. When a
  sign-in or reset link proves the address of an account nobody had proven, whoever
  opened it owns the address but may not be who registered it (someone may have
  registered it first to get into the account its owner would use later): every way in
  set before goes, the password (a reset sets the new one instead), the passkeys and
  every session, and the page says so. The confirmation link of an address typed at
  /register is used only by a session signed in to its account, so it vouches for the
  password of the one who proves the address; its owner, who does not know that
  password, is sent to sign in by a link instead.
- Asking for a link: limits per email, per network address and in all (EMAIL_LINK_*),
  counted before anything is sent; the same answer and the same work in the request
  whoever the address belongs to: it only enqueues a job, and the job looks the account
  up and sends the mail, or nothing (a reset for an address without a password, any
  link for a disabled account). With a queue (REDIS_URL) the response does not wait
  for the mail; inline (the default run) it does.
- Nothing changes on GET: the link's page has one button (or the new-password form),
  which also keeps mail scanners that open every link from using them up.

Services flush, never commit."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_mail import Message
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from shop import jobs, ratelimit
from shop.accounts.models import Passkey, User
from shop.accounts.services import (AccountError, default_nickname, end_sessions, hash_password,
                                    normalise_email)
from shop.db import db, utcnow
from shop.extensions import mail
from shop.signals import user_registered
from shop.web.templating import absolute_url

PER_EMAIL, PER_ADDRESS, DAILY_CAP = (
    "EMAIL_LINK_RATE_LIMIT", "EMAIL_LINK_IP_RATE_LIMIT", "EMAIL_LINK_DAILY_CAP")


@dataclass(frozen=True)
class Kind:
    name: str
    lifetime_key: str  # the configuration key of its lifetime
    unit_seconds: int  # of that lifetime
    endpoint: str  # the page the link opens
    state: tuple  # the User columns whose values the link fits: using it changes one

    def lifetime(self) -> int:
        return current_app.config[self.lifetime_key] * self.unit_seconds


SIGNIN = Kind("signin", "MAGIC_LINK_MINUTES", 60, "accounts.signin_email_link",
              (User.email, User.email_verified_at, User.password_hash, User.session_version,
               User.last_signin_at))
RESET = Kind("reset", "PASSWORD_RESET_MINUTES", 60, "accounts.password_reset",
             (User.email, User.email_verified_at, User.password_hash, User.session_version))
CONFIRM = Kind("confirm", "EMAIL_CONFIRM_HOURS", 3600, "accounts.confirm_email",
               (User.email, User.email_verified_at))
KINDS = {kind.name: kind for kind in (SIGNIN, RESET, CONFIRM)}


class LinkError(AccountError):
    """A refusal, with the status of its page: 429 past a limit on asking for links (and
    retry_after, in seconds), 400 a tampered link, 410 an expired or used one, 403 a
    disabled account's, 409 an address another account took meanwhile."""

    def __init__(self, message: str, status: int, retry_after: int = 0):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def _serializer(kind: Kind) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"email-link-{kind.name}")


def _fingerprint(kind: Kind, user: User | None, email: str) -> str:
    values = ["none", email] if user is None else [user.id] + [
        getattr(user, column.key) for column in kind.state]
    text = "\x1f".join("" if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v)
                       for v in values)
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind.name}\x1f{text}".encode(), hashlib.sha256).hexdigest()[:32]


def make_token(kind: Kind, user: User | None, email: str, next_url: str = "") -> str:
    payload = {"e": email, "f": _fingerprint(kind, user, email)}
    if user is not None:
        payload["u"] = user.id
    if next_url:
        payload["n"] = next_url
    return _serializer(kind).dumps(payload)


# --- asking for a link ------------------------------------------------------------------


def _refused(config_key: str, who: str) -> LinkError:
    seconds = ratelimit.retry_after(config_key, who) or 60
    return LinkError(_("Too many emails asked for. Try again in %(num)d min.",
                       num=-(-seconds // 60)), 429, retry_after=seconds)


def ask_for_link(kind: Kind, raw_email: str, address: str, next_url: str = "",
                 user: User | None = None) -> str:
    """Have a link of `kind` mailed to the address once the transaction commits (the job
    decides whether there is anything to send); the address, normalised. Past a limit:
    LinkError 429 with retry_after (seconds), nothing sent. For CONFIRM, `user` is the
    account the address is to be added to, or whose address it is to confirm; an
    address of another account is refused (409: /register says as much already)."""
    email = normalise_email(raw_email)
    for config_key, who in ((PER_EMAIL, "email:" + email), (PER_ADDRESS, "ip:" + address),
                            (DAILY_CAP, "all")):
        if not ratelimit.take_in_turn(config_key, who):
            raise _refused(config_key, who)
    if kind is CONFIRM:  # said before a mail is sent whose link could only fail
        owner = _account(email)
        if owner is not None and owner.id != user.id:
            raise LinkError(_("Another account signs in with this email address. Sign in to "
                              "it with the address, or add another one."), 409)
    jobs.enqueue(send_link, kind.name, email, next_url, user.id if user else None,
                 str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]))
    return email


def _account(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _confirmable(user: User | None, email: str) -> bool:
    """A confirmation of `email` is for this account: it has no email yet (one is added),
    or has that one, not proven yet."""
    return user is not None and user.email in (None, email) and user.email_verified_at is None


def send_link(kind_name: str, email: str, next_url: str, user_id: int | None, locale: str) -> None:
    """Job: the link to the address, in the language it was asked for in; nothing for a
    disabled account, a reset of an account without a password (or none), a confirmation
    for an account that has another email by now, or this one proven."""
    kind = KINDS[kind_name]
    user = db.session.get(User, user_id) if kind is CONFIRM else _account(email)
    if user is not None and not user.active:
        return
    if (kind is RESET and (user is None or not user.has_password)) or (
            kind is CONFIRM and not _confirmable(user, email)):
        return
    link = absolute_url(kind.endpoint, token=make_token(kind, user, email, next_url))
    with force_locale(locale):
        subject = {SIGNIN: _("Your sign-in link"), RESET: _("Reset your password"),
                   CONFIRM: _("Confirm your email address")}[kind]
        body = render_template(f"emails/{kind.name}_link.txt", link=link, user=user,
                               num=current_app.config[kind.lifetime_key])
    mail.send(Message(subject=subject, recipients=[email], body=body))


# --- using a link -----------------------------------------------------------------------


def _used() -> LinkError:
    return LinkError(_("This link has been used already, or your account has changed since "
                       "it was sent. Ask for a new one."), 410)


@dataclass
class Link:
    kind: Kind
    email: str
    user: User | None  # the account it is for (None: a sign-in link that makes one)
    next_url: str


def check(kind: Kind, token: str) -> Link:
    """What a link is for, if it can still be used (changes nothing). LinkError otherwise."""
    try:
        payload = _serializer(kind).loads(token, max_age=kind.lifetime())
    except SignatureExpired:
        raise LinkError(_("This link has expired. Ask for a new one."), 410) from None
    except BadData:
        raise LinkError(_("This link is not valid. Check that you opened the whole link from "
                          "the email, or ask for a new one."), 400) from None
    email = payload["e"]
    user = db.session.get(User, payload["u"]) if "u" in payload else _account(email)
    if user is not None and not user.active:  # closed by its owner, or disabled
        raise LinkError(_("This account is closed.") if user.closed_at else
                        _("This account is disabled."), 403)
    if not hmac.compare_digest(_fingerprint(kind, user, email), payload["f"]):
        raise _used()
    if (kind is RESET and not user.has_password) or (
            kind is CONFIRM and not _confirmable(user, email)):
        raise _used()  # never made so: a reset is for a password, an email is proven once
    return Link(kind, email, user, payload.get("n", ""))


def _use(link: Link, **values) -> None:
    """Change the account as the link says, if it still holds the values the link fits
    (a guarded UPDATE: of two parallel uses one changes a row, the other is refused)."""
    user = link.user
    fits = [User.id == user.id, User.active.is_(True)] + [
        column.is_(None) if getattr(user, column.key) is None else column == getattr(user, column.key)
        for column in link.kind.state]
    done = db.session.execute(update(User).where(*fits).values(**values)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise _used()
    db.session.refresh(user)


@dataclass(frozen=True)
class Removed:
    """What went when a link proved the address of an account nobody had proven: the
    ways in that whoever registered it had set."""
    password: bool = False
    passkeys: int = 0


def _prove(link: Link, **values) -> Removed:
    """Use a sign-in or reset link, `values` and all: opening it proved the address. An
    account whose address was not proven yet loses every way in set before: its password
    (unless `values` sets the new one), its passkeys, its sessions (the caller signs this
    one in)."""
    user = link.user
    if user.email_verified_at is not None:
        _use(link, **values)
        return Removed()
    had_password = user.has_password
    values.setdefault("password_hash", "")
    _use(link, email_verified_at=utcnow(), session_version=user.session_version + 1, **values)
    passkeys = db.session.execute(delete(Passkey).where(Passkey.user_id == user.id)
                                  .execution_options(synchronize_session=False)).rowcount
    return Removed(password=had_password, passkeys=passkeys)


@dataclass
class SignedIn:
    user: User
    created: bool
    next_url: str
    removed: Removed  # what went because the link proved an address nobody had proven


def sign_in(token: str) -> SignedIn:
    """The account of the link's address, signed in (made if there is none: the click
    proves the address). LinkError, nothing changed, for a link that cannot be used."""
    link = check(SIGNIN, token)
    created = link.user is None
    if created:
        link.user = _new_account(link.email)
    removed = _prove(link, last_signin_at=utcnow())
    return SignedIn(link.user, created, link.next_url, removed)


def _new_account(email: str) -> User:
    """An account for the address: no password (it signs in by links or a code until it
    sets one), a nickname that does not show the address, which the shopper may change."""
    user = User(email=email, email_verified_at=utcnow(), password_hash="",
                nickname=default_nickname(), role="shopper")
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise _used() from None  # the address's account was made meanwhile
    user_registered.send(user, invite="")
    return user


def reset_password(token: str, new_password: str) -> tuple[User, Removed]:
    """The new password for the link's account; every session of the account ends (the
    caller signs this one in); and what went with the password set before the address
    was proven. LinkError, nothing changed, for a link that cannot be used."""
    link = check(RESET, token)
    removed = _prove(link, password_hash=hash_password(new_password), last_signin_at=utcnow())
    end_sessions(link.user)
    return link.user, removed


def needs_signing_in(link: Link, signed_in: User | None) -> bool:
    """A confirmation of the address an account was registered with is used only by a
    session of that account: the one who proves the address also knows its password
    (an account made by phone adds an address from any device: its number proved it)."""
    return link.user.email is not None and (signed_in is None or signed_in.id != link.user.id)


class SignInFirst(LinkError):
    """A registered address's confirmation used by another session than its account's."""

    def __init__(self, link: Link):
        super().__init__(_("Sign in to this account first, then confirm the email."), 403)
        self.link = link


def confirm_email(token: str, signed_in: User | None) -> User:
    """The link's address becomes the account's email (a way in by magic link, and with
    a password), proven. LinkError, nothing changed, for a link that cannot be used, a
    registered address's link used by another session than its account's (403), or an
    address that another account has taken meanwhile."""
    link = check(CONFIRM, token)
    if needs_signing_in(link, signed_in):
        raise SignInFirst(link)
    try:
        with db.session.begin_nested():
            _use(link, email=link.email, email_verified_at=utcnow())
    except IntegrityError:
        raise LinkError(_("This email address belongs to another account now."), 409) from None
    return link.user
