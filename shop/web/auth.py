"""Who may do what. One decorator guards every backoffice route, fragments included."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, make_response, request, session, url_for
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
                if htmx:
                    response = make_response("", 401)
                    response.headers["HX-Redirect"] = url_for(
                        "accounts.signin", next=request.full_path.rstrip("?")
                    )
                    return response
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = allowed
        return wrapped

    return decorator


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
