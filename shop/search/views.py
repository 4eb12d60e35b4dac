"""Shopper side: the search page, suggestions as one types, and the small POST that
remembers a search (recent searches in the session, hot-search counts): a GET never
writes, so the results page posts it once it has loaded (htmx, `load`). Without
JavaScript the search works the same and is just not remembered.

A new visitor's first page already holds the visitor id (shop.web.visitor gives it with
the page's first session cookie), so the analytics beacon it posts on load leaves the
session alone, and the search's own POST is the only one that writes it."""

from __future__ import annotations

import hashlib

from flask import current_app, redirect, request, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from shop.catalog import services as catalog
from shop.extensions import htmx, limiter
from shop.search import services
from shop.search.blueprint import bp
from shop.web import number_arg, redirect_to, render, render_error

RECENT_KEY = "search_recent"
RECENT_KEPT = 10
SEEN_MAX_AGE = 3600
# What this visitor has been counted for (short digests of the terms), kept apart from
# the recent searches they can clear: searching a word, clearing, and searching it again
# counts one visitor once (hot searches need SEARCH_HOT_MIN_VISITORS visitors). A new
# session is a new visitor, as for every figure (shop.web.visitor).
COUNTED_KEY = "search_counted"
COUNTED_KEPT = 30


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="search-seen")


def recent() -> list[str]:
    found = session.get(RECENT_KEY)
    return [t for t in found if isinstance(t, str)][:RECENT_KEPT] if isinstance(found, list) else []


@bp.get("/search")
def results():
    raw = request.args.get("q", "")
    sort = request.args.get("sort", services.RELEVANCE)
    sort = sort if sort in services.SORTS else services.RELEVANCE
    error, query, pagination = None, None, None
    try:
        query = services.parse(raw)
    except services.SearchError as exc:
        error = str(exc)
    q = query.text if query else ""
    if query and query.words:
        pagination = services.search(query, sort=sort, page=number_arg("page", 1, most=10_000),
                                     per_page=current_app.config["PAGE_SIZE"])
    nothing = bool(error or (q and not (pagination and pagination.items)))
    context = {
        "q": q, "error": error, "sort": sort, "pagination": pagination,
        "endpoint": "search.results", "args": {"q": q, "sort": sort},
        # what the page offers instead: categories and best sellers when nothing matched;
        # recent, recommended and hot searches before anything is typed
        "categories": catalog.top_categories() if nothing else [],
        "best_sellers": services.best_sellers() if nothing else [],
        "recent": recent() if not q else [],
        "discovery": services.discovery() if not q and not error else None,
    }
    term = services.counted_term(q) if q and not error else None
    if term and not htmx:
        exact = bool(pagination and pagination.items and not pagination.close)
        context["seen"] = _signer().dumps({"q": term, "found": exact})
    return render("search/page.html", block="results", status=400 if error else 200, **context)


@bp.get("/search/suggest")
def suggest():
    """Titles of the best matches, for the box as one types (htmx); a direct visit goes to
    the search page."""
    raw = request.args.get("q", "")
    if not htmx:
        return redirect(url_for("search.results", q=raw[:services.MAX_QUERY]))
    try:
        query = services.parse(raw)
    except services.SearchError:
        query = None
    return render("search/page.html", block="suggestions",
                  suggestions=services.suggest(query) if query else [], q=query.text if query else "")


@bp.post("/search/seen")
@limiter.limit("600 per minute")
def seen():
    """Remember a search the page showed: first in the visitor's recent searches, and
    counted for hot searches when it found something (close matches do not count) and
    this visitor was not counted for it yet (a reload, or the same search again, counts
    once)."""
    try:
        values = _signer().loads(request.form.get("token", ""), max_age=SEEN_MAX_AGE)
        term, found = values["q"], values["found"] is True
    except (BadData, KeyError, TypeError):
        return render_error(None, 400)
    kept = recent()
    digest = hashlib.sha256(term.encode()).hexdigest()[:8]
    counted = session.get(COUNTED_KEY)
    counted = [d for d in counted if isinstance(d, str)] if isinstance(counted, list) else []
    if found and digest not in counted:
        services.count_search(term)
        session[COUNTED_KEY] = [digest] + counted[:COUNTED_KEPT - 1]
    session[RECENT_KEY] = [term] + [t for t in kept if t != term][:RECENT_KEPT - 1]
    return "", 204


@bp.post("/search/recent/clear")
def clear_recent():
    session.pop(RECENT_KEY, None)
    return redirect_to(url_for("search.results"))
