"""Passkeys (WebAuthn): the fastest way back in on the same phone.

The WebAuthn ceremonies are py_webauthn's (the `webauthn` package, Duo Labs): it builds
the options the browser's navigator.credentials.create()/get() take and checks what
they return (challenge, origin, RP ID hash, user presence and verification, the
signature, the sign count). Hand-written CBOR and COSE checks would be where the bugs
are; this library is small, typed, maintained and follows the spec's steps.

- The relying party: its ID is WEBAUTHN_RP_ID (the shop's domain, e.g. shop.example.com)
  or, when that is empty, the host the request was sent to, without its port; the
  origin is the request's scheme and host (behind a proxy, PROXY_COUNT makes them the
  visitor's). WebAuthn refuses IP addresses as RP ID: open the shop as
  http://localhost:5000, not 127.0.0.1, to try passkeys in the default run (browsers
  count localhost as a secure context; anywhere else passkeys need HTTPS).
- Passkeys are discoverable credentials with user verification (the phone's
  fingerprint, face or PIN): signing in needs no email or number, the phone offers the
  shop's passkeys, and the passkey names the account.
- A challenge is kept in the session (signed, so the browser cannot change it): one at
  a time (asking again replaces it), for one purpose (adding a passkey to one account,
  or signing in), for CHALLENGE_SECONDS, and taken out by the first answer, right or
  wrong. The session is a cookie the browser could send again as it was, so a sign-in
  is also refused when the passkey was used after its challenge was issued (a guarded
  UPDATE ... WHERE last_used_at < issued_at): the same assertion never signs in twice,
  not even in parallel. (Two phones signing in with one synced passkey at the same
  moment: the later one is asked to try again.)
- Sign counts: py_webauthn refuses an assertion whose counter is not above the stored
  one when either is not zero (a cloned authenticator, or a replay), as the spec
  advises; synced passkeys always report 0 and are not affected. Refusals are logged.
- A passkey signs in only the account that added it: it is looked up by its id, the
  signature is checked with that account's stored public key, and the user handle the
  authenticator returns must be that account's. A disabled or closed account is
  refused. A passkey's id is unique: one account cannot add another's.

Services flush, never commit.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from collections.abc import MutableMapping
from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from webauthn import (base64url_to_bytes, generate_authentication_options,
                      generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import bytes_to_base64url, parse_authentication_credential_json, \
    parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, AuthenticatorTransport,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from shop.accounts.models import Passkey, User
from shop.accounts.services import AccountError, changed_meanwhile, still_current
from shop.db import db, utcnow
from shop.signals import account_closing

log = logging.getLogger(__name__)

CHALLENGE_SECONDS = 300
SESSION_KEY = "passkey_challenge"
REGISTER, SIGN_IN = "register", "signin"


class PasskeyError(AccountError):
    """A refused passkey ceremony, with a message fit for the shopper."""

    def __init__(self, message: str):
        super().__init__(message, field="passkey")


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser talks to: the RP ID (a domain) and the page's origin."""

    id: str
    origin: str
    name: str


