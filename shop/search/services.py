"""Search rules: what a query finds and in which order, synonyms and keywords, hot
searches. Services flush and never commit; the session (recent searches) is the view's.

A search costs a fixed number of statements whatever it finds: the synonyms' version
(the synonyms themselves come from the cache), a count capped at COUNT_CAP, the ids of
the page in order, their products, and their images (one IN query).

Order ("relevance", the default): products whose title holds every word first, then
those whose own text (title, subtitle, selling points, category) holds every word, then
the rest (found through the parent category); within each, best sellers first. The sort
bar's other orders (newest, sales, price) apply to the same matches.

Close matches: a query of several parts that finds nothing as a whole (龙井茶: no product
holds 井茶; 芒果干 where no dried mango is sold) shows the products holding at least half
of its characters (shop.search.text.close_units: its words, a long Han word's pairs,
weighed by their characters), those holding more first, then title hits and sales, and
the page says they are close matches. So 芒果干 finds the mangoes but never the biscuits
(饼干) by 干 alone. Only tried when nothing matched: one statement more than a search that
found something (the close matches' count after the empty one; then their page of ids),
cached with the page. Each part is one more FTS5 look-up on SQLite (MAX_UNITS at most).
Recorded as a search that found nothing (no hot-search count); suggestions stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, case, delete, func, literal_column, select, text
from sqlalchemy.orm import selectinload, undefer

from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.db import RowsPage, bump_version, db, local_day, upsert, utcnow, version_of, versions
from shop.extensions import cache
from shop.search.models import KEYWORD_KINDS, SearchCount, SearchDocument, SearchKeyword, SynonymGroup
from shop.search.text import Unit, Word, close_units, normalise, split_query

MAX_QUERY = 80        # characters a query may have (the box's maxlength)
MAX_WORDS = 8         # words looked for; more are dropped
MAX_TERM = 40         # a synonym, keyword or counted term
MAX_TERMS = 20        # words in one synonym group
COUNT_CAP = 1000      # "1000+ products": counting every match of a broad word costs more than it tells
HOT_DAYS = 30
RELEVANCE = "relevance"
SORTS = (RELEVANCE, *catalog.SORTS)


class SearchError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    text: str                # as typed, trimmed
    words: tuple[Word, ...]  # what is looked for (empty: nothing searchable was typed)
    # The catalogue's and the search words' versions when it was read: cached pages of
    # results are keyed by them (shop.search.indexing bumps "search" as the index changes).
    versions: tuple = ()
    # Its parts, for close matches when the whole finds nothing (empty: a single part).
    close: tuple[Unit, ...] = ()


# --- synonyms --------------------------------------------------------------------------


def _version() -> int:
    return db.session.execute(select(version_of("search"))).scalar() or 0


def synonyms(version: int | None = None) -> dict[str, tuple[str, ...]]:
    """term -> the other terms it also finds (from the cache, per version of the words)."""
    version = _version() if version is None else version
    key = f"search:synonyms:{version}"
    found = cache.get(key)
    if found is None:
        expands: dict[str, dict[str, None]] = {}
        for group in db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)):
            terms = [normalise(t) for t in group.terms if normalise(t)]
            sources = terms[:1] if group.one_way else terms
            for term in sources:
                expands.setdefault(term, {}).update(dict.fromkeys(t for t in terms if t != term))
        found = {term: tuple(others) for term, others in expands.items()}
        cache.set(key, found)
    return found


def parse(q: str) -> Query:
    """What a query looks for; SearchError when it is too long to be a search."""
    q = " ".join((q or "").split())
    if len(q) > MAX_QUERY:
        raise SearchError(_("Type at most %(n)d characters.", n=MAX_QUERY))
    if not q or not any(ch.isalnum() for ch in q):
        return Query(q, ())
    catalog_version, search_version = versions("catalog", "search")
    known = synonyms(search_version or 0)
    words = tuple(split_query(q, known)[:MAX_WORDS])
    return Query(q, words, (catalog_version, search_version), close_units(words, known))


# --- matching and order ----------------------------------------------------------------


# Columns of the index a tier looks in: the title; the product's own text.
TITLE, OWN = ("title_terms",), ("title_terms", "body_terms")
WEIGHTS = {TITLE: "A", OWN: "AB"}  # PostgreSQL: the weights of those columns in the vector


def _fts5(words, columns: tuple[str, ...] = ()) -> str:
    """The FTS5 query (SQLite): every word, each by any of its alternatives; only in
    `columns` when given."""
    def token(t: str, prefix: bool) -> str:
        return f'"{t}"' + ("*" if prefix else "")

    found = " AND ".join(
        "(" + " OR ".join("(" + " AND ".join(token(t, a.prefix) for t in a.tokens) + ")"
                          for a in w.alternatives) + ")" for w in words)
    return "{" + " ".join(columns) + "} : (" + found + ")" if columns else found


def _tsquery(words, columns: tuple[str, ...] = ()) -> str:
    """The same as a tsquery (PostgreSQL); columns are the vector's weights."""
    weights = WEIGHTS[columns] if columns else ""

    def token(t: str, prefix: bool) -> str:
        label = ("*" if prefix else "") + weights
        return f"'{t}'" + (":" + label if label else "")

    return " & ".join(
        "(" + " | ".join("(" + " & ".join(token(t, a.prefix) for t in a.tokens) + ")"
                         for a in w.alternatives) + ")" for w in words)


