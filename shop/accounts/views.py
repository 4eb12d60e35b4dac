import math
import time
from urllib.parse import urlsplit

import phonenumbers
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from shop.accounts import email_links
from shop.accounts import phone as phone_signin
from shop.accounts import services, sheet
from shop.accounts.blueprint import bp
from shop.accounts.forms import (PasswordForm, PhoneCodeForm, PhoneForm, ProfileForm,
                                 RegisterForm, SignInForm)
from shop import ratelimit
from shop.extensions import htmx, limiter
from shop.media.services import ImageError, read_upload, store_image
from shop.web import fresh_session, redirect_to, render, render_error, safe_next_url


SIGNIN = "SIGNIN_RATE_LIMIT"


def _signin_keys(email: str) -> list[str]:
    """Wrong passwords are counted per address and per account."""
    return [f"ip:{get_remote_address()}", "email:" + services.normalise_email(email)]


def _signin_refused(form: SignInForm, keys: list[str]):
    """Too many wrong passwords: 429, saying how long to wait."""
    seconds = max(ratelimit.retry_after(SIGNIN, key) for key in keys) or 60
    minutes = math.ceil(seconds / 60)
    form.password.errors.append(ngettext(
        "Too many wrong passwords. Wait %(num)d minute and try again.",
        "Too many wrong passwords. Wait %(num)d minutes and try again.", minutes))
    response = render("accounts/signin.html", form=form, status=429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _start_session(user) -> None:
    """A new session at sign-in, so nothing planted before it carries over."""
    fresh_session(signing_in=True)
    login_user(user)


def _home_of(user) -> str:
    """Where signing in lands without a page to go back to: staff on the backoffice home,
    shoppers on their own page."""
    return url_for("admin.index") if user.in_backoffice else url_for("accounts.me")


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    """Signing in. Only wrong passwords count against the limit (SIGNIN_RATE_LIMIT, per
    address and per account), so colleagues behind one office address sign in as often
    as they like. Once it is used up every attempt is refused, a right password too
    (else the refusals would tell right from wrong); each wrong one is counted
    atomically before it is answered, so N parallel wrong passwords get exactly the
    limit of "wrong" answers (tests/concurrency/test_rate_limit_race.py)."""
    form = SignInForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        keys = _signin_keys(form.email.data)
        if any(ratelimit.exhausted(SIGNIN, key) for key in keys):
            return _signin_refused(form, keys)
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user)
            return redirect(safe_next_url(form.next.data) or _home_of(user))
        # The account's count first, the address's only for what it let through: so
        # N parallel wrong passwords for one account get exactly the limit of answers.
        if not all(ratelimit.take(SIGNIN, key) for key in reversed(keys)):
            return _signin_refused(form, keys)
        form.password.errors.append(_("The email or password is wrong."))
    status = 422 if request.method == "POST" else 200
    return render("accounts/signin.html", form=form, status=status)


