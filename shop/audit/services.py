"""The audit log's rules: what of a request and of a changed row is kept, and how the log
is searched. Services flush, never commit (the request edge, shop.audit.recording,
decides when an entry is written)."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.audit.models import AuditEntry, tables_text
from shop.db import RowsPage, db

MASK = "***"
FORM_VALUE_LENGTH = 200
CHANGE_VALUE_LENGTH = 500
SQL_LENGTH = 500
MAX_CHANGES = 200
FORM_SECRET_WORDS = ("password", "secret", "token", "key")
COLUMN_SECRET_WORDS = ("password", "secret", "token")
# Bookkeeping, not business data: the log itself, and the counters behind cached pages
# that every catalogue edit bumps (shop.db.bump_version).
SKIPPED_TABLES = frozenset({"audit_entries", "cache_versions"})
PER_PAGE = 50
MAX_PAGES = 200  # the count stops at PER_PAGE * MAX_PAGES rows; narrow by date for more
SKIP = object()  # a value the log does not keep (bytes)


# --- what is kept ---------------------------------------------------------------------------


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def _secret(name: str, words: tuple[str, ...]) -> bool:
    name = name.lower()
    return any(word in name for word in words)


def sanitise_form(form, files=None) -> dict:
    """The posted fields as the log keeps them: no CSRF token; fields named like a
    password, secret, token or key as "***"; values cut to 200 characters; a field sent
    several times as a list; an upload as its file name."""
    kept: dict = {}
    for name in form.keys():
        if name == "csrf_token":
            continue
        values = [MASK if _secret(name, FORM_SECRET_WORDS) else _cut(value, FORM_VALUE_LENGTH)
                  for value in form.getlist(name)[:20]]
        kept[_cut(name, 100)] = values[0] if len(values) == 1 else values
    for name in (files or {}).keys():
        names = [_cut(f"file: {upload.filename or ''}", FORM_VALUE_LENGTH)
                 for upload in files.getlist(name)[:20]]
        kept[_cut(name, 100)] = names[0] if len(names) == 1 else names
    return kept


def jsonable(value):
    """A column's value as JSON keeps it: datetimes as ISO text, long text cut, bytes
    left out (SKIP)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _cut(value, CHANGE_VALUE_LENGTH)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return SKIP
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
        return json.loads(text) if len(text) <= CHANGE_VALUE_LENGTH else _cut(text, CHANGE_VALUE_LENGTH)
    return _cut(str(value), CHANGE_VALUE_LENGTH)


def _column_value(key: str, value):
    return MASK if value is not None and _secret(key, COLUMN_SECRET_WORDS) else jsonable(value)


def read_unknown_before(session: Session, obj) -> None:
    """Before a flush: the stored values of the columns being changed whose old value is
    not in memory (the attribute was expired, e.g. by a rolled-back savepoint, or never
    loaded), read in one query, so the log still shows what they were."""
    state = inspect(obj)
    if state.key is None or state.mapper.local_table.name in SKIPPED_TABLES:
        return
    unknown = [prop for prop in state.mapper.column_attrs
               if (history := state.attrs[prop.key].history).added and not history.deleted]
    if not unknown:
        return
    mapper = state.mapper
    row = session.execute(
        select(*(prop.columns[0] for prop in unknown))
        .where(*(column == value for column, value in zip(mapper.primary_key, state.key[1])))
    ).first()
    if row is not None:
        state.info["audit_before"] = {prop.key: value for prop, value in zip(unknown, row)}


def row_change(obj, op: str) -> dict | None:
    """What a flush did to one ORM object (op: insert, update, delete), read in the
    session's after_flush, where attribute history is still that of before the flush:
    an insert's values after, a delete's values before, an update's changed columns
    before and after. None for a row the log does not keep or an update that changed no
    column. Loads nothing: an old value that was not in memory was read before the flush
    (read_unknown_before)."""
    state = inspect(obj)
    mapper = state.mapper
    table = mapper.local_table.name
    known_before = state.info.pop("audit_before", {})
    if table in SKIPPED_TABLES:
        return None
    before: dict = {}
    after: dict = {}
    for prop in mapper.column_attrs:
        key = prop.key
        if op == "update":
            history = state.attrs[key].history
            if not history.added and not history.deleted:
                continue
            old = history.deleted[0] if history.deleted else known_before.get(key)
            new = history.added[0] if history.added else None
            if old == new and history.deleted:  # set to what it was
                continue
            pairs = ((before, old), (after, new))
        elif key in state.dict:
            pairs = ((after if op == "insert" else before, state.dict[key]),)
        else:
            continue
        for side, value in pairs:
            value = _column_value(key, value)
            if value is not SKIP:
                side[key] = value
    if op == "update" and not before and not after:
        return None
    # an insert has its key in memory by now, not yet its identity
    identity = state.identity if state.key is not None else mapper.primary_key_from_instance(obj)
    identity = [jsonable(part) for part in identity or ()]
    return {"table": table, "id": identity[0] if len(identity) == 1 else identity, "op": op,
            "before": before, "after": after}


