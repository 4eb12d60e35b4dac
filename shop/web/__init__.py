"""The request edge: one transaction per request, htmx-aware rendering, error pages,
role checks and safe redirects. Views import from here; services never do."""

from shop.web.auth import (SESSION_KEYS_KEPT, SESSION_KEYS_KEPT_AT_SIGNIN, fresh_session,
                           roles_required, safe_next_url, viewer_id)
from shop.web.args import number_arg
from shop.web.lifecycle import init_lifecycle
from shop.web.rendering import cached_blocks, live_fragment, redirect_to, render, render_error

__all__ = [
    "viewer_id",
    "SESSION_KEYS_KEPT",
    "SESSION_KEYS_KEPT_AT_SIGNIN",
    "fresh_session",
    "cached_blocks",
    "init_lifecycle",
    "live_fragment",
    "number_arg",
    "redirect_to",
    "render",
    "render_error",
    "roles_required",
    "safe_next_url",
]