# --- challenges ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A challenge taken out of the session: its bytes, when it was issued, and (when
    adding a passkey) the user handle the options gave the authenticator and the name
    the shopper chose for the passkey."""

    challenge: bytes
    issued_at: datetime
    handle: str | None = None
    name: str = ""


def _issue(store: MutableMapping, purpose: str, user_id: int | None = None,
           handle: str | None = None, name: str = "") -> bytes:
    """A new challenge in `store` (the session), replacing any earlier one."""
    challenge = secrets.token_bytes(32)
    store[SESSION_KEY] = {"purpose": purpose, "user": user_id, "handle": handle, "name": name,
                          "challenge": bytes_to_base64url(challenge),
                          "issued_at": utcnow().isoformat()}
    return challenge


def _take(store: MutableMapping, purpose: str, user_id: int | None = None) -> Issued:
    """The challenge issued for this purpose (and account), taken out of `store`: used
    once, right or wrong. Missing, for something else, or too old: PasskeyError."""
    issued = store.pop(SESSION_KEY, None)
    if not isinstance(issued, dict) or issued.get("purpose") != purpose \
            or issued.get("user") != user_id:
        raise PasskeyError(_("The passkey request was not found. Try again."))
    issued_at = datetime.fromisoformat(issued["issued_at"])
    if utcnow() - issued_at > timedelta(seconds=CHALLENGE_SECONDS):
        raise PasskeyError(_("The passkey request has expired. Try again."))
    return Issued(base64url_to_bytes(issued["challenge"]), issued_at, issued.get("handle"),
                  issued.get("name") or "")


# --- adding and removing a passkey --------------------------------------------------------


def passkeys_of(user: User) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)
                                   .order_by(Passkey.id)))


def _transports(passkey: Passkey) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(t) for t in passkey.transports.split(",") if t in known]


def registration_options(user: User, rp: RelyingParty, store: MutableMapping,
                         name: str = "") -> str:
    """The options (JSON) for navigator.credentials.create(): a discoverable credential
    with user verification, under the account's user handle (random, the same for all
    its passkeys), and none of the authenticators that hold one of them already. `name`
    (checked by the form before anything is made) is kept with the challenge for the
    passkey."""
    mine = passkeys_of(user)
    handle = mine[0].user_handle if mine else bytes_to_base64url(secrets.token_bytes(32))
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=base64url_to_bytes(handle),
        # what the phone's list of passkeys shows: a name the shopper knows the account by
        user_name=user.email or user.phone or user.nickname, user_display_name=user.nickname,
        challenge=_issue(store, REGISTER, user.id, handle, name.strip()[:40]),
        timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id), transports=_transports(p)) for p in mine])
    return options_to_json(options)


def register(user: User, rp: RelyingParty, store: MutableMapping, credential: str) -> Passkey:
    """Keep the passkey the browser made for the options last issued to this account.
    A response that does not check out, a stale or missing challenge, or a passkey
    added already (to this account or another), or an account whose sessions ended
    meanwhile: PasskeyError, nothing kept."""
    if not still_current(user):  # e.g. its address proven, its earlier passkeys removed
        raise PasskeyError(str(changed_meanwhile()))
    issued = _take(store, REGISTER, user.id)
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed, expected_challenge=issued.challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True)
    except (WebAuthnException, ValueError) as exc:
        log.info("passkey for user %s not added: %s", user.id, exc)
        raise PasskeyError(_("The passkey could not be checked. Try again.")) from None
    now = utcnow()
    passkey = Passkey(
        user_id=user.id, credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key, sign_count=verified.sign_count,
        user_handle=issued.handle,
        transports=",".join(t.value for t in parsed.response.transports or [])[:100],
        name=issued.name or _("Passkey of %(date)s", date=format_date(now)),
        created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(passkey)
    except IntegrityError:
        raise PasskeyError(_("This passkey has been added already.")) from None
    return passkey


def remove(user: User, passkey_id: int) -> bool:
    """Remove one of the account's passkeys; False if it has none with this id (another
    account's included: nothing is removed)."""
    gone = db.session.execute(delete(Passkey).where(Passkey.id == passkey_id,
                                                    Passkey.user_id == user.id)
                              .execution_options(synchronize_session=False))
    return gone.rowcount == 1


@account_closing.connect
def _forget_passkeys(user: User, **_kwargs) -> None:
    """A closed account's passkeys go with it (shop.accounts.closure): its public keys
    and user handle are data about the person, and nothing may sign in to it again."""
    db.session.execute(delete(Passkey).where(Passkey.user_id == user.id)
                       .execution_options(synchronize_session=False))


# --- signing in ---------------------------------------------------------------------------


def authentication_options(rp: RelyingParty, store: MutableMapping) -> str:
    """The options (JSON) for navigator.credentials.get(): no account named (the phone
    offers the shop's passkeys it holds), user verification required."""
    options = generate_authentication_options(
        rp_id=rp.id, challenge=_issue(store, SIGN_IN), timeout=CHALLENGE_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED)
    return options_to_json(options)


def _refused() -> PasskeyError:
    return PasskeyError(_("The passkey could not be checked. Try again, or sign in another way."))


def sign_in(rp: RelyingParty, store: MutableMapping, credential: str) -> User:
    """The account whose passkey answered the challenge last issued for signing in.
    Refused (PasskeyError, nothing changed): a missing, used or stale challenge; a
    passkey the shop does not know (removed from the account page, say); a user handle
    that is not the account's; a signature, origin, RP ID or sign count that does not
    check out; a replayed answer; a disabled account."""
    issued = _take(store, SIGN_IN)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError):
        raise _refused() from None
    passkey = db.session.scalar(select(Passkey).where(
        Passkey.credential_id == bytes_to_base64url(parsed.raw_id)))
    if passkey is None:
        raise PasskeyError(_("This passkey is not in use here any more: it was removed, "
                             "or its account was closed. Sign in another way."))
    handle = parsed.response.user_handle
    if handle is not None and bytes_to_base64url(handle) != passkey.user_handle:
        log.warning("passkey %s answered with another account's user handle", passkey.id)
        raise _refused()
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=issued.challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError) as exc:
        log.warning("passkey %s refused: %s", passkey.id, exc)
        raise _refused() from None
    user = db.session.get(User, passkey.user_id)
    if not user.active:
        raise PasskeyError(_("This account is disabled."))
    now = utcnow()
    used = db.session.execute(
        update(Passkey).where(Passkey.id == passkey.id, or_(Passkey.last_used_at.is_(None),
                                                             Passkey.last_used_at < issued.issued_at))
        .values(sign_count=verified.new_sign_count, last_used_at=now)
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:  # this answer (or a later one) was used since the challenge
        log.warning("passkey %s: an answer to a used challenge", passkey.id)
        raise _refused()
    user.last_signin_at = now
    db.session.flush()
    return user
