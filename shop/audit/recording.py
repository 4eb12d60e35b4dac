"""Recording backoffice actions, at the request edge.

A backoffice action is a state-changing request (not GET/HEAD/OPTIONS) to a backoffice
route: one of the "admin" or "*_admin" blueprints, any route under /admin (the orders'
and the wallet's backoffice pages live in their shopper blueprints), or any view guarded
by roles_required. shop.web.auth.is_backoffice() says it; tests/audit walks the URL map
with it.

While such a request runs, listeners on its session (that session only: other requests
pay nothing) collect what it changes: after each flush, every inserted, updated and
deleted ORM row (table, key, columns before and after), and every bulk
INSERT/UPDATE/DELETE run through session.execute() (its SQL), which ORM history does not
see. Changes made inside a savepoint that rolls back are dropped with it.

Then, around the request edge (shop.web.lifecycle.finish_request, which commits a
successful state-changing request and rolls back the others):
- before it, for a success (< 400): flush what is left, stop collecting and add the
  entry, so it commits with the action, atomically;
- after it, for a refusal (>= 400: a form error, 403, 409, 500...): the action has been
  rolled back, so the attempt is written in a transaction of its own, without changes.
Anonymous requests (sent to sign in) are not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause
from werkzeug.exceptions import HTTPException

from shop.audit import services
from shop.db import SAFE_METHODS, db, within
from shop.web.auth import is_backoffice
from shop.web.lifecycle import finish_request

DML_WORDS = ("insert", "update", "delete")


@dataclass
class Recording:
    """The audit state of one backoffice request (on flask.g)."""

    collecting: bool = True
    changes: list = field(default_factory=list)  # (transaction scope, change)
    dropped: int = 0  # changes past the cap
    actor_known: bool = False
    actor_id: int | None = None  # None: anonymous, not recorded
    actor_role: str | None = None
    entry_added: bool = False  # a success's entry, in the action's transaction
    refusal_written: bool = False
    request: object = None  # the request it is about


def _current() -> Recording | None:
    recording = g.get("_audit")
    if recording is not None and recording.request is request._get_current_object():
        return recording
    return None


def _is_action() -> bool:
    rule = request.url_rule
    return (rule is not None and request.method not in SAFE_METHODS
            and is_backoffice(rule, current_app.view_functions.get(rule.endpoint)))


def _recording(create: bool = False) -> Recording | None:
    recording = _current()
    if recording is None and create and _is_action():  # before_request was cut short (CSRF)
        recording = g._audit = Recording(collecting=False, request=request._get_current_object())
    return recording


def _collecting() -> Recording | None:
    if not has_request_context():
        return None
    recording = _current()
    return recording if recording is not None and recording.collecting else None


def _learn_actor(recording: Recording) -> None:
    """Who is acting, read once while the session is sound."""
    if recording.actor_known:
        return
    try:
        if current_user.is_authenticated:
            recording.actor_id, recording.actor_role = current_user.id, current_user.role
        recording.actor_known = True
    except SQLAlchemyError:  # the session failed: the id from the sign-in cookie at least
        user_id = str(session.get("_user_id") or "").partition(".")[0]
        recording.actor_id = int(user_id) if user_id.isdigit() else None
        recording.actor_known = recording.actor_id is not None


def _start() -> None:
    if _is_action():
        recording = g._audit = Recording(request=request._get_current_object())
        _learn_actor(recording)
        recording.collecting = recording.actor_id is not None
        if recording.collecting:
            _listen(db.session())


def _form() -> dict:
    try:
        return services.sanitise_form(request.form, request.files)
    except HTTPException:  # a body refused unread (too large, malformed): no fields
        return {}


def _entry_values(recording: Recording, status: int, changes: list) -> dict:
    return dict(actor_id=recording.actor_id, actor_role=recording.actor_role,
                endpoint=request.endpoint or "", method=request.method,
                path=request.full_path.rstrip("?"), view_args=request.view_args,
                status=status, form=_form(), changes=changes)


def _before_edge(response):
    """A successful action: its entry joins the action's transaction."""
    recording = _recording(create=True)
    if recording is None:
        return response
    _learn_actor(recording)
    if recording.actor_id is None or recording.entry_added or response.status_code >= 400:
        recording.collecting = False
        return response
    db.session.flush()  # what the view left unflushed is part of the action too
    recording.collecting = False
    changes = services.capped([change for _scope, change in recording.changes], recording.dropped)
    services.add_entry(**_entry_values(recording, response.status_code, changes))
    # if the commit fails, the 500 it turns into passes here again and is recorded below
    recording.entry_added = True
    return response


