"""Numbers read from the query string."""

from __future__ import annotations

from flask import abort, request


def number_arg(name: str, default: int | None, most: int = 2**31 - 1) -> int | None:
    """A positive whole number from the query string, or `default` when absent; a 404
    for anything else (a word, 0, more than an id column holds)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= most:
        abort(404)
    return int(raw)
