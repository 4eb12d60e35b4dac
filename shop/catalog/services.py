"""Catalog rules: what shoppers see, how products, SKUs, stock and images change.

Services take plain values and models, flush, and raise CatalogError with a message fit
for the person; they never commit (the request edge or the CLI does).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload, undefer
from sqlalchemy.orm.util import identity_key

from shop.catalog.models import PRODUCT_STATUSES, Category, Product, ProductImage, Sku, StockMovement
from shop.db import bump_version, db, ledger_move, utcnow, version_of
from shop.media.services import StoredImage, forget_files

SORTS = {
    "new": (Product.created_at.desc(), Product.id.desc()),
    "sales": (Product.sales_count.desc(), Product.id.desc()),
    "price_asc": (Product.price_minor.asc(), Product.id.asc()),
    "price_desc": (Product.price_minor.desc(), Product.id.desc()),
}
DEFAULT_SORT = "new"

# The choices of a product form's fields that other domains own, by field: a function
# giving (id, name) pairs. shop.shipping gives its templates ("shipping_template_id");
# the catalogue does not import the domains above it.
PRODUCT_CHOICES: dict[str, Callable[[], list[tuple[int, str]]]] = {}


class CatalogError(ValueError):
    pass


# --- what shoppers see -----------------------------------------------------------------


def text_matches(q: str, *extra):
    """Products whose title or subtitle, in Chinese or English, contains `q` literally
    (LIKE wildcards escaped); `extra` columns are searched too."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    columns = (Product.title, Product.subtitle,
               Product.translations[("en", "title")].as_string(),
               Product.translations[("en", "subtitle")].as_string(), *extra)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def on_sale():
    """Products shoppers may see and buy, with the price their cards show."""
    return (select(Product).where(Product.status == "on_sale", Product.archived_at.is_(None))
            .options(undefer(Product.lead_price_minor)))


# The query every product page runs is built once: a constant Core statement keeps its
# compiled form and cache key, which costs a fraction of building an ORM select anew.
_CATALOG_VERSION = version_of("catalog")
_S, _P = Sku.__table__.c, Product.__table__.c
_LIVE_SKUS = (
    select(_S.id, _S.option_values, _S.price_minor, _S.stock, _P.currency, _CATALOG_VERSION)
    .join_from(Sku.__table__, Product.__table__, _S.product_id == _P.id)
    .where(_P.id == bindparam("product_id"), _P.status == "on_sale", _P.archived_at.is_(None),
           _S.active.is_(True))
    .order_by(_S.position, _S.id)
)
_VERSION = select(_CATALOG_VERSION)


def catalog_generation():
    """The catalogue's version: part of every cached fragment's key. Each change to a
    product, SKU, image or category bumps it (touch(), save_category()); stock and sales
    counters do not (stock is always rendered live)."""
    return db.session.execute(_VERSION).scalar()


@dataclass(frozen=True)
class LiveSku:
    """What the product page shows per request: price and stock, read without the ORM."""

    id: int
    option_values: tuple[str, ...]
    price_minor: int
    stock: int
    currency: str


def live_skus(product_id: int) -> tuple[list[LiveSku], int | None]:
    """The active SKUs of a product on sale, in order, and the catalog_generation(), in
    one round trip. No SKUs when the product is not for sale: the page is then a 404."""
    rows = db.session.execute(_LIVE_SKUS, {"product_id": product_id}).all()
    skus = [LiveSku(id, tuple(values), price, stock, currency)
            for id, values, price, stock, currency, _version in rows]
    return skus, (rows[0][-1] if rows else None)


def top_categories(with_children: bool = False) -> list[Category]:
    query = (
        select(Category)
        .where(Category.parent_id.is_(None), Category.active.is_(True))
        .order_by(Category.position, Category.id)
    )
    if with_children:
        query = query.options(selectinload(Category.children))
    return list(db.session.scalars(query))


