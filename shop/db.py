"""Declarative base with a constraint naming convention, and shared column helpers."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, has_app_context, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, MetaData, String, TypeDecorator, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def shop_zone() -> ZoneInfo:
    """The shop's time zone (SHOP_TIMEZONE): its days are the days of figures, sign-ins
    and date filters."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_day(moment: datetime) -> date:
    """The shop's day at an aware moment."""
    return moment.astimezone(shop_zone()).date()


def day_start(day: date) -> datetime:
    """The first instant of one of the shop's days (aware, in the shop's zone)."""
    return datetime.combine(day, time.min, shop_zone())


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime; use timezone-aware UTC")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class CacheVersion(db.Model):
    """A counter per kind of cached content ("catalog", ...): every change to that
    content adds one in its transaction, and cached fragments carry the number in their
    key. The row lock orders concurrent bumps, and clocks play no part."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


def bump_version(name: str) -> None:
    bumped = db.session.execute(
        update(CacheVersion).where(CacheVersion.name == name)
        .values(version=CacheVersion.version + 1)
    ).rowcount
    if not bumped:
        try:
            with db.session.begin_nested():
                db.session.add(CacheVersion(name=name, version=1))
        except IntegrityError:  # created meanwhile by another transaction: count on it
            bump_version(name)


def ledger_move(balance, where, delta: int, entry: Callable[[int], object], *,
                error: type[Exception], refused: str, duplicate: str,
                may_go_negative: bool = False) -> int:
    """The one way a balance column (stock, wallet...) changes: add `delta` to `balance`
    on the row matching `where` only if it stays >= 0 (a guarded UPDATE, never a read
    then a write), and add the ledger row entry(new_balance), in one savepoint. A refused
    claim raises error(refused); a business reference already in the ledger raises
    error(duplicate); either way both are undone. Returns the new balance.
    may_go_negative: a debt the rules allow (a commission clawed back after it was
    settled), never a silent cap."""
    guard = [] if may_go_negative else [balance + delta >= 0]
    try:
        with db.session.begin_nested():
            new_balance = db.session.execute(
                update(balance.class_)
                .where(*where, *guard)
                .values({balance: balance + delta})
                .returning(balance)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if new_balance is None:
                raise error(refused)
            db.session.add(entry(new_balance))
    except IntegrityError:
        raise error(duplicate) from None
    return new_balance


def one_of(column: str, values) -> str:
    """The SQL of a CHECK that `column` holds one of `values` (a status, a kind)."""
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def insert_missing(model, key: str | tuple[str, ...], **values) -> None:
    """Make the row if it is missing: INSERT ... ON CONFLICT (key) DO NOTHING on either
    backend, so racing makers do not fail (accounts of balances, settings rows)."""
    keys = [key] if isinstance(key, str) else list(key)
    db.session.execute(upsert(model).values(**values).on_conflict_do_nothing(index_elements=keys))


def upsert(model):
    """The backend's INSERT for `model`, which takes ON CONFLICT clauses."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(model)


def settings_row(model):
    """An admin's settings kept in one row (id 1): the row, or the column defaults (an
    unsaved object) until an admin saves some, so reading them never writes. Read once
    per request."""
    key = f"settings:{model.__tablename__}"
    if key not in g:
        defaults = {column.key: column.default.arg for column in model.__table__.columns
                    if column.default is not None}
        setattr(g, key, db.session.get(model, 1) or model(id=1, **defaults))
    return getattr(g, key)


def save_settings_row(model, values: dict, *, unknown: Exception):
    """Change settings; the row is made with the defaults first if there is none. A key
    that is not a column raises `unknown`."""
    insert_missing(model, "id", id=1)
    row = db.session.get(model, 1, populate_existing=True)
    setattr(g, f"settings:{model.__tablename__}", row)
    for key, value in values.items():
        if key == "id" or key not in model.__table__.columns:
            raise unknown
        setattr(row, key, value)
    db.session.flush()
    return row


def versions(*names: str) -> tuple[int | None, ...]:
    """The versions of several kinds of content, in one round trip."""
    return tuple(db.session.execute(select(*(version_of(name) for name in names))).one())


