"""Shopper pages: the content tab, the article page with live product cards, the
fragment of articles featuring a product, and the beacons the pages send for the
figures (POST, after the page has loaded)."""

from flask import abort, request
from markupsafe import Markup

from shop.articles import attribution, services
from shop.articles.blueprint import bp
from shop.extensions import limiter
from shop.web import number_arg, render

BEACON_LIMIT = "60 per minute"


@bp.get("/articles")
def index():
    category_id = number_arg("c", None)
    tag = request.args.get("tag", "").strip()[:32]
    pagination = services.list_published(category_id=category_id, tag=tag,
                                         page=number_arg("page", 1, most=10_000))
    return render("articles/index.html", block="results", pagination=pagination,
                  categories=services.categories(), category_id=category_id, tag=tag,
                  args={k: v for k, v in (("c", category_id), ("tag", tag)) if v})


@bp.get("/a/<int:article_id>")
def page(article_id: int):
    article = services.get_visible(article_id) or abort(404)
    parts = services.body_parts(article)
    return render("articles/page.html", article=article,
                  parts=[Markup(p) if isinstance(p, str) else p for p in parts],
                  cards=services.embed_cards([p for p in parts if isinstance(p, int)]),
                  related=services.related(article))


@bp.get("/a/featuring/<int:product_id>")
def featuring(product_id: int):
    """Loaded by the product page after it shows: the page itself stays as cheap as it was."""
    return render("articles/_featuring.html", articles=services.featuring(product_id))


@bp.post("/a/<int:article_id>/seen")
@limiter.limit(BEACON_LIMIT)
def seen(article_id: int):
    if not services.is_shown(article_id):
        abort(404)
    attribution.record(article_id, "view")
    return "", 204


@bp.post("/a/<int:article_id>/click/<int:product_id>")
@limiter.limit(BEACON_LIMIT)
def click(article_id: int, product_id: int):
    if not attribution.record_click(article_id, product_id):
        abort(404)
    return "", 204
