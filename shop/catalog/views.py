from flask import abort, current_app, request

from shop.catalog import bp, services
from shop.web import render


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        abort(404)
    return int(raw)


def _sort_arg() -> str:
    sort = request.args.get("sort", services.DEFAULT_SORT)
    return sort if sort in services.SORTS else services.DEFAULT_SORT


@bp.get("/")
def home():
    return render(
        "catalog/home.html",
        categories=services.top_categories(),
        products=services.featured_products(),
    )


@bp.get("/categories")
def categories():
    return render("catalog/categories.html", categories=services.top_categories())


@bp.get("/c/<int:category_id>")
def category(category_id: int):
    category = services.get_category(category_id) or abort(404)
    sort = _sort_arg()
    pagination = services.list_products(
        category=category, sort=sort, page=_page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render("catalog/category.html", block="results", category=category,
                  pagination=pagination, sort=sort)


@bp.get("/search")
def search():
    q = request.args.get("q", "").strip()[:80]
    sort = _sort_arg()
    pagination = services.list_products(
        q=q, sort=sort, page=_page_arg(), per_page=current_app.config["PAGE_SIZE"]
    ) if q else None
    return render("catalog/search.html", block="results", q=q, pagination=pagination, sort=sort)


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    """The product page; with option values chosen (o0, o1, ...), the SKU panel for htmx."""
    product = services.get_product_for_shoppers(product_id) or abort(404)
    chosen = [request.args.get(f"o{i}", "") for i in range(len(product.option_names or []))]
    chosen = chosen if all(chosen) else []
    sku = services.choose_sku(product, chosen)
    return render(
        "catalog/product.html", block="sku_panel", product=product, sku=sku,
        chosen=chosen or (list(sku.option_values) if sku else []),
        groups=services.option_groups(product),
    )
