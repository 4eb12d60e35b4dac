"""Shopper pages. What every visitor sees alike (cards, product text, images) is rendered
once per catalogue version and locale (cached_blocks); stock, the chosen SKU and
everything about the visitor are rendered on each request around it."""

from flask import abort, current_app, request

from shop.catalog import services
from shop.catalog.blueprint import bp
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


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    """The product page; with option values chosen (o0, o1, ...), the SKU panel for htmx.

    Per request: the live SKUs and the catalogue generation (one light query). The
    rest, text and picker for this choice included, comes from the fragment cache."""
    skus, generation = services.live_skus(product_id)
    if not skus:
        abort(404)
    chosen = services.valid_choice(skus, [request.args.get(f"o{i}", "")
                                          for i in range(len(skus[0].option_values))])
    sku = services.choose_sku(skus, chosen)
    chosen = chosen or (list(sku.option_values) if sku else [])

    def load():
        full = services.get_product_for_shoppers(product_id) or abort(404)
        return {"product": full, "chosen": chosen, "groups": services.option_groups(full)}

    parts = cached_blocks(
        ("product", product_id, tuple(chosen), generation),
        "catalog/_product.html", ["title", "description", "meta", "top", "label", "details"], load,
    )
    via = request.args.get("via", type=int)  # the article it was opened from, if any
    return render("catalog/product.html", block="sku_panel", sku=sku, skus=skus, parts=parts,
                  product_id=product_id, via=via if via and 0 < via < 2**31 else None)