def version_of(name: str):
    """A scalar subquery reading the version, to ride along in another query."""
    return select(CacheVersion.version).where(CacheVersion.name == name).scalar_subquery()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# PostgreSQL's "deadlock detected" and "could not serialize access": the transaction was
# chosen to give way and may simply run again.
RETRYABLE_STATES = frozenset({"40P01", "40001"})


def retryable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is a deadlock or serialization failure that an
    edge (a request, a job) retries once, rolled back, before it reports anything."""
    while exc is not None:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) in RETRYABLE_STATES:
            return True
        exc = exc.__cause__
    return False


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    """SQLite: WAL and a busy timeout, so several workers' writes wait instead of
    failing; synchronous=NORMAL, SQLite's advice with WAL (a commit no longer waits for
    the disk: a power cut may lose the last commits, never corrupt the file); and
    transactions begun by SQLAlchemy (below), not by pysqlite, which sends no BEGIN
    before a SAVEPOINT, so a released savepoint would commit the request."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """A request that may write takes SQLite's write lock up front (BEGIN IMMEDIATE), so
    it waits its turn instead of failing when it upgrades from reading; reads don't."""
    if connection.dialect.name == "sqlite":
        reads_only = has_request_context() and request.method in SAFE_METHODS
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


# --- work that must wait for the transaction's outcome ---------------------------------


def on_commit(fn: Callable[[], None]) -> None:
    """Run fn once the current transaction has committed (signals, emails, jobs, deleting
    files of removed images); dropped if it rolls back, or if the savepoint it was
    registered in rolls back. Services may call it."""
    session = db.session()
    scope = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault("on_commit", []).append((scope, fn))


def within(scope, transaction) -> bool:
    """Whether a session transaction `scope` is `transaction` or nested inside it (work
    registered in a savepoint that rolled back goes with it)."""
    while scope is not None:
        if scope is transaction:
            return True
        scope = scope.parent
    return False


def on_rollback(fn: Callable[[], None]) -> None:
    """Run fn if the current transaction rolls back (e.g. delete a file written for it)."""
    db.session.info.setdefault("on_rollback", []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session):
    """Each hook on its own: one that fails (Redis down for an enqueue, a mail server) is
    logged and does not stop the others, nor turn the committed work into an error; what
    it missed is the sweeper's (pending refunds and payments, groups past their time)."""
    if session.in_nested_transaction():  # a savepoint released: the outer may still fail
        return
    session.info.pop("on_rollback", None)
    for _scope, fn in session.info.pop("on_commit", []):
        try:
            fn()
        except Exception:  # noqa: BLE001 - isolated by design, logged with its traceback
            _logger().exception("after-commit hook %r failed", fn)


def _logger():
    import logging

    return current_app.logger if has_app_context() else logging.getLogger("shop")


@event.listens_for(Session, "after_soft_rollback")
def _run_on_rollback(session, previous_transaction):
    if previous_transaction.nested:  # a savepoint: drop only the work registered inside it
        kept = [(scope, fn) for scope, fn in session.info.get("on_commit", [])
                if not within(scope, previous_transaction)]
        session.info["on_commit"] = kept
        return
    session.info.pop("on_commit", None)
    for fn in session.info.pop("on_rollback", []):
        fn()


# Objects a migration makes for one database that no model can declare: SQLite's FTS5
# table of search (a virtual table, its shadow tables and triggers) and PostgreSQL's GIN
# index of search (an expression index): autogenerate and the models-vs-migrations test
# leave names starting so alone (migrations/versions/*_search.py makes them).
UNMODELLED = ("search_fts",)


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: everything but the UNMODELLED objects of the database."""
    return not (reflected and compare_to is None and (name or "").startswith(UNMODELLED))


def render_migration_item(type_, obj, autogen_context):
    """Alembic: write UTCDateTime as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


@dataclass
class RowsPage:
    """A page of result rows, shaped like Flask-SQLAlchemy's Pagination for the pager
    macro. `more`: the count stopped at a cap and there are more rows than `total`."""

    items: list
    page: int
    per_page: int
    total: int
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
