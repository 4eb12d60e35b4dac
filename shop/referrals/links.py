"""Share links and the referral cookie (the request side of binding).

- A share link is short and carries the sharer's code: /s/<CODE> for the home page,
  /s/<CODE>-p42 for product 42, -a7 for article 7; other domains add kinds of page with
  register_target() (group buys: -g<id>).
- Opening one redirects to the page with ?shared=<token>; the page, once loaded, posts a
  beacon that records the open (whose link, which page, the random visitor id, when:
  nothing else about the visitor) and binds a signed-in shopper. No GET writes to the
  database; bots that do not run pages are not counted.
- The open also leaves a first-party cookie (signed, so a code and its time can not be
  forged) for the admin's `cookie_days`: a visitor who registers or signs in within
  that window is bound then. Under `last_click` a newer link replaces the cookie;
  otherwise the first one stays until it runs out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import after_this_request, current_app, g, has_request_context, request, url_for
from flask_login import user_logged_in
from itsdangerous import BadSignature, URLSafeTimedSerializer

from shop.signals import user_registered
from shop.accounts.services import AccountError
from shop.referrals import services
from shop.web.templating import absolute_url

TOKEN = re.compile(r"^([2-9A-HJ-NP-Z]{8})(?:-([a-z][1-9][0-9]{0,9}))?$")
TARGET = re.compile(r"^([a-z])([1-9][0-9]{0,9})$")
COOKIE = "ref"
# kind -> (endpoint, its id argument, titles(ids) -> {id: title}); views.py registers
# products and articles, other domains their own pages.
TARGETS: dict[str, tuple[str, str, Callable[[list[int]], dict[int, str]]]] = {}


# kind -> builder(id) giving (image path or None, title, price text), or None if not shown
POSTERS: dict[str, Callable[[int], tuple[Path | None, str, str] | None]] = {}


def register_target(kind: str, endpoint: str, arg: str,
                    titles: Callable[[list[int]], dict[int, str]]) -> None:
    """Let share links point at another kind of page (one lowercase letter)."""
    TARGETS[kind] = (endpoint, arg, titles)


def register_poster(kind: str, builder: Callable[[int], tuple[Path | None, str, str] | None]) -> None:
    """Let a kind of page have a share poster (products; group buys)."""
    POSTERS[kind] = builder


def token(code: str, target: str = "") -> str:
    return f"{code}-{target}" if target else code


def valid_target(target: str) -> bool:
    """"" (the home page) or a registered kind with an id, e.g. "p42"."""
    match = TARGET.match(target)
    return target == "" or (match is not None and match[1] in TARGETS and int(match[2]) < 2**31)


def parse(value: str) -> tuple[str, str] | None:
    """(code, target) of a share token, or None when it is not one."""
    match = TOKEN.match(value or "")
    if match is None or not valid_target(match[2] or ""):
        return None
    return match[1], match[2] or ""


def _endpoint(target: str, **args) -> tuple[str, dict]:
    if not target:
        return "home.index", args
    endpoint, arg, _titles = TARGETS[target[0]]
    return endpoint, {arg: int(target[1:]), **args}


def target_url(target: str, **args) -> str:
    endpoint, values = _endpoint(target, **args)
    return url_for(endpoint, **values)


def page_url(target: str) -> str:
    """The page's absolute address without a code (what visitors share)."""
    endpoint, values = _endpoint(target)
    return absolute_url(endpoint, **values)


def titles(targets: list[str]) -> dict[str, str]:
    """What each shared page is called, one query per kind of page."""
    from flask_babel import gettext as _

    found = {"": _("Home page")} if "" in targets else {}
    for kind, (_endpoint, _arg, load) in TARGETS.items():
        ids = [int(t[1:]) for t in targets if t[:1] == kind]
        if ids:
            found.update({f"{kind}{i}": title for i, title in load(ids).items()})
    return found


def short_url(code: str, target: str = "", **args) -> str:
    """The absolute short link, built on the shop's public address (a poster's QR code
    adds src=qr, so its scans are told apart from the link's other openings)."""
    return absolute_url("referrals.open_link", value=token(code, target), **args)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="referral-cookie")


def read_cookie() -> tuple[str, str] | None:
    """(code, target) from the cookie if it is ours and within the window."""
    raw = request.cookies.get(COOKIE) if has_request_context() else None
    if not raw:
        return None
    try:
        code, target = _serializer().loads(raw, max_age=services.settings().cookie_days * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return code, target


def remember(code: str, target: str) -> None:
    """Leave the cookie on the response, unless the rule keeps an earlier one."""
    if services.settings().binding_rule != "last_click" and read_cookie() is not None:
        return
    value = _serializer().dumps([code, target])
    days = services.settings().cookie_days

    @after_this_request
    def _set(response):
        response.set_cookie(COOKIE, value, max_age=days * 86400, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response


def cookie_target_for(referrer_id: int | None) -> str | None:
    """The page of the link the order's referrer shared, when the cookie holds it."""
    cookie = read_cookie() if referrer_id is not None else None
    if cookie is None:
        return None
    sharer = services.sharer_of(cookie[0])
    return cookie[1] if sharer is not None and sharer.id == referrer_id else None


def cookie_code() -> str:
    cookie = read_cookie()
    return cookie[0] if cookie else ""


def bind_from_cookie(user_id: int, via: str) -> None:
    """Apply the cookie's code to a shopper who just signed in or registered; a code
    that may not refer them is left alone (they were told when they opened it)."""
    code = cookie_code()
    if code:
        try:
            services.bind(user_id, code, via=via)
        except services.ReferralError:
            pass


@user_logged_in.connect
def _signed_in(app, user, **extra) -> None:
    if g.get("referral_registered") != user.id:  # registration has applied its code
        bind_from_cookie(user.id, "signin")


@user_registered.connect
def _registered(user, *, invite: str = "", **extra) -> None:
    """A new account is bound to the code typed at registration (a code that may not
    refer them refuses the registration, with the reason), else to the cookie's."""
    g.referral_registered = user.id
    if not invite:
        bind_from_cookie(user.id, "registration")
        return
    try:
        services.bind(user.id, invite, via="registration")
    except services.ReferralError as exc:
        raise AccountError(str(exc), field="invite") from None
