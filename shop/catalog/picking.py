"""The catalogue's kinds of picker (shop.web.picking): product, sku and category.
Imported by shop/catalog/blueprint.py, so every app has them."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.labels import sku_options
from shop.catalog.models import Category, Product, Sku
from shop.money import format_minor
from shop.web.picking import Choice, Kind, register


def describe_product(product: Product) -> Choice:
    status = "" if product.on_sale else " · " + _("not on sale")
    return Choice("product", product.id, product.tr("title"),
                  f"{product.code} · {format_minor(product.price_minor, product.currency)}{status}",
                  product.cover)


def describe_sku(sku: Sku) -> Choice:
    product = sku.product
    spec = sku_options(sku)
    detail = " · ".join(part for part in (
        spec, sku.code, format_minor(sku.price_minor, product.currency),
        _("stock %(n)d", n=sku.stock), "" if sku.active else _("not sold")) if part)
    return Choice("sku", sku.id, product.tr("title"), detail, product.cover)


def describe_category(category: Category) -> Choice:
    return Choice("category", category.id, category.tr("name"),
                  category.parent.tr("name") if category.parent else "")


PRODUCT = register(Kind(
    name="product", label=_l("a product"), noun=_l("product"),
    hint=_l("Search by product name or code"), model=Product,
    statement=lambda: select(Product).options(selectinload(Product.images)),
    columns=lambda: (Product.title, Product.code),
    where=lambda: (Product.archived_at.is_(None),),
    describe=describe_product))

SKU = register(Kind(
    name="sku", label=_l("an SKU"), noun=_l("SKU"),
    hint=_l("Search by product name or SKU code"), model=Sku,
    statement=lambda: select(Sku).join(Sku.product).options(
        joinedload(Sku.product).selectinload(Product.images)),
    columns=lambda: (Product.title, Sku.code, Product.code),
    where=lambda: (Product.archived_at.is_(None),),
    order_by=lambda: (Sku.active.desc(), Product.id.desc(), Sku.position, Sku.id),
    describe=describe_sku))

CATEGORY = register(Kind(
    name="category", label=_l("a category"), noun=_l("category"),
    hint=_l("Search by category name"), model=Category,
    statement=lambda: select(Category).options(joinedload(Category.parent)),
    columns=lambda: (Category.name, Category.slug),
    describe=describe_category))
