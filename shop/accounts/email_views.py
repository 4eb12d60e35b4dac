"""The pages of the links sent by email (shop.accounts.email_links): asking for a sign-in
link or a password reset, adding an email and setting a password from the account page,
and the page each link opens. Opening a link (GET) changes nothing: its page has one
button, or the new-password form, and only that POST uses the link."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from shop.accounts import email_links as links
from shop.accounts import services
from shop.accounts.blueprint import bp
from shop.accounts.forms import EmailForm, NewPasswordForm
from shop.accounts.views import _home_of, _start_session, confirmation_sent
from shop.web import render, safe_next_url

ASK_ENDPOINTS = {"signin": "accounts.signin_email", "reset": "accounts.password_forgot",
                 "confirm": "accounts.add_email"}


def _titles() -> dict[str, str]:
    return {"signin": _("Email me a sign-in link"), "reset": _("Forgot your password?"),
            "confirm": _("Add an email")}


def _ask(kind: links.Kind, user=None):
    """Ask for a link of `kind`: the form, then the same answer whoever the address
    belongs to (429 saying when to try again past a limit, nothing sent)."""
    form = EmailForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    sent_to, status, retry_after = None, 200, 0
    if form.validate_on_submit():
        try:
            sent_to = links.ask_for_link(kind, form.email.data, get_remote_address(),
                                         safe_next_url(form.next.data) or "", user=user)
        except links.LinkError as exc:
            form.email.errors.append(str(exc))
            status, retry_after = exc.status, exc.retry_after
    elif request.method == "POST":
        status = 422
    response = render("accounts/email_ask.html", kind=kind.name, title=_titles()[kind.name],
                      form=form, sent_to=sent_to, num=kind.lifetime() // kind.unit_seconds,
                      status=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/signin/email", methods=["GET", "POST"])
def signin_email():
    """A link that signs in the address's account, or makes one for it."""
    return _ask(links.SIGNIN)


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    """A link to choose a new password (sent only to an account that has one)."""
    return _ask(links.RESET)


@bp.route("/me/email", methods=["GET", "POST"])
@login_required
def add_email():
    """An account without an email (made by phone) adds one: a link is sent to it, and
    the address is the account's once the link is opened."""
    if current_user.email:
        return redirect(url_for("accounts.me"))
    return _ask(links.CONFIRM, user=current_user._get_current_object())


def _signed_in():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _link_page(kind: str, token: str, link=None, form=None, error=None, status=200):
    """A link's page: what it does and its button (or form), or why it cannot be used.
    The token is in its URL: no Referer carries it elsewhere, no cache keeps the page."""
    titles = {"signin": _("Sign in"), "reset": _("Choose a new password"),
              "confirm": _("Confirm your email address")}
    sign_in_first = (kind == "confirm" and link is not None
                     and links.needs_signing_in(link, _signed_in()))
    response = render("accounts/email_link.html", kind=kind, title=titles[kind], token=token,
                      link=link, form=form, error=error, ask=ASK_ENDPOINTS[kind],
                      sign_in_first=sign_in_first, status=status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(kind: str, token: str, exc: links.LinkError):
    if isinstance(exc, links.SignInFirst):  # the page says how, as it did on GET
        return _link_page(kind, token, link=exc.link, status=exc.status)
    return _link_page(kind, token, error=str(exc), status=exc.status)


def _press(kind: links.Kind, token: str, use):
    """A link whose page is one button: (its page, None) on GET, (None, what use(token)
    gave) on the button's POST; (the page saying why, None) for a link that cannot be used."""
    try:
        if request.method == "GET":
            return _link_page(kind.name, token, link=links.check(kind, token)), None
        return None, use(token)
    except links.LinkError as exc:
        return _refused(kind.name, token, exc), None


@bp.route("/signin/email/<token>", methods=["GET", "POST"])
def signin_email_link(token: str):
    """A sign-in link: its page, and its button, which signs in (a used, expired or
    tampered link: a 4xx page saying so, nothing changed)."""
    page, signed = _press(links.SIGNIN, token, links.sign_in)
    if page is not None:
        return page
    _start_session(signed.user)
    if signed.created:
        flash(_("Welcome! Your account is ready."))
    if signed.removed.password:
        flash(_("Your email is confirmed. A password set before you confirmed it has been "
                "removed; set a new one from your account page."))
    _say_passkeys_removed(signed.removed)
    return redirect(safe_next_url(signed.next_url) or _home_of(signed.user))


def _say_passkeys_removed(removed: links.Removed) -> None:
    if removed.passkeys:
        flash(ngettext("%(num)d passkey added before you confirmed your email has been removed.",
                       "%(num)d passkeys added before you confirmed your email have been removed.",
                       removed.passkeys))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    """A password reset link: the new password's form; saving it ends every session of
    the account and signs this one in."""
    form = NewPasswordForm()
    try:
        link = links.check(links.RESET, token)
        if not form.validate_on_submit():
            status = 422 if request.method == "POST" else 200
            return _link_page("reset", token, link=link, form=form, status=status)
        user, removed = links.reset_password(token, form.password.data)
    except links.LinkError as exc:
        return _refused("reset", token, exc)
    _start_session(user)
    if removed.password:
        flash(_("Your email is confirmed. Your new password replaces the one set before you "
                "confirmed it. Other devices are signed out."))
    else:
        flash(_("Password changed. Other devices are signed out."))
    _say_passkeys_removed(removed)
    return redirect(_home_of(user))


@bp.route("/me/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """An email confirmation link: its button makes the address the account's, proven (a
    phone account's may be opened on another device, signed in or not; a registered
    address's is used signed in to its account, else the page says to sign in first)."""
    page, user = _press(links.CONFIRM, token,
                        lambda token: links.confirm_email(token, _signed_in()))
    if page is not None:
        return page
    flash(_("Your email is confirmed: you can sign in with it."))
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("accounts.me"))
    return redirect(url_for("accounts.signin"))


@bp.post("/me/email/confirm")
@login_required
def resend_confirmation():
    """The account page's "Send the confirmation again", for an address not proven yet
    (limited like every link; 429 on the account page past a limit, nothing sent)."""
    if not current_user.email_unverified:
        return redirect(url_for("accounts.me"))
    try:
        sent_to = links.ask_for_link(links.CONFIRM, current_user.email, get_remote_address(),
                                     user=current_user._get_current_object())
    except links.LinkError as exc:
        response = render("accounts/me.html", confirm_error=str(exc), status=exc.status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    flash(confirmation_sent(sent_to))
    return redirect(url_for("accounts.me"))


@bp.route("/me/password/set", methods=["GET", "POST"])
@login_required
def set_password():
    """A first password for an account that has none (it needs an email first)."""
    if current_user.has_password:
        return redirect(url_for("accounts.password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(current_user, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            flash(_("Password set: you can sign in with your email and this password."))
            return redirect(url_for("accounts.me"))
    status = 422 if request.method == "POST" else 200
    return render("accounts/set_password.html", form=form, status=status)