def _after_edge(response):
    """A refused action, rolled back by the edge: the attempt, in its own transaction."""
    recording = _recording()
    if (recording is None or response.status_code < 400 or recording.actor_id is None
            or recording.refusal_written):
        return response
    recording.collecting, recording.refusal_written = False, True
    try:
        db.session.rollback()
        services.add_entry(**_entry_values(recording, response.status_code, []))
        db.session.commit()
    except SQLAlchemyError:  # the response stands; the log says why it lacks the entry
        db.session.rollback()
        current_app.logger.exception("audit: the refused action %s was not recorded",
                                     request.endpoint)
    return response


# --- collecting changes ----------------------------------------------------------------------


def _keep(session, recording: Recording, change: dict | None) -> None:
    if change is None:
        return
    if len(recording.changes) >= services.MAX_CHANGES:
        recording.dropped += 1
        return
    scope = session.get_nested_transaction() or session.get_transaction()
    recording.changes.append((scope, change))


def _read_unknown_before(session, flush_context, instances):
    recording = _collecting()
    if recording is None:
        return
    for obj in list(session.dirty):
        services.read_unknown_before(session, obj)


def _collect_rows(session, flush_context):
    recording = _collecting()
    if recording is None:
        return
    for op, objects in (("insert", session.new), ("update", session.dirty),
                        ("delete", session.deleted)):
        for obj in list(objects):
            _keep(session, recording, services.row_change(obj, op))


def _collect_statement(orm_execute_state):
    recording = _collecting()
    if recording is None:
        return
    statement = orm_execute_state.statement
    if not (orm_execute_state.is_insert or orm_execute_state.is_update
            or orm_execute_state.is_delete):
        if not (isinstance(statement, TextClause)
                and statement.text.lstrip().lower().startswith(DML_WORDS)):
            return
    session = orm_execute_state.session
    _keep(session, recording, services.statement_change(
        statement, orm_execute_state.parameters, session))


def _drop_rolled_back(session, previous_transaction):
    """What a rolled-back savepoint did is undone: so is its record. A full rollback
    undoes all."""
    recording = _collecting()
    if recording is None:
        return
    if previous_transaction.nested:
        recording.changes = [(scope, change) for scope, change in recording.changes
                             if not within(scope, previous_transaction)]
    else:
        recording.changes, recording.dropped = [], 0


LISTENERS = (("before_flush", _read_unknown_before), ("after_flush", _collect_rows),
             ("do_orm_execute", _collect_statement), ("after_soft_rollback", _drop_rolled_back))


def _listen(session: Session) -> None:
    """Collect on this session (Flask-SQLAlchemy's for this request's app context, removed
    with it at the end: the listeners go with it)."""
    for name, listener in LISTENERS:
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def init_audit(app: Flask) -> None:
    """Call after shop.web.init_lifecycle(app): one hook runs before its commit, one right
    after its rollback (Flask runs after_request functions last registered first)."""
    funcs = app.after_request_funcs.setdefault(None, [])
    if finish_request not in funcs:
        raise RuntimeError("init_audit() needs init_lifecycle() first")
    app.before_request(_start)
    app.after_request(_before_edge)  # last registered: runs before finish_request
    funcs.insert(funcs.index(finish_request), _after_edge)  # before it in the list: runs after
