"""One transaction per request, committed at the edge.

Views call one service; services flush and raise. Here, after the view has produced a
response, the session commits when the request may change state (POST, PUT, PATCH,
DELETE) and succeeded (< 400); it rolls back otherwise. So a refused request (form error,
4xx page, exception) changes nothing, and no GET can change state even by mistake.
Callbacks registered with after_commit() (signals, emails, jobs) run only once the
commit has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, request

from shop.db import db


def after_commit(fn: Callable[[], None]) -> None:
    """Run fn after this request's transaction commits; dropped on rollback."""
    g.setdefault("_after_commit", []).append(fn)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _finish(response):
    callbacks = g.pop("_after_commit", [])
    if response.status_code >= 400 or request.method in SAFE_METHODS:
        db.session.rollback()
        return response
    db.session.commit()
    for fn in callbacks:
        fn()
    return response


def _teardown(exc):
    if exc is not None:
        db.session.rollback()
        g.pop("_after_commit", None)


def init_lifecycle(app: Flask) -> None:
    app.after_request(_finish)
    app.teardown_request(_teardown)
