"""Passkeys on the account page (/me/passkeys: list, add, remove) and signing in with one.

The browser's part is static/js/passkeys.js: it asks for the options (a POST answered
with JSON, CSRF token in X-CSRFToken), calls navigator.credentials.create()/get(), and
submits the answer in an ordinary form, so what follows (a refusal's message, the
redirect after signing in) is the same as for the other ways in. Without JavaScript or
WebAuthn the passkey forms stay hidden and the other ways in remain.
"""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.accounts import passkeys
from shop.accounts.blueprint import bp
from shop.accounts.forms import PasskeyForm, PasskeyNameForm, PasskeySignInForm, SignInForm
from shop.accounts.views import _home_of, _start_session
from shop.web import render, safe_next_url


def _relying_party() -> passkeys.RelyingParty:
    """WEBAUTHN_RP_ID, or the host this request was sent to without its port; the origin
    is the request's scheme and host (see shop.accounts.passkeys)."""
    return passkeys.RelyingParty(
        id=current_app.config["WEBAUTHN_RP_ID"] or urlsplit(request.host_url).hostname or "",
        origin=request.host_url.rstrip("/"),
        name=current_app.config["SHOP_NAME"] or _("Share & Shop"))


@bp.app_template_global()
def passkeys_offered() -> bool:
    """Whether passkeys can work on this address: WebAuthn refuses an IP address as the
    RP ID (the default run's 127.0.0.1), so no passkey button is shown there."""
    rp_id = _relying_party().id
    try:
        ipaddress.ip_address(rp_id)
    except ValueError:
        return bool(rp_id)
    return False


def _json(body: str, status: int = 200):
    response = current_app.response_class(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the account's passkeys ---------------------------------------------------------------


def _page(form: PasskeyNameForm, status: int = 200, error: str = ""):
    return render("accounts/passkeys.html", form=form, error=error, status=status,
                  passkeys=passkeys.passkeys_of(current_user))


@bp.get("/me/passkeys")
@login_required
def passkey_list():
    return _page(PasskeyNameForm())


@bp.post("/me/passkeys/options")
@login_required
def passkey_options():
    """The options for making a passkey for this account (JSON), once its name is
    checked; a name refused: 422 with the reason ({"error": ...}), nothing made."""
    form = PasskeyNameForm()
    if not form.validate_on_submit():
        errors = form.name.errors or [_("The passkey could not be checked. Try again.")]
        return _json(json.dumps({"error": str(errors[0])}), 422)
    return _json(passkeys.registration_options(current_user, _relying_party(), session,
                                               form.name.data or ""))


@bp.post("/me/passkeys")
@login_required
def passkey_add():
    """Keep the passkey the phone made; refused: the page with the reason (422)."""
    form = PasskeyForm()
    error = _("The passkey could not be checked. Try again.")
    if form.validate_on_submit():
        try:
            passkeys.register(current_user, _relying_party(), session, form.credential.data)
        except passkeys.PasskeyError as exc:
            error = str(exc)
        else:
            flash(_("Passkey added. Next time, sign in with it."))
            return redirect(url_for("accounts.passkey_list"))
    return _page(PasskeyNameForm(formdata=None), status=422, error=error)


@bp.post("/me/passkeys/<int:passkey_id>/remove")
@login_required
def passkey_remove(passkey_id: int):
    """Remove one of my passkeys (another account's is not found: 404, nothing changed)."""
    if not passkeys.remove(current_user, passkey_id):
        abort(404)
    flash(_("Passkey removed. Remove it from your phone's passwords too."))
    return redirect(url_for("accounts.passkey_list"))


# --- signing in ---------------------------------------------------------------------------


@bp.post("/signin/passkey/options")
def passkey_signin_options():
    """The options for signing in with a passkey (JSON)."""
    return _json(passkeys.authentication_options(_relying_party(), session))


@bp.post("/signin/passkey")
def signin_passkey():
    """A passkey's answer: its account is signed in, as by the other ways in. Refused:
    the sign-in page with the reason, nothing changed."""
    form = PasskeySignInForm()
    message = _("The passkey could not be checked. Try again, or sign in another way.")
    if form.validate_on_submit():
        try:
            user = passkeys.sign_in(_relying_party(), session, form.credential.data)
        except passkeys.PasskeyError as exc:
            message = str(exc)
        else:
            _start_session(user)
            return redirect(safe_next_url(form.next.data) or _home_of(user))
    next_url = safe_next_url(form.next.data) or ""
    return render("accounts/signin.html", form=SignInForm(formdata=None, next=next_url),
                  passkey_error=message, status=422)
