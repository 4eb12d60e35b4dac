"""Search rules: what a query finds and in which order, synonyms and keywords, hot
searches. Services flush and never commit; the session (recent searches) is the view's.

A search costs a fixed number of statements whatever it finds: the synonyms' version
(the synonyms themselves come from the cache), a count capped at COUNT_CAP, the page of
products, and their images (one IN query).

Order ("relevance", the default): products whose title holds every word first, then
those whose own text (title, subtitle, selling points, category) holds every word, then
the rest (found through the parent category); within each, best sellers first. The sort
bar's other orders (newest, sales, price) apply to the same matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, delete, func, literal, literal_column, or_, select, text
from sqlalchemy.orm import selectinload

from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.db import RowsPage, bump_version, db, local_day, upsert, utcnow, version_of
from shop.extensions import cache
from shop.search.models import KEYWORD_KINDS, SearchCount, SearchDocument, SearchKeyword, SynonymGroup
from shop.search.text import Alternative, Word, normalise, split_query

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
    return Query(q, tuple(split_query(q, synonyms())[:MAX_WORDS]))


# --- matching and order ----------------------------------------------------------------


def _fts5(words) -> str:
    def token(t: str, prefix: bool) -> str:
        return f'"{t}"' + ("*" if prefix else "")

    return " AND ".join(
        "(" + " OR ".join("(" + " AND ".join(token(t, a.prefix) for t in a.tokens) + ")"
                          for a in w.alternatives) + ")" for w in words)


def _tsquery(words) -> str:
    def token(t: str, prefix: bool) -> str:
        return f"'{t}'" + (":*" if prefix else "")

    return " & ".join(
        "(" + " | ".join("(" + " & ".join(token(t, a.prefix) for t in a.tokens) + ")"
                         for a in w.alternatives) + ")" for w in words)


_D = SearchDocument
SIMPLE = literal_column("'simple'::regconfig")


def document_vector():
    """The PostgreSQL expression the GIN index of the migration is made on (the same text,
    or the planner does not use it)."""
    return func.to_tsvector(SIMPLE, _D.title_terms + " " + _D.body_terms + " " + _D.extra_terms)


def _matches(words):
    if db.engine.dialect.name == "postgresql":
        return document_vector().op("@@")(func.to_tsquery(SIMPLE, _tsquery(words)))
    fts = select(literal_column("rowid")).select_from(text("search_fts")).where(
        text("search_fts MATCH :fts").bindparams(fts=_fts5(words)))
    return _D.product_id.in_(fts)


def _holds(column, alt: Alternative):
    padded = literal(" ") + column + literal(" ")
    return and_(*(padded.like(f"% {t}{'' if alt.prefix else ' '}%") for t in alt.tokens))


def _tier(words):
    """0: the title holds every word; 1: the product's own text does; 2: the rest."""
    in_title = [or_(*(_holds(_D.title_terms, a) for a in w.alternatives)) for w in words]
    in_own = [or_(*(_holds(_D.title_terms, a) | _holds(_D.body_terms, a) for a in w.alternatives))
              for w in words]
    return case((and_(*in_title), 0), (and_(*in_own), 1), else_=2)


def _found(words):
    return (select(Product).join(_D, _D.product_id == Product.id)
            .where(Product.status == "on_sale", Product.archived_at.is_(None), _matches(words)))


def search(query: Query, *, sort: str = RELEVANCE, page: int = 1, per_page: int = 20) -> RowsPage:
    """A page of the products on sale that hold every word of the query (3 statements)."""
    if not query.words:
        return RowsPage([], 1, per_page, 0)
    found = _found(query.words)
    total = db.session.execute(select(func.count()).select_from(
        found.with_only_columns(Product.id).limit(COUNT_CAP + 1).subquery())).scalar()
    order = ((_tier(query.words), Product.sales_count.desc(), Product.id.desc())
             if sort not in catalog.SORTS else catalog.SORTS[sort])
    pages = max(1, -(-min(total, COUNT_CAP) // per_page))
    page = min(max(page, 1), pages)
    items = list(db.session.scalars(found.options(selectinload(Product.images)).order_by(*order)
                                    .limit(per_page).offset((page - 1) * per_page))) if total else []
    return RowsPage(items, page, per_page, min(total, COUNT_CAP), more=total > COUNT_CAP)


def suggest(query: Query, limit: int = 6) -> list[Product]:
    """The best matches' titles for the box as one types (one statement, no images)."""
    if not query.words:
        return []
    return list(db.session.scalars(_found(query.words).order_by(
        _tier(query.words), Product.sales_count.desc(), Product.id.desc()).limit(limit)))


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


def hot_report(days: int = HOT_DAYS, limit: int = 10, hidden: set[str] | frozenset = frozenset()):
    """[(term, searches)] of the last `days` days, most searched first."""
    since = local_day(utcnow()) - timedelta(days=days - 1)
    total = func.sum(SearchCount.searches)
    query = (select(SearchCount.term, total).where(SearchCount.day >= since)
             .group_by(SearchCount.term).order_by(total.desc(), SearchCount.term).limit(limit))
    if hidden:
        query = query.where(SearchCount.term.not_in(hidden))
    return [(term, int(n)) for term, n in db.session.execute(query)]


def discovery(limit: int = 10) -> dict[str, list[str]]:
    """The empty search page's words: the admin's recommended ones, then hot searches
    (hidden ones left out), kept a few minutes in the cache."""
    version = _version()
    key = f"search:hot:{version}:{local_day(utcnow())}"
    found = cache.get(key)
    if found is None:
        recommended = keywords("recommended")
        hot = [term for term, _n in hot_report(limit=limit, hidden=set(keywords("hidden")))
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


