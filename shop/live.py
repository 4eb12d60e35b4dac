"""What a polled progress fragment reads first: the version of the row it shows (a
group buy, a bargain), kept in the app cache for VERSION_SECONDS.

Polls are the hottest path of the shop: every open group or bargain page asks every
3 s, and nearly always nothing has changed. So the (version, status...) tuple a poll
compares with the browser's ETag comes from the cache, and a service that changes the
row calls changed(), which drops the cached tuple once the change commits. With Redis
every app server sees the change at once; with the per-process cache another worker
may answer "unchanged" for up to VERSION_SECONDS, and the next poll brings the change.
"""

from __future__ import annotations

from collections.abc import Callable

from shop.db import on_commit
from shop.extensions import cache

VERSION_SECONDS = 1


def _key(kind: str, row_id: int) -> str:
    return f"live-version:{kind}:{row_id}"


def version(kind: str, row_id: int, load: Callable[[], tuple | None]) -> tuple | None:
    """load()'s tuple (None: no such row to show), from the cache when it is there."""
    key = _key(kind, row_id)
    found = cache.get(key)
    if found is None:
        found = tuple(load() or ())  # a plain tuple: a database row does not cache
        cache.set(key, found, timeout=VERSION_SECONDS)
    return tuple(found) or None


def changed(kind: str, row_id: int) -> None:
    """The row changed in this transaction: its cached version goes once it commits."""
    key = _key(kind, row_id)
    on_commit(lambda: cache.delete(key))
