"""Shopper pages. What every visitor sees alike (cards, product text, images) is rendered
once per catalogue version and locale (cached_blocks); stock, the chosen SKU and
everything about the visitor are rendered on each request around it."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from shop.catalog import services
from shop.catalog.blueprint import bp
from shop.extensions import cache, htmx
from shop.web import cached_blocks, number_arg, render


def _sort_arg() -> str:
    sort = request.args.get("sort", services.DEFAULT_SORT)
    return sort if sort in services.SORTS else services.DEFAULT_SORT


@bp.get("/categories")
def categories():
    parts = cached_blocks(
        ("categories", services.catalog_generation()), "catalog/_categories.html", ["content"],
        lambda: {"categories": services.top_categories(with_children=True)},
    )
    return render("catalog/categories.html", parts=parts)


@bp.get("/c/<int:category_id>")
def category(category_id: int):
    sort, page, per_page = _sort_arg(), number_arg("page", 1, most=10_000), current_app.config["PAGE_SIZE"]

    def load():
        category = services.get_category(category_id) or abort(404)
        pagination = services.list_products(category=category, sort=sort, page=page,
                                            per_page=per_page)
        return {"category": category, "pagination": pagination, "sort": sort,
                "endpoint": "catalog.category", "args": {"category_id": category_id, "sort": sort}}

    parts = cached_blocks(
        ("category", category_id, sort, page, per_page, services.catalog_generation()),
        "catalog/_category.html", ["title", "header", "results"], load,
    )
    return render("catalog/category.html", block="results", parts=parts)


# --- the product page -----------------------------------------------------------------------


@dataclass(frozen=True)
class WayToBuy:
    """A way to buy the product other than alone, for the action bar: a group buy, a live
    flash sale, a bargain. Plain values (it is cached): the page it starts on, its lowest
    price, and its price per SKU where that is known."""

    kind: str  # "group", "flash" or "bargain": the bar's order and wording
    url: str
    price_minor: int
    currency: str
    sku_prices: tuple[tuple[int, int], ...] = ()

    def price_for(self, sku_id: int | None) -> int:
        return dict(self.sku_prices).get(sku_id, self.price_minor)


# What other domains add to a product page, so catalog imports none of them (they import
# catalog): name -> function(product_id) returning {"way": WayToBuy | None, "html": Markup
# shown under the price}. The same for every visitor, so their results are kept together
# for OFFERS_SECONDS (a campaign or flash session that starts or ends shows within that).
PRODUCT_OFFERS: dict[str, Callable[[int], dict]] = {}
OFFERS_SECONDS = 30
# name -> function(product_id) run on every view of the page, per visitor (whether it is
# a favourite; the browsing history kept in the session): its result is in `visitor`.
PRODUCT_VISIT: dict[str, Callable[[int], object]] = {}
WAY_ORDER = ("group", "flash", "bargain")
# the order of the domains' sections under the price (PRODUCT_OFFERS keys): the price's own
# offers (limited-time, flash, reductions) first, then the groups, then the bargain
SECTION_ORDER = ("flash", "groups", "bargains")


def _offers(product_id: int, generation) -> tuple[list[WayToBuy], Markup]:
    """The ways to buy and the shared sections the domains add, from the cache (one entry
    per product, catalogue version, locale and OFFERS_SECONDS)."""
    key = f"offers:{product_id}:{generation}:{get_locale()}:{int(time.time() // OFFERS_SECONDS)}"
    found = cache.get(key)
    if found is None:
        last = len(SECTION_ORDER)
        names = sorted(PRODUCT_OFFERS, key=lambda n: SECTION_ORDER.index(n) if n in SECTION_ORDER else last)
        parts = [PRODUCT_OFFERS[name](product_id) for name in names]
        ways = sorted((p["way"] for p in parts if p.get("way")), key=lambda w: WAY_ORDER.index(w.kind))
        found = (ways, "".join(str(p.get("html") or "") for p in parts))
        cache.set(key, found, timeout=OFFERS_SECONDS * 2)
    return found[0], Markup(found[1])


def headline(skus: list[services.LiveSku], sku, chose: bool) -> tuple[int, bool]:
    """The price the page leads with, and whether it is a "from" price (起): the chosen
    option's price; with no choice, that of the option it leads with (lead_sku: the
    cheapest in stock, else the cheapest), "from" when the options in stock cost
    differently (never when none is in stock: nothing is on offer from that price)."""
    if chose and sku is not None:
        return sku.price_minor, False
    return services.lead_sku(skus).price_minor, len({s.price_minor for s in skus if s.stock > 0}) > 1


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    """The product page; with option values chosen (o0, o1, ...), the SKU panel and the
    action bar for htmx.

    Per request: the live SKUs and the catalogue generation (one light query), and what
    is the visitor's own (PRODUCT_VISIT). The rest, text and picker for this choice
    included, comes from the fragment cache, and the other ways to buy (group, flash,
    bargain) with the group section from the offers cache (_offers): the page needs no
    request of its own for them. With no choice, the cheapest option in stock is the one
    the buttons buy."""
    skus, generation = services.live_skus(product_id)
    if not skus:
        abort(404)
    chosen = services.valid_choice(skus, [request.args.get(f"o{i}", "")
                                          for i in range(len(skus[0].option_values))])
    chose = bool(chosen)
    if chose:
        sku = services.choose_sku(skus, chosen)
    else:
        sku = services.lead_sku(skus)
    chosen = chosen or list(sku.option_values)

    def load():
        full = services.get_product_for_shoppers(product_id) or abort(404)
        return {"product": full, "chosen": chosen, "groups": services.option_groups(full)}

    parts = cached_blocks(
        ("product", 3, product_id, tuple(chosen), generation),
        "catalog/_product.html", ["title", "description", "meta", "gallery", "name", "heading", "label",
                                  "details"], load,
    )
    ways, offers_html = _offers(product_id, generation)
    price, from_price = headline(skus, sku, chose)
    visitor = {name: visit(product_id) for name, visit in PRODUCT_VISIT.items()}
    via = request.args.get("via", type=int)  # the article it was opened from, if any
    return render("catalog/product.html", block="sku_panel", sku=sku, skus=skus, parts=parts,
                  product_id=product_id, via=via if via and 0 < via < 2**31 else None,
                  headline=price, from_price=from_price, ways=ways, offers_html=offers_html,
                  visitor=visitor, partial=bool(htmx))