def _phone_page(form: PhoneForm, code_form: PhoneCodeForm | None = None, status: int = 200,
                retry_after: int = 0, template: str = "accounts/signin_phone.html"):
    """A page of phone forms (signing in; adding a number: accounts/phone_add.html): the
    number's form, or once a code is sent, the code's."""
    response = render(template, block="phone_forms", form=form, code_form=code_form,
                      status=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


# The number this session last asked a code for, and until when that code lives: asked
# again within the number's limit, the page keeps the code's form (the code sent can
# still be typed). Kept in the session, so the page says nothing of other visitors'
# codes, nor of whether the number has an account.
ASKED_KEY = "phone_code_asked"


def _asked_for(raw_phone: str) -> str | None:
    """The number typed, normalised, if this session asked for a code for it that may
    still be outstanding."""
    asked = session.get(ASKED_KEY)
    if not isinstance(asked, dict) or not asked.get("until", 0) > time.time():
        return None
    try:
        number = phone_signin.normalise_phone(raw_phone)
    except phone_signin.PhoneError:
        return None
    return number if asked.get("phone") == number else None


def _shown(number: str) -> str:
    """A number as the page shows it (as posted, if it is not one)."""
    try:
        return phone_signin.display_phone(number)
    except phonenumbers.NumberParseException:
        return number


def _send_code(form: PhoneForm, template: str):
    """Ask for a code for the form's number, and answer with the code's form; past a
    limit (429, nothing sent), the code's form again if this session has one outstanding
    for the number, else the number's."""
    code_form = None
    try:
        number = phone_signin.request_code(form.phone.data, get_remote_address())
    except phone_signin.PhoneError as exc:
        form.phone.errors.append(str(exc))
        number = exc.retry_after and _asked_for(form.phone.data)
        status, retry_after = (429 if exc.retry_after else 422), exc.retry_after
    else:
        session[ASKED_KEY] = {"phone": number,
                              "until": time.time() + 60 * phone_signin.CODE_MINUTES}
        status, retry_after = 200, 0
    if number:
        code_form = PhoneCodeForm(formdata=None, phone=number,
                                  next=safe_next_url(form.next.data) or "")
        form.phone.data = phone_signin.display_phone(number)
    return _phone_page(form, code_form, status=status, retry_after=retry_after,
                       template=template)


@bp.route("/signin/phone", methods=["GET", "POST"])
def signin_phone():
    """Sign in, or up, with a phone number: a 6-digit code is sent to it (limits per
    number, address and day: 429 saying when to try again, nothing sent); the answer is
    the same whether the number has an account or not."""
    form = PhoneForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
        if sheet.wants_sheet():  # a "Sign in to ..." link (accounts/_sheet_link.html)
            return sheet.sheet_for(form.next.data)
        return _phone_page(form)
    if not form.validate_on_submit():
        return _phone_page(form, status=422)
    return _send_code(form, "accounts/signin_phone.html")


def _back_to(target: str):
    """From the sign-in sheet (htmx) to `target`. When it is the page the sheet is open
    on with an anchor (/coupons#coupon-3), moving to it would only scroll: the page is
    loaded again (HX-Refresh), now signed in."""
    response = redirect_to(target)
    here = urlsplit(htmx.current_url or "")
    there = urlsplit(target)
    if there.fragment and (here.path, here.query) == (there.path, there.query):
        response.headers["HX-Refresh"] = "true"
    return response


@bp.post("/signin/phone/code")
def signin_phone_code():
    """The code sent to the number: the account of the number is signed in (made if
    there is none). A wrong, expired or used code, or a disabled account: the code's
    form again with the reason, nothing changed."""
    code_form = PhoneCodeForm()
    form = PhoneForm(formdata=None, phone=_shown(code_form.phone.data), next=code_form.next.data)
    if code_form.validate_on_submit():
        try:
            signed = phone_signin.verify_code(code_form.phone.data, code_form.code.data)
        except phone_signin.PhoneError as exc:
            (code_form.code if exc.field == "code" else form.phone).errors.append(str(exc))
        else:
            _start_session(signed.user)
            if signed.created:
                flash(_("Welcome! Your account is ready."))
            target = safe_next_url(code_form.next.data) or _home_of(signed.user)
            return _back_to(target) if htmx else redirect(target)
    return _phone_page(form, code_form, status=422)


ADD_PHONE = "accounts/phone_add.html"


@bp.route("/me/phone", methods=["GET", "POST"])
@login_required
def add_phone():
    """An account without a sign-in number (made by email) adds one: a code is sent to
    it, with the limits of sign-in codes, and the number is the account's way in once
    the code is entered (the session goes on)."""
    if current_user.signin_phone:
        return redirect(url_for("accounts.me"))
    form = PhoneForm()
    if request.method == "GET":
        return _phone_page(form, template=ADD_PHONE)
    if not form.validate_on_submit():
        return _phone_page(form, status=422, template=ADD_PHONE)
    return _send_code(form, ADD_PHONE)


@bp.post("/me/phone/code")
@login_required
def add_phone_code():
    """The code sent to the number being added: a wrong one, or a number that signs in
    another account, is said on the code's form, nothing changed."""
    code_form = PhoneCodeForm()
    form = PhoneForm(formdata=None, phone=_shown(code_form.phone.data))
    if code_form.validate_on_submit():
        try:
            number = phone_signin.add_signin_phone(current_user._get_current_object(),
                                                   code_form.phone.data, code_form.code.data)
        except phone_signin.PhoneError as exc:
            (code_form.code if exc.field == "code" else form.phone).errors.append(str(exc))
        else:
            session.pop(ASKED_KEY, None)
            flash(_("You can now sign in with %(number)s and a code sent to it.",
                    number=phone_signin.display_phone(number)))
            return redirect_to(url_for("accounts.me"))
    return _phone_page(form, code_form, status=422, template=ADD_PHONE)


def confirmation_sent(address: str) -> str:
    """Said once the confirmation of a registered address is sent."""
    return ngettext("We sent a link to %(email)s. Open it within %(num)d hour to confirm "
                    "your email.", "We sent a link to %(email)s. Open it within %(num)d hours "
                    "to confirm your email.", current_app.config["EMAIL_CONFIRM_HOURS"],
                    email=address)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    form = RegisterForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        try:
            user = services.register_user(
                form.email.data, form.password.data, form.nickname.data, invite=form.invite.data or ""
            )
        except services.AccountError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            _start_session(user)
            flash(_("Welcome! Your account is ready."))
            try:  # past a limit, the account page offers to send it again
                flash(confirmation_sent(email_links.ask_for_link(
                    email_links.CONFIRM, user.email, get_remote_address(), user=user)))
            except email_links.LinkError:
                pass
            return redirect(safe_next_url(form.next.data) or url_for("accounts.me"))
    status = 422 if request.method == "POST" else 200
    return render("accounts/register.html", form=form, status=status)


@bp.post("/signout")
def signout():
    """Sign out, everywhere: every session of the account ends, a cookie saved before
    included (the account page offers it as "sign out everywhere")."""
    if current_user.is_authenticated:
        services.end_sessions(current_user)
    logout_user()
    fresh_session()
    return redirect(url_for("home.index"))


@bp.route("/me/password", methods=["GET", "POST"])
@login_required
def password():
    """Change the password: every other session of the account ends; this one goes on.
    An account without a password is sent to set one (or first to add an email)."""
    if not current_user.has_password:
        return redirect(url_for("accounts.set_password" if current_user.email
                                else "accounts.add_email"))
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except services.AccountError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            _start_session(current_user._get_current_object())
            flash(_("Password changed. Other devices are signed out."))
            return redirect(url_for("accounts.me"))
    status = 422 if request.method == "POST" else 200
    return render("accounts/password.html", form=form, status=status)


@bp.get("/me")
@login_required
def me():
    return render("accounts/me.html")


@bp.route("/me/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if form.validate_on_submit():
        avatar = None
        upload = form.avatar.data
        try:
            if upload and upload.filename:
                data = read_upload(upload.stream, current_app.config["MAX_IMAGE_BYTES"])
                avatar = store_image(data)
        except ImageError as exc:
            form.avatar.errors.append(str(exc))
        else:
            services.update_profile(current_user, form.nickname.data, form.phone.data, avatar)
            flash(_("Profile saved."))
            return redirect(url_for("accounts.me"))
    status = 422 if request.method == "POST" else 200
    return render("accounts/profile.html", form=form, status=status)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        return render_error(None, 400, _("Unknown language."))
    session["lang"] = lang
    return redirect(safe_next_url(request.form.get("next")) or url_for("home.index"))