SIMPLE = literal_column("'simple'::regconfig")
# PostgreSQL: the generated column of the migration, the title's tokens weighted A, the
# rest of the product's own text B, its parent category C; GIN-indexed. Not a model
# column (shop.db.UNMODELLED): the database computes it.
VECTOR = literal_column("search_documents.search_fts_vector")


def _holds(words, columns: tuple[str, ...] = ()):
    """Products whose index holds every word (in `columns` only, when given)."""
    if db.engine.dialect.name == "postgresql":
        return VECTOR.op("@@")(func.to_tsquery(SIMPLE, _tsquery(words, columns)))
    fts = select(literal_column("rowid")).select_from(text("search_fts")).where(
        text("search_fts MATCH :fts").bindparams(bindparam("fts", _fts5(words, columns), unique=True)))
    return Product.id.in_(fts)


def _tier(words):
    """0: the title holds every word; 1: the product's own text does; 2: the rest. On
    SQLite each is one more FTS5 look-up, made once; on PostgreSQL a weighted match on
    each found row's stored vector."""
    return case((_holds(words, TITLE), 0), (_holds(words, OWN), 1), else_=2)


@dataclass(frozen=True)
class _Match:
    """What a search looks for: `where` a product matches, and the relevance order's
    first columns (before sales). Built afresh for each statement."""

    where: object
    relevance: tuple = ()


def _every(words) -> _Match:
    """Every word, anywhere; relevance by tier."""
    return _Match(_holds(words), (_tier(words),))


def _in_titles(words) -> _Match:
    """Every word, in the title."""
    return _Match(_holds(words, TITLE))


def _close(units) -> _Match:
    """At least half of the query's characters (see the module's docstring): those that
    hold more first, then those whose title holds any part."""
    anywhere = [Word("", tuple(dict.fromkeys(alt for unit in units for alt in unit.word.alternatives)))]
    held = sum((case((_holds([unit.word]), unit.weight), else_=0) for unit in units[1:]),
               case((_holds([units[0].word]), units[0].weight), else_=0))
    total = sum(unit.weight for unit in units)
    return _Match(_holds(anywhere) & (held * 2 >= total), (held.desc(), _tier(anywhere)))


def _found(match: _Match, *columns, walk_sales: bool = True):
    """Products on sale that match. `walk_sales`: SQLite may walk the
    products by the status-and-sales index checking each against the matches, which
    finds the best sellers first at once; for any other order that walk visits every
    product on sale, so the status test is then kept off the index (`|| ''`) and SQLite
    starts from the matches instead (100 k products, a word in a quarter of them: 115 ->
    33 ms)."""
    on_sale = Product.status == "on_sale"
    if db.engine.dialect.name == "postgresql":
        return (select(*columns).join(SearchDocument, SearchDocument.product_id == Product.id)
                .where(on_sale, Product.archived_at.is_(None), match.where))
    if not walk_sales:
        on_sale = Product.status.concat("") == "on_sale"
    return select(*columns).where(on_sale, Product.archived_at.is_(None), match.where)


