"""How the backoffice names one SKU: never by its internal number ("SKU 76") but by its
product's title, its option values (in the page's language: Product.tr_option) and its
code — "麦饭石不粘炒锅 · 黑色 / 32cm · PAN-32".

One helper for every page and message (the audit log, the promotions' and the points
mall's lists, the margin guard's messages, the SKU picker). It reads sku.product: the
caller loads SKUs with their product (joinedload / selectinload), so a list costs the same
few queries whatever its length. Templates have `sku_label(sku)` and `sku_detail(sku)` as
globals (registered by shop/catalog/blueprint.py) and the macro sku_name in
templates/_macros/sku.html (title, then the detail in small print)."""

from __future__ import annotations


def sku_options(sku) -> str:
    """Its option values in the current language: "黑色 / 32cm" ("Black / 32cm"); "" when
    the product has no options."""
    return " / ".join(str(sku.product.tr_option(value)) for value in sku.option_values or [] if value)


def sku_detail(sku) -> str:
    """What tells it from the product's other SKUs: its options and its code."""
    return " · ".join(part for part in (sku_options(sku), sku.code) if part)


def sku_short(sku) -> str:
    """Among one product's SKUs (a message about a product): its options, else its code."""
    return sku_options(sku) or sku.code


def sku_label(sku) -> str:
    """The whole name, on one line: product title · options · code."""
    return " · ".join(part for part in (sku.product.title, sku_detail(sku)) if part)
