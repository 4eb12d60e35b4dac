from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from shop.accounts import services
from shop.accounts.blueprint import bp
from shop.accounts.forms import PasswordForm, ProfileForm, RegisterForm, SignInForm
from shop.extensions import limiter
from shop.media.services import ImageError, read_upload, store_image
from shop.web import fresh_session, render, render_error, safe_next_url


def _signin_limit() -> str:
    return current_app.config["SIGNIN_RATE_LIMIT"]


def _email_key() -> str:
    return "signin-email:" + services.normalise_email(request.form.get("email", ""))


def _start_session(user) -> None:
    """A new session at sign-in, so nothing planted before it carries over."""
    fresh_session(signing_in=True)
    login_user(user)


def _home_of(user) -> str:
    """Where signing in lands without a page to go back to: staff on the backoffice home,
    shoppers on their own page."""
    return url_for("admin.index") if user.in_backoffice else url_for("accounts.me")


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
@limiter.limit(_signin_limit, methods=["POST"], key_func=_email_key)
def signin():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user)
            return redirect(safe_next_url(form.next.data) or _home_of(user))
        form.password.errors.append(_("The email or password is wrong."))
    status = 422 if request.method == "POST" else 200
    return render("accounts/signin.html", form=form, status=status)


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
    """Change the password: every other session of the account ends; this one goes on."""
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
