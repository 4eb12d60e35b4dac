"""Render a full page, or one named block of it for an htmx request.

Every URL htmx pushes into history returns the full page when loaded directly; the
response varies on HX-Request so caches keep the two apart.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, make_response, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from shop.extensions import cache, htmx


def render(template: str, block: str | None = None, status: int = 200, **context):
    """The page, or `block` of it when htmx asked for a swap (not for a boosted
    navigation, nor for restoring history after Back, which replaces the whole body)."""
    if block and htmx and not htmx.boosted and not htmx.history_restore_request:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.update(("HX-Request", "Accept-Language"))
    return response


def live_fragment(tag: str, *, settled: bool, build: Callable[[], str]):
    """A progress fragment that htmx polls (group buys, bargains; DESIGN section 6).

    `tag` names the state shown (the row's id and version); with the locale it is the
    weak ETag (the countdown text moves, the state does not). A client that holds the
    current tag gets 304 without anything being rendered; otherwise build() renders the
    fragment. Once `settled`, htmx gets status 286 and stops polling. `no-cache` makes the
    browser revalidate each poll with If-None-Match and hand htmx its stored copy on 304.
    """
    etag = f"{tag}-{get_locale()}"
    if request.if_none_match.contains_weak(etag):
        response = make_response("", 304)
    else:
        response = make_response(build(), 286 if settled and htmx else 200)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("HX-Request", "Accept-Language", "Cookie"))
    return response


def redirect_to(url: str):
    """Go to `url` after a POST: a plain redirect, or for htmx an HX-Redirect (a 303 would
    be followed by the browser and its page swapped into the fragment's target)."""
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def cached_blocks(key: tuple, template: str, blocks: list[str],
                  load: Callable[[], dict]) -> dict[str, Markup]:
    """Named blocks of `template`, rendered once and kept in the fragment cache.

    `key` must name everything the blocks depend on, including a version read from the
    database (e.g. catalog_generation()); the locale is added here. On a miss, load()
    returns the template context. Cached blocks must not depend on the user or the
    request (no CSRF token, no current_user, no request.args): those are rendered live
    around them.
    """
    cache_key = "frag:" + ":".join(str(part) for part in (*key, get_locale()))
    html = cache.get(cache_key)
    if html is None:
        context = load()
        html = {name: render_block(template, name, **context) for name in blocks}
        cache.set(cache_key, html)
    return {name: Markup(part) for name, part in html.items()}


ERROR_MESSAGES = {
    400: _l("The request was not understood. Check what you entered and try again."),
    401: _l("Please sign in first."),
    403: _l("You do not have permission to do this."),
    404: _l("We could not find that page."),
    405: _l("This action is not allowed here."),
    413: _l("The upload is too large."),
    422: _l("Some of what you entered needs fixing."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Please try again."),
    503: _l("The shop is very busy right now. Please try again in a moment."),
}


def render_error(error: HTTPException | None, code: int | None = None, message: str | None = None):
    """The error page (or its fragment for htmx), with a message people can act on."""
    code = code or (error.code if error is not None else None) or 500
    message = message or ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    # Staff who were let into the backoffice see its errors in its layout (the user is
    # read only if this request loaded it already: an error page never queries).
    user = g.get("_login_user")
    backoffice = request.path.startswith("/admin") and bool(getattr(user, "in_backoffice", False))
    response = render("errors/error.html", block="error", status=code, code=code, error=error,
                      message=message, backoffice=backoffice)
    # For htmx: this is the error block, not the fragment the element asked for; page.js
    # puts it inside an element it was to replace, so the element stays (see there).
    response.headers["X-Shop-Error"] = str(code)
    return response
