"""The privacy page, the download of one's data, and closing one's account."""

from datetime import date

from babel.lists import format_list
from flask import current_app, flash, redirect, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse_many
from flask_login import current_user, login_required, logout_user

from shop import ratelimit
from shop.accounts import closure
from shop.accounts.services import AccountError
from shop.privacy import export
from shop.privacy.blueprint import bp
from shop.privacy.forms import CloseForm
from shop.web import fresh_session, render, render_error

EXPORT, WRONG = "DATA_EXPORT_RATE_LIMIT", "SIGNIN_RATE_LIMIT"


def _wait(config_key: str, who: str) -> tuple[int, int]:
    """(seconds, minutes) before `who` may try again."""
    seconds = ratelimit.retry_after(config_key, who) or 60
    return seconds, -(-seconds // 60)


@bp.get("/privacy")
def policy():
    return render("privacy/policy.html")


def _per(granularity: str, multiples: int) -> str:
    """"per hour", "per 2 hours"... for the windows the limits library knows (a window of
    several units is always plural: no ngettext, so Chinese reads 每小时, not 每 1 小时)."""
    one, several = {
        "second": (_l("per second"), _l("per %(num)d seconds")),
        "minute": (_l("per minute"), _l("per %(num)d minutes")),
        "hour": (_l("per hour"), _l("per %(num)d hours")),
        "day": (_l("per day"), _l("per %(num)d days")),
        "month": (_l("per month"), _l("per %(num)d months")),
        "year": (_l("per year"), _l("per %(num)d years")),
    }[granularity]
    return str(one) if multiples == 1 else several % {"num": multiples}


def allowance(config_key: str) -> str:
    """A limit of the configuration in words, in the reader's language: "3 per hour;10 per
    day" -> "3 times per hour and 10 times per day" (parsed by the limits library, which
    enforces it: shop.ratelimit)."""
    return format_list([_("%(times)s %(period)s",
                          times=ngettext("%(num)d time", "%(num)d times", item.amount),
                          period=_per(item.GRANULARITY.name, item.multiples))
                        for item in parse_many(current_app.config[config_key])],
                       locale=get_locale())


@bp.get("/me/data")
@login_required
def data():
    return render("privacy/data.html", allowance=allowance(EXPORT))


@bp.get("/me/data/download")
@login_required
def download():
    """The shopper's data as a ZIP (JSON and CSV). A GET: it reads and changes nothing.
    It is heavy, so it is limited per account (DATA_EXPORT_RATE_LIMIT)."""
    who = f"user:{current_user.id}"
    if not ratelimit.take_in_turn(EXPORT, who):
        seconds, minutes = _wait(EXPORT, who)
        response = render_error(None, 429, ngettext(
            "You have downloaded your data several times already. Try again in %(num)d minute.",
            "You have downloaded your data several times already. Try again in %(num)d minutes.",
            minutes))
        response.headers["Retry-After"] = str(seconds)
        return response
    body = export.archive(current_user.id)
    response = current_app.response_class(body, mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="my-data-{date.today():%Y%m%d}.zip"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/me/close", methods=["GET", "POST"])
@login_required
def close():
    """Close the account, once confirmed (its password, or the word shown when it has
    none). The page first lists what still blocks closing (closure.blockers), with links,
    and shows no form while anything does; closing checks again. Wrong confirmations
    count like wrong passwords at sign-in (per account); a refusal says why and changes
    nothing. Once closed, the shopper is signed out."""
    form, refusal, blockers = CloseForm(), None, []
    user = current_user._get_current_object()
    who = f"close:{user.id}"
    if not form.is_submitted():
        try:
            closure.may_close(user)
        except AccountError as exc:
            refusal = str(exc)
        else:
            blockers = closure.blockers(user)
    if form.validate_on_submit():
        if ratelimit.exhausted(WRONG, who):
            seconds, minutes = _wait(WRONG, who)
            refusal = ngettext("Too many wrong tries. Wait %(num)d minute and try again.",
                               "Too many wrong tries. Wait %(num)d minutes and try again.",
                               minutes)
            response = render("privacy/close.html", form=form, word=closure.confirm_word(),
                              refusal=refusal, blockers=blockers, status=429)
            response.headers["Retry-After"] = str(seconds)
            return response
        try:
            closure.close_account(user, password=form.password.data or "",
                                  word=form.word.data or "")
        except closure.WrongConfirmation as exc:
            ratelimit.take(WRONG, who)
            getattr(form, exc.field).errors.append(str(exc))
        except closure.Blocked as exc:  # something came up since the page was shown
            blockers = exc.blockers
        except AccountError as exc:  # something still needs the person
            refusal = str(exc)
        else:
            logout_user()
            fresh_session()
            flash(_("Your account is closed. Thank you for shopping with us."))
            return redirect(url_for("home.index"))
    return render("privacy/close.html", form=form, word=closure.confirm_word(), refusal=refusal,
                  blockers=blockers, status=422 if form.is_submitted() else 200)