def _ranked(match: _Match, sort: str, limit: int, offset: int = 0):
    """The ids of a page of matches, in order: sorting ids and a few numbers, then
    loading only the page's products, costs a fraction of sorting whole rows."""
    order = ((*match.relevance, Product.sales_count.desc(), Product.id.desc())
             if sort not in catalog.SORTS else catalog.SORTS[sort])
    return (_found(match, Product.id, walk_sales=sort == "sales")
            .order_by(*order).limit(limit).offset(offset))


def _cached(query: Query, kind: str, *parts, build):
    """What build() returns for this query, kept in the cache until the catalogue or the
    index changes (their versions are in the key): a popular broad word is ranked once,
    not on every request. Sales counters do not move the versions, so an order by sales
    is at most CACHE_DEFAULT_TIMEOUT old, as on category pages."""
    key = ":".join(str(part) for part in ("search", kind, *query.versions, *parts, normalise(query.text)))
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found)
    return found


@dataclass
class ResultsPage(RowsPage):
    """A page of results; `close`: nothing held the whole query, these are close matches."""

    close: bool = False


def search(query: Query, *, sort: str = RELEVANCE, page: int = 1, per_page: int = 20) -> ResultsPage:
    """A page of the products on sale that hold every word of the query, or else its
    close matches: from the cache, two statements (the page's products, their images);
    else first a count capped at COUNT_CAP and the page's ids in order (and when nothing
    held every word and the query has parts, the same two for its close matches)."""
    if not query.words:
        return ResultsPage([], 1, per_page, 0)

    def count(match: _Match) -> int:
        return db.session.execute(select(func.count()).select_from(
            _found(match, Product.id).limit(COUNT_CAP + 1).subquery())).scalar()

    def build():
        close = False
        total = count(_every(query.words))
        if not total and query.close:
            close, total = True, count(_close(query.close))
        shown = max(1, min(page, -(-min(total, COUNT_CAP) // per_page)))
        match = _close(query.close) if close else _every(query.words)
        return total, shown, _ranked_ids(match, sort, per_page, (shown - 1) * per_page) if total else [], close

    total, shown, ids, close = _cached(query, "results", sort, page, per_page, build=build)
    return ResultsPage(_products(ids, images=True), shown, per_page, min(total, COUNT_CAP),
                       more=total > COUNT_CAP, close=close and bool(ids))


def _ranked_ids(match: _Match, sort: str, limit: int, offset: int) -> list[int]:
    return list(db.session.scalars(_ranked(match, sort, limit, offset)))


def _products(ids: list[int], images: bool) -> list[Product]:
    """The products of these ids, in their order (and their images: one IN query)."""
    if not ids:
        return []
    query = select(Product).where(Product.id.in_(ids)).options(undefer(Product.lead_price_minor))
    if images:
        query = query.options(selectinload(Product.images))
    by_id = {product.id: product for product in db.session.scalars(query)}
    return [by_id[i] for i in ids if i in by_id]


def suggest(query: Query, limit: int = 6) -> list[Product]:
    """The best matches' titles for the box as one types (no images). A query of one
    character suggests only titles that hold it: a character is in so much text (零 in
    零添加 of a soy sauce's selling points, in the 零食 category) that matches elsewhere
    are noise while one is still typing."""
    if not query.words:
        return []
    match = _in_titles if len(normalise(query.text)) == 1 else _every
    ids = _cached(query, "suggest", limit, build=lambda: _ranked_ids(match(query.words), RELEVANCE, limit, 0))
    return _products(ids, images=False)


def best_sellers(limit: int = 6) -> list[Product]:
    return list(db.session.scalars(catalog.on_sale().options(selectinload(Product.images))
                                   .order_by(*catalog.SORTS["sales"]).limit(limit)))


# --- hot and recommended searches --------------------------------------------------------


def counted_term(q: str) -> str | None:
    """The form of a query that is counted and remembered, or None when it is not one."""
    term = normalise(q)
    return term if term and len(term) <= MAX_TERM and any(ch.isalnum() for ch in term) else None


def count_search(term: str) -> None:
    """One more visitor searched `term` today and found something (one atomic UPSERT)."""
    now = utcnow()
    table = SearchCount.__table__
    db.session.execute(upsert(SearchCount).values(term=term, day=local_day(now), searches=1, last_at=now)
                       .on_conflict_do_update(index_elements=["term", "day"],
                                              set_={"searches": table.c.searches + 1, "last_at": now}))


def keywords(kind: str) -> list[str]:
    return list(db.session.scalars(select(SearchKeyword.term).where(SearchKeyword.kind == kind)
                                   .order_by(SearchKeyword.position, SearchKeyword.id)))


def hot_report(days: int = HOT_DAYS, limit: int = 10, hidden: set[str] | frozenset = frozenset(),
               least: int = 1):
    """[(term, searches)] of the last `days` days searched by at least `least` visitors,
    most searched first."""
    since = local_day(utcnow()) - timedelta(days=days - 1)
    total = func.sum(SearchCount.searches)
    query = (select(SearchCount.term, total).where(SearchCount.day >= since)
             .group_by(SearchCount.term).having(total >= least)
             .order_by(total.desc(), SearchCount.term).limit(limit))
    if hidden:
        query = query.where(SearchCount.term.not_in(hidden))
    return [(term, int(n)) for term, n in db.session.execute(query)]


def discovery(limit: int = 10) -> dict[str, list[str]]:
    """The empty search page's words: the admin's recommended ones, then hot searches
    (hidden ones left out, and those fewer than SEARCH_HOT_MIN_VISITORS visitors searched:
    one visitor never makes a word hot), kept a few minutes in the cache."""
    version = _version()
    key = f"search:hot:{version}:{local_day(utcnow())}"
    found = cache.get(key)
    if found is None:
        recommended = keywords("recommended")
        least = current_app.config["SEARCH_HOT_MIN_VISITORS"]
        hot = [term for term, _n in hot_report(limit=limit, hidden=set(keywords("hidden")), least=least)
               if term not in recommended]
        found = {"recommended": recommended, "hot": hot}
        cache.set(key, found, timeout=300)
    return found


# --- backoffice ------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,，、;；=|/]+")


def parse_terms(raw: str) -> list[str]:
    """Words typed by an admin, split on spaces, commas, 、 or =, normalised, each once."""
    return list(dict.fromkeys(t for t in (normalise(p) for p in _SEPARATORS.split(raw or "")) if t))


def _check_terms(terms: list[str], least: int) -> None:
    if len(terms) < least:
        raise SearchError(_("Give at least two words that mean the same."))
    if len(terms) > MAX_TERMS:
        raise SearchError(_("At most %(n)d words in a group.", n=MAX_TERMS))
    for term in terms:
        if len(term) > MAX_TERM:
            raise SearchError(_("“%(term)s” is longer than %(n)d characters.", term=term[:MAX_TERM] + "…", n=MAX_TERM))
        if not any(ch.isalnum() for ch in term):
            raise SearchError(_("“%(term)s” has no letters or digits.", term=term))


def synonym_groups() -> list[SynonymGroup]:
    return list(db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)))


def save_group(group: SynonymGroup | None, raw_terms: str, one_way: bool) -> SynonymGroup:
    terms = parse_terms(raw_terms)
    _check_terms(terms, 2)
    if group is None:
        group = SynonymGroup()
        db.session.add(group)
    group.terms = terms
    group.one_way = one_way
    db.session.flush()
    bump_version("search")
    return group


def delete_group(group: SynonymGroup) -> None:
    db.session.delete(group)
    db.session.flush()
    bump_version("search")


def save_keywords(kind: str, raw: str) -> list[str]:
    """Replace the words of a kind (recommended, hidden) with those typed, in order."""
    if kind not in KEYWORD_KINDS:
        raise SearchError(_("Unknown kind of keyword."))
    terms = list(dict.fromkeys(normalise(line) for line in (raw or "").splitlines() if normalise(line)))
    if len(terms) > MAX_TERMS:
        raise SearchError(_("At most %(n)d words.", n=MAX_TERMS))
    _check_terms(terms, 0)
    db.session.execute(delete(SearchKeyword).where(SearchKeyword.kind == kind))
    db.session.add_all(SearchKeyword(kind=kind, term=term, position=i) for i, term in enumerate(terms))
    db.session.flush()
    bump_version("search")
    return terms


