"""Signing in or up with a phone number and a 6-digit code sent to it by SMS.

- Numbers are parsed with `phonenumbers`: a bare number is mainland China's (+86),
  others are typed with + and their country code; they are kept in E.164.
- A code lives 5 minutes, is used once (a guarded UPDATE ... WHERE used_at IS NULL:
  of two parallel uses one wins) and only its HMAC (SECRET_KEY) is stored; a new code
  replaces the number's earlier ones. It is compared in constant time.
- Limits (shop.ratelimit, counted atomically before anything is sent): codes per
  number, per address and in all (PHONE_CODE_*); wrong tries per code
  (PHONE_CODE_GUESS_LIMIT): past it the code is burnt, the right one refused too.
- Asking for a code says the same whether the number has an account or not; the right
  code signs in the account of that number (signin_phone) or makes one. An account made
  by email adds a number the same way (add_signin_phone), so a later sign-in by phone
  finds it; a number of another account is refused only once its code proves it.
- A number is one that can receive a text (shop.phones): no landline, no extension.

Services flush, never commit; the SMS is sent by a job after the commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop import jobs, ratelimit
from shop.accounts import sms
from shop.accounts.models import PhoneCode, User
from shop.accounts.services import AccountError, default_nickname
from shop.db import db, utcnow
from shop.phones import parse_mobile
from shop.signals import user_registered

CODE_MINUTES = 5
DEFAULT_REGION = "CN"
PER_NUMBER, PER_ADDRESS, DAILY_CAP, GUESSES = (
    "PHONE_CODE_RATE_LIMIT", "PHONE_CODE_IP_RATE_LIMIT", "PHONE_CODE_DAILY_CAP",
    "PHONE_CODE_GUESS_LIMIT")


class PhoneError(AccountError):
    """A refusal about a number or a code; `retry_after` (seconds) when it is a limit."""

    def __init__(self, message: str, field: str = "phone", retry_after: int = 0):
        super().__init__(message, field)
        self.retry_after = retry_after


def normalise_phone(raw: str) -> str:
    """'138 0013 8000', '+86 138-0013-8000', '＋８６１３８００１３８０００' -> '+8613800138000';
    '+44 7911 123456' -> '+447911123456'. A number that cannot receive a text (a
    landline, one with an extension or with other characters: shop.phones) is refused."""
    number = parse_mobile(raw, DEFAULT_REGION)
    if number is None:
        raise PhoneError(_("Enter a valid mobile number, such as 13800138000, or one "
                           "beginning with + and its country code."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """'+8613800138000' -> '138 0013 8000' (a mainland number as written at home),
    '+44 7911 123456' for others."""
    number = phonenumbers.parse(e164)
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 86
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


def as_dialled(e164: str) -> str:
    """'+8613800138000' -> '13800138000' (a mainland number as typed at home, e.g. into
    an address), '+447911123456' for others."""
    number = phonenumbers.parse(e164)
    return str(number.national_number) if number.country_code == 86 else e164


def _digest(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _refused(config_key: str, who: str) -> PhoneError:
    seconds = ratelimit.retry_after(config_key, who) or 60
    minutes = -(-seconds // 60)
    return PhoneError(_("Too many codes asked for. Try again in %(num)d min.", num=minutes),
                      retry_after=seconds)


def request_code(raw_phone: str, address: str) -> str:
    """Issue a code for the number and have it sent once the transaction commits; the
    normalised number. The same whether the number has an account or not. Refused
    (PhoneError with retry_after) past a limit: nothing is stored or sent then."""
    phone = normalise_phone(raw_phone)
    # The address's count first: a request its address may no longer make uses nothing
    # of the number's (else one address past its limit could still spend any number's
    # codes for the day and lock its owner out), nor of the shop's. Each count is
    # atomic, so of N parallel requests exactly the tightest limit's worth pass.
    for config_key, who in ((PER_ADDRESS, "ip:" + address), (PER_NUMBER, "phone:" + phone),
                            (DAILY_CAP, "all")):
        if not ratelimit.take_in_turn(config_key, who):
            raise _refused(config_key, who)
    now = utcnow()
    db.session.execute(update(PhoneCode).where(PhoneCode.phone == phone,
                                               PhoneCode.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
    code = f"{secrets.randbelow(10 ** 6):06d}"
    db.session.add(PhoneCode(phone=phone, code_hash=_digest(phone, code), created_at=now,
                             expires_at=now + timedelta(minutes=CODE_MINUTES)))
    db.session.flush()
    jobs.enqueue(sms.send_code, phone, code,
                 str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]))
    return phone


@dataclass
class SignedIn:
    user: User
    created: bool


def _wrong() -> PhoneError:
    return PhoneError(_("The code is wrong or has expired. Check it, or ask for a new one."),
                      field="code")


def _checked(phone: str, code: str) -> PhoneCode:
    """The number's outstanding code, if `code` is it (not used yet: the caller uses it).
    Every try is counted, atomically, before the code is compared: of parallel guesses
    no more than the limit are ever compared (a right try costs nothing: a code is used
    once); past the limit the code is burnt, the right one refused too."""
    code = unicodedata.normalize("NFKC", code or "").strip()
    issued = db.session.scalar(select(PhoneCode).where(
        PhoneCode.phone == phone, PhoneCode.used_at.is_(None), PhoneCode.expires_at > utcnow())
        .order_by(PhoneCode.id.desc()).limit(1))
    if issued is None:
        _digest(phone, code)  # the same work as a check
        raise _wrong()
    if not ratelimit.take(GUESSES, f"code:{issued.id}"):
        raise PhoneError(_("Too many wrong codes. Ask for a new one."), field="code")
    if not hmac.compare_digest(_digest(phone, code), issued.code_hash):
        raise _wrong()
    return issued


def _use(issued: PhoneCode, now) -> None:
    used = db.session.execute(update(PhoneCode).where(PhoneCode.id == issued.id,
                                                      PhoneCode.used_at.is_(None))
                              .values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:  # used by a parallel request in the meantime
        raise _wrong()


def verify_code(raw_phone: str, code: str) -> SignedIn:
    """The account of the number, signed in by a right code (made if there is none).
    A wrong, expired, used or burnt code, or a disabled account: PhoneError, and the
    code is left as it was (every try is counted by the limiter)."""
    phone = normalise_phone(raw_phone)
    issued = _checked(phone, code)
    user = db.session.scalar(select(User).where(User.signin_phone == phone))
    if user is not None and not user.active:
        raise PhoneError(_("This account is disabled."), field="code")
    now = utcnow()
    _use(issued, now)
    created = user is None
    if created:
        user = _new_account(phone)
    user.last_signin_at = now
    db.session.flush()
    return SignedIn(user, created)


def _taken() -> PhoneError:
    return PhoneError(_("This number already signs in to another account. Sign in with it "
                        "there, or add another number."), field="code")


def add_signin_phone(user: User, raw_phone: str, code: str) -> str:
    """The number a right code was sent to becomes the way in of an account that has none
    (made by email: it adds one from its page); the number. Asked for by
    request_code, with its limits. Refused (PhoneError, nothing changed, the code left
    unused) for a wrong code, or a number that signs in another account: said only once
    the code proves the number (asking for one says the same for every number), and
    settled by the unique key on signin_phone when two accounts add it at once."""
    if user.signin_phone:
        raise _has_one()
    phone = normalise_phone(raw_phone)
    issued = _checked(phone, code)
    if _signs_in(phone):
        raise _taken()
    try:
        with db.session.begin_nested():
            _use(issued, utcnow())
            added = db.session.execute(
                update(User).where(User.id == user.id, User.signin_phone.is_(None))
                .values(signin_phone=phone).execution_options(synchronize_session=False))
    except IntegrityError:
        raise _taken() from None
    if added.rowcount != 1:  # another tab added a number meanwhile
        raise _has_one()
    db.session.refresh(user)
    return phone


def _signs_in(phone: str) -> bool:
    """Some account signs in with the number."""
    return db.session.scalar(select(User.id).where(User.signin_phone == phone)) is not None


def _has_one() -> PhoneError:
    return PhoneError(_("This account already signs in with a phone number."))


def _new_account(phone: str) -> User:
    """An account for the number: no email, no password (it signs in by code), a default
    nickname that does not show the number, which the shopper may change."""
    user = User(email=None, password_hash="", nickname=default_nickname(), signin_phone=phone,
                phone=display_phone(phone)[:20], role="shopper")
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise _wrong() from None  # the number's account was made by a parallel request
    user_registered.send(user, invite="")
    return user
