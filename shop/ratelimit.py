"""Rate limits that hold across workers and servers (Flask-Limiter, fixed windows).

Where the counts live, one storage for every process of a deployment
(RATELIMIT_STORAGE_URI; the README's configuration table says the same):
- with REDIS_URL (production: several app servers), Redis;
- without it (the default run), a SQLite file beside the shop's database
  (`shopfile://<path>`, FileStorage below), shared by every worker process on the
  machine. Not the shop's own database: a count must stand when the request that made it
  is rolled back (a refused sign-in), and a second write connection to SQLite would wait
  for the request's own lock.

Counting is atomic and happens before the answer, so N parallel attempts give exactly
the limit: Flask-Limiter's fixed window adds one and compares in one step (Redis INCRBY;
here one INSERT ... ON CONFLICT DO UPDATE ... RETURNING). Where only failures count
(guessing pickup codes), the attempt is first judged (the code looked up), and only a
failure is counted, with take(), before it is answered: the failures past the limit,
parallel ones included, are refused (429, with retry_after() to say how long to wait)
instead of answered. A success is never counted and never refused (shop.stores.admin_views
says why that tells a guesser nothing).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from pathlib import Path

from flask import current_app
from limits import parse_many
from limits.storage import Storage

from shop.extensions import limiter


class FileStorage(Storage):
    """Fixed-window counters in a SQLite file, one row a key, each change one statement."""

    STORAGE_SCHEME = ["shopfile"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = uri.split("://", 1)[1]
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            self._set_up(connection)
            self._local.connection = connection
        return connection

    @staticmethod
    def _set_up(connection: sqlite3.Connection) -> None:
        """WAL and the table, once per file. Switching the journal mode does not wait for
        the busy timeout (SQLite answers "database is locked" at once while another
        process writes), so a new connection retries that step for up to 10 s; once the
        file is in WAL mode, connections only read the mode."""
        deadline = time.monotonic() + 10
        while True:
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, "
                                   "count INTEGER NOT NULL, expires REAL NOT NULL)")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        return self._db().execute(
            "INSERT INTO counters (key, count, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO "
            "UPDATE SET count = CASE WHEN expires <= ? THEN excluded.count "
            "ELSE count + excluded.count END, "
            "expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END "
            "RETURNING count", (key, amount, now + expiry, now, now)).fetchone()[0]

    def get(self, key: str) -> int:
        row = self._db().execute("SELECT count FROM counters WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        self._db().execute("SELECT 1")
        return True

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counters WHERE key = ?", (key,))


def check_storage(uri: str) -> None:
    """Refuse a store that counts in each process: N workers would let N times the limit
    through (the attack run's finding)."""
    if uri.split("://", 1)[0] in ("memory", "async+memory"):
        raise RuntimeError(f"RATELIMIT_STORAGE_URI={uri} counts in each process; use redis:// "
                           "(several servers) or shopfile://<path> (one machine)")


def _items(config_key: str):
    return parse_many(current_app.config[config_key])


def _key(config_key: str, who: str) -> tuple[str, ...]:
    """The identifiers of a count kept by hand: the deployment's RATELIMIT_KEY_PREFIX
    (as Flask-Limiter's own limits carry it, so shops sharing one Redis never count
    together), the limit's name, and who is counted."""
    return (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), config_key, who)


def exhausted(config_key: str, who: str) -> bool:
    """Whether `who` has used up any of the limits named by config_key (counts nothing)."""
    return not all(limiter.limiter.test(item, *_key(config_key, who)) for item in _items(config_key))


def take(config_key: str, who: str) -> bool:
    """Count one attempt of `who` under the limits named by config_key, atomically, before
    it is answered; False when it is past any of them (it is then answered 429)."""
    return all([limiter.limiter.hit(item, *_key(config_key, who)) for item in _items(config_key)])


def take_in_turn(config_key: str, who: str) -> bool:
    """As take(), but the windows are counted in the order config_key lists them (the
    shortest first) and counting stops at the first one used up: an attempt refused by
    the minute's window does not use the hour's. So of N parallel attempts exactly what
    the tightest window has left pass; with take(), counting every window, the attempt
    first in the minute's window may come after others in the hour's and be refused
    there, and then none passes (sign-in codes: shop.accounts.phone)."""
    return all(limiter.limiter.hit(item, *_key(config_key, who)) for item in _items(config_key))


def retry_after(config_key: str, who: str) -> int:
    """Seconds until `who` may try again under the limits named by config_key: until the
    latest window among those used up ends (0 when none is)."""
    now, wait = time.time(), 0.0
    for item in _items(config_key):
        stats = limiter.limiter.get_window_stats(item, *_key(config_key, who))
        if stats.remaining <= 0:
            wait = max(wait, stats.reset_time - now)
    return max(0, math.ceil(wait))
