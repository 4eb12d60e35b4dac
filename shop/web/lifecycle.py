"""One transaction per request, committed at the edge.

Views call one service; services flush and raise. Here, after the view has produced a
response, the session commits when the request may change state (POST, PUT, PATCH,
DELETE) and succeeded (< 400); it rolls back otherwise. So a refused request (form error,
4xx page, exception) changes nothing, and no GET can change state even by mistake.
Work registered with shop.db.on_commit() (signals, emails, jobs) runs only after the
commit has succeeded.
"""

from __future__ import annotations

from flask import Flask, request

from shop.db import SAFE_METHODS, db
from shop.jobs import run_inline


def finish_request(response):
    """The request edge: commit a successful state-changing request, roll back the rest
    (the audit log places its hooks around this one)."""
    if response.status_code >= 400 or request.method in SAFE_METHODS:
        db.session.rollback()
    else:
        db.session.commit()
        run_inline()  # jobs the commit made due, when there is no queue (shop.jobs)
    return response


def _teardown(exc):
    if exc is not None:
        db.session.rollback()


def init_lifecycle(app: Flask) -> None:
    app.after_request(finish_request)
    app.teardown_request(_teardown)