def statement_change(statement, parameters, session: Session) -> dict | None:
    """A bulk INSERT/UPDATE/DELETE run with session.execute(): its table and its SQL with
    the values bound (ORM history does not see those rows)."""
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if name is None:  # text(): the table it names
        found = re.match(r'\s*(?:insert\s+into|update|delete\s+from)\s+"?(\w+)',
                         getattr(statement, "text", ""), re.I)
        name = found.group(1).lower() if found else "?"
    if name in SKIPPED_TABLES:
        return None
    try:
        compiled = statement.compile(dialect=session.get_bind().dialect)
        sql, values = str(compiled), dict(compiled.params)
    except Exception:  # a statement that does not compile alone: its text is still worth having
        sql, values = str(statement), {}
    if isinstance(parameters, dict):
        values.update(parameters)
    elif parameters:  # executemany: the first rows
        values["rows"] = [_masked(row) if isinstance(row, dict) else row for row in list(parameters)[:5]]
    values = _masked(values)
    if values:
        sql += " " + json.dumps(values, default=_json_default, ensure_ascii=False)
    return {"table": name, "op": "statement", "sql": _cut(" ".join(sql.split()), SQL_LENGTH)}


def _masked(values: dict) -> dict:
    return {key: MASK if value is not None and _secret(str(key), COLUMN_SECRET_WORDS) else value
            for key, value in values.items()}


def _json_default(value):
    value = jsonable(value)
    return "<bytes>" if value is SKIP else value


def capped(changes: list, dropped: int = 0) -> list:
    """At most MAX_CHANGES changes, then {"truncated": how many more}."""
    extra = max(0, len(changes) - MAX_CHANGES) + dropped
    return changes[:MAX_CHANGES] + ([{"truncated": extra}] if extra else [])


def add_entry(*, actor_id: int | None, actor_role: str | None, endpoint: str, method: str,
              path: str, view_args: dict | None, status: int, form: dict,
              changes: list) -> AuditEntry:
    """Add the entry to the session (the caller's transaction writes it)."""
    target = ", ".join(f"{key}={value}" for key, value in (view_args or {}).items())
    entry = AuditEntry(actor_id=actor_id, actor_role=actor_role,
                       domain=endpoint.rpartition(".")[0][:40], endpoint=endpoint[:80],
                       method=method[:10], path=_cut(path, 300), target=_cut(target, 200),
                       status=status, form=form, changes=changes, tables=tables_text(changes))
    db.session.add(entry)
    return entry


# --- the log --------------------------------------------------------------------------------


@dataclass
class LogFilters:
    actor: str = ""  # a user id (the form picks it from staff_accounts())
    domain: str = ""  # a blueprint: "catalog_admin"
    endpoint: str = ""  # exactly: "catalog_admin.product_form"
    table: str = ""  # a table one of the changes touched
    status: str = ""  # "ok" (< 400), "refused" (>= 400) or any
    since: datetime | None = None  # aware datetimes: since <= created_at < until
    until: datetime | None = None
    endpoints: tuple[str, ...] | None = None  # any of these (the actions on a kind of thing)


def _conditions(filters: LogFilters) -> list:
    conditions = []
    actor = filters.actor.strip()
    if actor.isascii() and actor.isdigit():
        conditions.append(AuditEntry.actor_id == int(actor))
    if filters.domain:
        conditions.append(AuditEntry.domain == filters.domain)
    if filters.endpoint.strip():
        conditions.append(AuditEntry.endpoint == filters.endpoint.strip())
    if filters.table.strip():
        name = filters.table.strip().lower()
        conditions.append(AuditEntry.tables.contains(f",{name},", autoescape=True))
    if filters.endpoints is not None:
        conditions.append(AuditEntry.endpoint.in_(filters.endpoints))
    if filters.status == "ok":
        conditions.append(AuditEntry.status < 400)
    elif filters.status == "refused":
        conditions.append(AuditEntry.status >= 400)
    if filters.since is not None:
        conditions.append(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEntry.created_at < filters.until)
    return conditions


def log_page(filters: LogFilters, page: int = 1) -> RowsPage | None:
    """Entries matching the filters, newest first, each with its actor's email and
    nickname (entry, email, nickname); None when
    `page` is past the last page. Two queries: a count that stops at the cap, the page
    (by the index on created_at, or the actor's, the endpoint's or the domain's)."""
    conditions = _conditions(filters)
    cap = PER_PAGE * MAX_PAGES
    total = db.session.scalar(select(func.count()).select_from(
        select(AuditEntry.id).where(*conditions).limit(cap + 1).subquery()))
    result = RowsPage([], page, PER_PAGE, min(total, cap), more=total > cap)
    if page > result.pages:
        return None
    result.items = db.session.execute(
        select(AuditEntry, User.email, User.nickname).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(*conditions).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return result


def get_entry(entry_id: int) -> tuple[AuditEntry, str | None, str | None] | None:
    """An entry with its actor's email and nickname."""
    return db.session.execute(
        select(AuditEntry, User.email, User.nickname).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.id == entry_id)).first()


def staff_accounts() -> list[tuple[int, str, str, str]]:
    """(id, nickname, email or sign-in phone, role) of the accounts that act in the
    backoffice, and of any account that has an entry (a role taken away since), by
    nickname: the log's "who"."""
    acted = select(AuditEntry.actor_id).where(AuditEntry.actor_id.is_not(None)).distinct()
    return [tuple(row) for row in db.session.execute(
        select(User.id, User.nickname, func.coalesce(User.email, User.signin_phone, ""), User.role)
        .where((User.role != "shopper") | User.id.in_(acted))
        .order_by(User.nickname, User.id))]