def featured_products(limit: int = 8) -> list[Product]:
    query = (
        on_sale()
        .where(Product.featured.is_(True))
        .options(selectinload(Product.images))
        .order_by(Product.sales_count.desc(), Product.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def list_products(*, category: Category | None = None, sort: str = DEFAULT_SORT,
                  page: int = 1, per_page: int = 20):
    """A page of products on sale (Flask-SQLAlchemy Pagination: two queries + images).
    (What shoppers search goes through shop.search.)"""
    query = on_sale().options(selectinload(Product.images))
    if category is not None:
        ids = [category.id] + [child.id for child in category.children if child.active]
        query = query.where(Product.category_id.in_(ids))
    query = query.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
    return db.paginate(query, page=page, per_page=per_page, error_out=True, count=True)


def get_category(category_id: int) -> Category | None:
    """A category shoppers may see, with its children loaded (one query): active, and
    under an active parent. (Hiding a category hides it from navigation; its products
    stay on sale until they are taken off sale.)"""
    parent = aliased(Category)
    return db.session.scalar(
        select(Category)
        .outerjoin(parent, Category.parent_id == parent.id)
        .where(Category.id == category_id, Category.active.is_(True),
               or_(parent.id.is_(None), parent.active.is_(True)))
        .options(joinedload(Category.children))
    )


def get_product_for_shoppers(product_id: int) -> Product | None:
    return db.session.scalar(
        on_sale()
        .where(Product.id == product_id)
        .options(selectinload(Product.skus), selectinload(Product.images),
                 joinedload(Product.category))
    )


def valid_choice(skus: list[LiveSku], values: list[str]) -> list[str]:
    """`values` when each is one of the product's own option values, else [] (no choice):
    the choice is part of a cache key, so what a visitor types must not widen it."""
    if not values or not all(values):
        return []
    known = [{sku.option_values[i] for sku in skus} for i in range(len(values))]
    return values if all(value in known[i] for i, value in enumerate(values)) else []


def lead_sku(skus: list):
    """The option a product leads with wherever one price stands for it (the product page
    before a choice, an article's card, the distributor kit): the cheapest in stock, the
    first of them in the given order on a tie; the cheapest of all when every one is sold
    out (never a sold-out option's price below those in stock). None without options."""
    def price(sku):
        return sku.price_minor
    return min((s for s in skus if s.stock > 0), key=price, default=None) or min(skus, key=price, default=None)


def choose_sku(skus: list[LiveSku], values: list[str]) -> LiveSku | None:
    """The SKU whose option values are `values`; the first in stock when no choice was
    made yet."""
    if not values:
        return next((s for s in skus if s.stock > 0), skus[0] if skus else None)
    return next((s for s in skus if list(s.option_values) == values), None)


def option_groups(product: Product) -> list[tuple[str, list[str]]]:
    """[(name, [values in SKU order, unique])] for the picker."""
    groups = []
    for index, name in enumerate(product.option_names or []):
        values: list[str] = []
        for sku in product.skus:
            if sku.active and index < len(sku.option_values):
                value = sku.option_values[index]
                if value not in values:
                    values.append(value)
        groups.append((name, values))
    return groups


# --- stock ledger ----------------------------------------------------------------------


def move_stock(sku_id: int, delta: int, *, reason: str, ref_type: str, ref_id: str,
               actor_id: int | None = None) -> int:
    """Add `delta` (may be negative) to a SKU's stock atomically, with its ledger row.

    A guarded UPDATE ... WHERE stock + delta >= 0 claims the units; the unique business
    reference on the ledger makes a retried call fail instead of moving stock twice.
    Returns the new stock.
    """
    if delta == 0:
        raise CatalogError(_("Nothing to change."))
    new_stock = ledger_move(
        Sku.stock, [Sku.id == sku_id], delta,
        lambda balance: StockMovement(sku_id=sku_id, delta=delta, balance_after=balance,
                                      reason=reason, ref_type=ref_type, ref_id=ref_id,
                                      actor_id=actor_id),
        error=CatalogError, refused=_("Not enough stock."),
        duplicate=_("This stock change was already recorded."),
    )
    # A SKU already loaded in this session sees its new stock; none is loaded for it.
    sku = db.session.identity_map.get(identity_key(Sku, sku_id))
    if sku is not None:
        db.session.refresh(sku, ["stock"])
    return new_stock


# --- backoffice ------------------------------------------------------------------------


def save_category(category: Category | None, *, name: str, name_en: str, slug: str,
                  parent_id: int | None, position: int, active: bool) -> Category:
    """Create or edit a category, keeping the tree two levels deep."""
    parent = db.session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise CatalogError(_("The parent category does not exist."))
    if parent is not None:
        if parent.parent_id is not None:
            raise CatalogError(_("Categories have two levels: choose a top-level parent."))
        if category is not None and (parent.id == category.id or category.children):
            raise CatalogError(_("A category with sub-categories cannot move under another."))
    try:
        # Changes happen inside the savepoint, so a clash undoes them all and leaves the
        # request's transaction usable for showing the form again.
        with db.session.begin_nested():
            if category is None:
                category = Category()
                db.session.add(category)
            category.name = name.strip()
            category.slug = slug.strip()
            category.parent = parent
            category.position = position
            category.active = active
            category.translations = {"en": {"name": name_en.strip()}} if name_en.strip() else {}
            db.session.flush()
            bump_version("catalog")
    except IntegrityError:
        raise CatalogError(_("Another category already uses this slug.")) from None
    return category


@dataclass
class SkuRow:
    """One SKU row from the backoffice form. `stock_seen` is the stock shown when the form
    was drawn: the change applied is stock - stock_seen, so orders placed meanwhile are
    not overwritten."""

    id: int | None
    code: str
    option_values: list[str]
    price_minor: int
    stock: int
    stock_seen: int
    active: bool = True
    cost_price_minor: int | None = None  # None: the product's cost


@dataclass
class ProductData:
    title: str
    subtitle: str
    selling_points: str
    description: str
    category_id: int
    cost_price_minor: int
    status: str
    featured: bool
    option_names: list[str]
    translations: dict
    purchase_limit: int | None = None
    shipping_template_id: int | None = None  # None: the default template (shop.shipping)
    pickup_enabled: bool = False


def save_product(product: Product | None, data: ProductData, rows: list[SkuRow], *,
                 currency: str, actor_id: int | None) -> Product:
    """Create or edit a product with its SKUs; stock changes go through the ledger."""
    if data.status not in PRODUCT_STATUSES:
        raise CatalogError(_("Unknown status."))
    category = db.session.get(Category, data.category_id)
    if category is None:
        raise CatalogError(_("Choose a category."))
    if not rows and (product is None or not product.skus):
        raise CatalogError(_("Add at least one SKU."))
    if data.status == "on_sale" and not any(row.active for row in rows):
        raise CatalogError(_("A product on sale needs at least one active SKU."))
    width = len(data.option_names)
    for row in rows:
        if len(row.option_values) != width:
            raise CatalogError(
                _("SKU %(code)s needs one value for each option (%(n)d).", code=row.code, n=width)
            )
    try:
        with db.session.begin_nested():
            product = _apply_product(product, data, rows, category, currency, actor_id)
    except IntegrityError:
        raise CatalogError(_("A SKU code is already used by another SKU.")) from None
    return product


def _apply_product(product, data, rows, category, currency, actor_id) -> Product:
    if product is None:
        product = Product(code=uuid.uuid4().hex[:12], currency=currency, sales_count=0)
        db.session.add(product)
    product.title = data.title.strip()
    product.subtitle = data.subtitle.strip()
    product.selling_points = data.selling_points.strip()
    product.description = data.description.strip()
    product.category = category
    product.cost_price_minor = data.cost_price_minor
    if data.status == "on_sale" and product.status != "on_sale":
        product.on_sale_since = utcnow()
    product.status = data.status
    product.featured = data.featured
    product.purchase_limit = data.purchase_limit
    product.shipping_template_id = data.shipping_template_id
    product.pickup_enabled = data.pickup_enabled
    product.option_names = data.option_names
    product.translations = data.translations

    by_id = {sku.id: sku for sku in product.skus}
    stock_changes: list[tuple[Sku, int]] = []
    for position, row in enumerate(rows):
        if row.id is not None:
            sku = by_id.get(row.id)
            if sku is None:
                raise CatalogError(_("That SKU does not belong to this product."))
        else:
            sku = Sku(stock=0)
            product.skus.append(sku)
        sku.code = row.code.strip()
        sku.option_values = row.option_values
        sku.price_minor = row.price_minor
        sku.cost_price_minor = row.cost_price_minor
        sku.position = position
        sku.active = row.active
        delta = row.stock - (row.stock_seen if row.id is not None else 0)
        if delta:
            stock_changes.append((sku, delta))
    db.session.flush()
    for sku, delta in stock_changes:
        move_stock(sku.id, delta, reason="adjustment", ref_type="backoffice",
                   ref_id=uuid.uuid4().hex, actor_id=actor_id)
    refresh_price(product)
    return product


def add_sales(product_id: int, units: int) -> tuple[int, int]:
    """Count `units` more sold (paid) of the product: (sales before, sales after), from one
    UPDATE, so counters added at once never lose an addition. It does not move the
    catalogue version: cached cards show the new count within CACHE_DEFAULT_TIMEOUT (as
    the README's "Speed" says of sales counters)."""
    after = db.session.execute(
        update(Product).where(Product.id == product_id)
        .values(sales_count=Product.sales_count + units).returning(Product.sales_count)
    ).scalar_one()
    return after - units, after


def refresh_price(product: Product) -> None:
    prices = [sku.price_minor for sku in product.skus if sku.active]
    product.price_minor = min(prices) if prices else 0
    touch(product)


def touch(product: Product) -> None:
    """Mark the product changed, its SKUs and images included: a new updated_at, and a
    new catalog_generation() so every cached page showing it is rendered anew."""
    product.updated_at = utcnow()
    bump_version("catalog")
    db.session.flush()


def archive_product(product: Product) -> None:
    product.archived_at = utcnow()
    product.status = "off_sale"
    touch(product)


def restore_product(product: Product) -> None:
    product.archived_at = None
    touch(product)


def add_image(product: Product, stored: StoredImage) -> ProductImage:
    image = ProductImage(
        key=stored.key, width=stored.width, height=stored.height,
        widths=",".join(str(w) for w in stored.widths), position=len(product.images),
    )
    product.images.append(image)
    touch(product)
    return image


def remove_image(product: Product, image_id: int) -> None:
    image = next((img for img in product.images if img.id == image_id), None)
    if image is None:
        raise CatalogError(_("That image does not belong to this product."))
    product.images.remove(image)
    forget_files(image.key, image.widths)
    touch(product)


def low_stock_condition(threshold: int):
    """A product with an active SKU that has `threshold` units or fewer."""
    return Product.id.in_(select(Sku.product_id).where(Sku.active.is_(True), Sku.stock <= threshold))


def admin_products(q: str = "", status: str = "", archived: bool = False, page: int = 1,
                   low_stock: int | None = None):
    """The backoffice's product list; `low_stock`: only products with an active SKU that
    has that many units or fewer (the home's "Low stock" count links here)."""
    query = select(Product).options(selectinload(Product.category), selectinload(Product.skus))
    query = query.where(Product.archived_at.is_not(None) if archived else Product.archived_at.is_(None))
    if low_stock is not None:
        query = query.where(low_stock_condition(low_stock))
    if status in PRODUCT_STATUSES:
        query = query.where(Product.status == status)
    if q:
        query = query.where(text_matches(q, Product.code))
    query = query.order_by(Product.id.desc())
    return db.paginate(query, page=page, per_page=30, error_out=True, count=True)


def all_categories() -> list[Category]:
    return list(db.session.scalars(
        select(Category).order_by(func.coalesce(Category.parent_id, Category.id), Category.parent_id.is_not(None), Category.position, Category.id)
    ))
