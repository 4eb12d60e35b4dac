"""The visitor id: a random first-party id kept in the session, the only thing figures
know about a visitor (no address, no browser string). It survives signing in, not
signing out: the next person on that browser is a new visitor."""

from __future__ import annotations

import secrets

from flask import session

from shop.web.auth import SESSION_KEYS_KEPT_AT_SIGNIN

VISITOR_KEY = "vid"
SESSION_KEYS_KEPT_AT_SIGNIN.add(VISITOR_KEY)


def visitor_id() -> str:
    vid = session.get(VISITOR_KEY)
    if not (isinstance(vid, str) and len(vid) == 32):
        vid = session[VISITOR_KEY] = secrets.token_hex(16)
    return vid


def given_with_the_session(response):
    """After a request that writes the session anyway (a first page: its CSRF token), the
    visitor id goes into the same cookie. Made later by the page's beacon instead, it
    would be a second write racing the page's own POSTs (a search remembered, a cut), and
    the last answer's cookie would drop the other's change."""
    if session.modified and not isinstance(session.get(VISITOR_KEY), str):
        visitor_id()
    return response
