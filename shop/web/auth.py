"""Who may do what. One decorator guards every backoffice route, fragments included."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode, urlsplit

from flask import abort, make_response, redirect, request, session, url_for
from flask_login import current_user

from shop.extensions import htmx, login_manager


def viewer_id() -> int | None:
    """The signed-in visitor's user id, or None for a guest."""
    return current_user.id if current_user.is_authenticated else None


def is_backoffice(rule, view) -> bool:
    """Whether requests to this URL rule (and its view) are backoffice requests: a route
    of the "admin" or a "*_admin" blueprint, any route under /admin (the orders' and the
    wallet's backoffice pages live in their shopper blueprints), or a view guarded by
    roles_required. The audit log records them; page views of them are not tracked."""
    blueprint = rule.endpoint.rpartition(".")[0]
    return (blueprint == "admin" or blueprint.endswith("_admin")
            or rule.rule == "/admin" or rule.rule.startswith("/admin/")
            or bool(getattr(view, "required_roles", None)))


def roles_required(*roles: str):
    """Allow signed-in users whose role is one of `roles`; admins may do everything.

    Anonymous users are sent to sign in (for htmx, with HX-Redirect and 401); others
    get 403. The roles are kept on the view so a test can check every backoffice route.
    """

    allowed = frozenset(roles) | {"admin"}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = allowed
        return wrapped

    return decorator


def _page_to_come_back_to() -> str | None:
    """Where signing in returns to: the page asked for, for a plain GET; else the page
    the request came from (htmx's current URL, or the referrer, on this site), never
    the URL of a form's POST or of a fragment (after signing in, a 405 or a bare
    fragment)."""
    if request.method in ("GET", "HEAD") and not htmx:
        return request.full_path.rstrip("?")
    came_from = urlsplit((htmx.current_url if htmx else None) or request.referrer or "")
    if came_from.netloc != request.host:
        return None
    return safe_next_url(came_from.path + (f"?{came_from.query}" if came_from.query else ""))


@login_manager.unauthorized_handler
def sign_in_first():
    """Someone not signed in asked for what needs an account (login_required,
    roles_required): the sign-in page, then back (for htmx: 401 with HX-Redirect, so
    the page goes there instead of a fragment being swapped into it)."""
    back = _page_to_come_back_to()
    url = url_for("accounts.signin") + (f"?{urlencode({'next': back})}" if back else "")
    if htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def safe_next_url(target: str | None) -> str | None:
    """Only same-site paths: '/me' yes; '//evil.example', 'https://x', '/\\evil' no."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch in target for ch in "\\\r\n\t"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# What survives the new session started at sign-in and sign-out: the language, and what
# domains add (the visitor's cart, merged into the account once signed in).
SESSION_KEYS_KEPT = {"lang"}
# What survives signing in only: what the visitor did just before (the article they came
# through). Signing out hands the browser to someone else, so it goes.
SESSION_KEYS_KEPT_AT_SIGNIN: set[str] = set()


def fresh_session(signing_in: bool = False) -> None:
    """Forget everything in the session but SESSION_KEYS_KEPT (and, when signing in,
    SESSION_KEYS_KEPT_AT_SIGNIN)."""
    keys = SESSION_KEYS_KEPT | SESSION_KEYS_KEPT_AT_SIGNIN if signing_in else SESSION_KEYS_KEPT
    kept = {key: session[key] for key in keys if key in session}
    session.clear()
    session.update(kept)
