"""One transaction per request, committed at the edge.

Views call one service; services flush and raise. Here, after the view has produced a
response, the session commits when the request may change state (POST, PUT, PATCH,
DELETE) and succeeded (< 400); it rolls back otherwise. So a refused request (form error,
4xx page, exception) changes nothing, and no GET can change state even by mistake.
Work registered with shop.db.on_commit() (signals, emails, jobs) runs only after the
commit has succeeded.

A PostgreSQL deadlock or serialization failure (shop.db.retryable) is not shown as an
error: the request is rolled back and run once more from the start, with the session
cookie as it came in. Every path takes its locks in one order (shop.orders.lifecycle),
so this is a safety net, not how concurrency is handled; a second failure in a row is a
503 asking the shopper to try again, never a 500.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, session

from shop.db import SAFE_METHODS, db, retryable
from shop.jobs import run_inline
from shop.web.rendering import render_error
from shop.web.visitor import given_with_the_session
from shop.text import line_breaks_as_text, refused_input


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


def _retrying(dispatch):
    """Flask's full_dispatch_request (before-request hooks, the view, after-request hooks
    and the commit) run again once when the database chose this request to give way."""

    def full_dispatch_request():
        cookie = dict(session)
        try:
            return dispatch()
        except Exception as exc:
            if not retryable(exc):
                raise
            current_app.logger.warning("%s %s gave way (%s); running it again",
                                       request.method, request.path, exc.__class__.__name__)
        _start_again(cookie)
        try:
            return dispatch()
        except Exception as exc:
            if not retryable(exc):
                raise
            current_app.logger.warning("%s %s gave way twice", request.method, request.path)
            db.session.rollback()
            # as Flask ends any error: the after-request hooks (headers, rollback) run
            return current_app.finalize_request(render_error(None, 503), from_error_handler=True)

    return full_dispatch_request


def _start_again(cookie: dict) -> None:
    """Undo what the first run left: the transaction, what it kept on g, what it put in
    the session cookie, and how far it read the uploads."""
    db.session.rollback()
    g.__dict__.clear()
    session.clear()
    session.update(cookie)
    for upload in request.files.values():
        upload.stream.seek(0)


def _refuse_control_characters():
    """The one boundary of text input (shop.text): a control character anywhere in
    the query or the form is a 400 with a message, before any view runs."""
    line_breaks_as_text()
    why = refused_input()
    if why is not None:
        return render_error(None, 400, why)
    return None


def init_lifecycle(app: Flask) -> None:
    app.before_request(_refuse_control_characters)
    app.after_request(finish_request)
    app.after_request(given_with_the_session)
    app.teardown_request(_teardown)
    app.full_dispatch_request = _retrying(app.full_dispatch_request)
