"""Keeping the search index (search_documents) in step with the catalogue.

The index follows the catalogue through SQLAlchemy's session events rather than calls
from the catalogue's services: whatever writes a product or category through the ORM
(the backoffice, the demo, imports, tests' factories) flushes, and the flush reindexes
the products it touched in the same transaction, so the index commits or rolls back with
them. The catalogue knows nothing of search (imports run downhill: search reads catalog,
never the reverse). Rows written with Core statements (bulk loads, bench/search.py) are
indexed with reindex() / `flask shop reindex-search`. Sales counters, prices and status
are not indexed: the search query reads them from products.

Everything here works on a Connection with Core statements, so the migration that made
the tables indexes the products a database already had with the same code.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, event, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased, attributes

from shop.catalog.models import Category, Product
from shop.db import CacheVersion, upsert
from shop.search.models import SearchDocument
from shop.search.text import index_tokens, pinyin_tokens

BATCH = 2000
# What the index holds, and what decides whether search shows a product (status, archived):
# a change to any of them reindexes the product and moves the "search" version.
PRODUCT_FIELDS = ("title", "subtitle", "selling_points", "translations", "category", "category_id",
                  "status", "archived_at", "price_minor")
CATEGORY_FIELDS = ("name", "translations", "parent", "parent_id")

_P, _C, _D = Product.__table__.c, Category.__table__.c, SearchDocument.__table__


def _en(translations, field: str) -> str:
    return ((translations or {}).get("en") or {}).get(field) or ""


def document(row) -> dict:
    """The index row of one product from its row joined with its category and parent."""
    return {
        "product_id": row.id,
        "title_terms": index_tokens(row.title, _en(row.translations, "title")) + " " + pinyin_tokens(row.title),
        "body_terms": index_tokens(row.subtitle, row.selling_points, _en(row.translations, "subtitle"),
                                   _en(row.translations, "selling_points"),
                                   row.category_name, _en(row.category_translations, "name")),
        "extra_terms": index_tokens(row.parent_name or "", _en(row.parent_translations, "name")),
    }


def _rows(where):
    category, parent = Category.__table__.alias("category"), Category.__table__.alias("parent")
    return (
        select(_P.id, _P.title, _P.subtitle, _P.selling_points, _P.translations,
               category.c.name.label("category_name"),
               category.c.translations.label("category_translations"),
               parent.c.name.label("parent_name"), parent.c.translations.label("parent_translations"))
        .join_from(Product.__table__, category, category.c.id == _P.category_id)
        .outerjoin(parent, parent.c.id == category.c.parent_id)
        .where(where)
        .order_by(_P.id)
    )


def reindex(connection: Connection, product_ids: Iterable[int] | None = None) -> int:
    """Write the index rows of these products (all products when None); returns how many.
    Rows are replaced (DELETE then INSERT: SQLite's triggers keep its FTS5 table in step),
    and the "search" version moves (cached results are keyed by it)."""
    bump_search(connection)
    if product_ids is not None:
        ids = sorted(set(product_ids))
        count = 0
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            docs = [document(row) for row in connection.execute(_rows(_P.id.in_(chunk)))]
            connection.execute(delete(_D).where(_D.c.product_id.in_(chunk)))
            if docs:
                connection.execute(insert(_D), docs)
            count += len(docs)
        return count
    connection.execute(delete(_D))
    count, last = 0, 0
    while True:
        rows = connection.execute(_rows(_P.id > last).limit(BATCH)).all()
        if not rows:
            return count
        connection.execute(insert(_D), [document(row) for row in rows])
        count, last = count + len(rows), rows[-1].id


# --- the session's hooks -----------------------------------------------------------------

_PENDING = "search_reindex"


def _changed(obj, fields) -> bool:
    state = attributes.instance_state(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "before_flush")
def _collect(session, flush_context, instances):
    """Note what this flush changes that the index shows (new ids are known after it)."""
    products, categories = [], []
    for obj in session.new:
        if isinstance(obj, Product):
            products.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Product) and _changed(obj, PRODUCT_FIELDS):
            products.append(obj)
        elif isinstance(obj, Category) and _changed(obj, CATEGORY_FIELDS):
            categories.append(obj)
    removed = [obj.id for obj in session.deleted if isinstance(obj, Product) and obj.id]
    if removed:  # before the product's own DELETE (the foreign key)
        session.connection().execute(delete(_D).where(_D.c.product_id.in_(removed)))
    if products or categories:
        session.info.setdefault(_PENDING, []).append((products, categories))


@event.listens_for(Session, "after_flush")
def _apply(session, flush_context):
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()
    ids = {p.id for products, _ in pending for p in products if p.id is not None}
    category_ids = {c.id for _, categories in pending for c in categories if c.id is not None}
    if category_ids:
        child = aliased(Category)
        under = select(child.id).where(child.parent_id.in_(category_ids))
        ids.update(connection.execute(select(_P.id).where(
            _P.category_id.in_(category_ids) | _P.category_id.in_(under))).scalars())
    if ids:
        reindex(connection, ids)


def bump_search(connection: Connection) -> None:
    """A new version of "search" (cached results are keyed by it), in the flush: one
    UPSERT on the connection (the session's own bump_version() cannot run mid-flush)."""
    table = CacheVersion.__table__
    connection.execute(upsert(CacheVersion).values(name="search", version=1).on_conflict_do_update(
        index_elements=["name"], set_={"version": table.c.version + 1}))
