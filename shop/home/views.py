import time

from flask import abort, current_app
from flask_babel import ngettext

from shop.articles import services as articles
from shop.catalog import services as catalog
from shop.db import versions
from shop.home import services
from shop.home.blueprint import bp
from shop.media.services import path_for
from shop.referrals import links
from shop.web import cached_blocks, render


def _home_context(now=None, preview: bool = False) -> dict:
    """What the blocks of home/_index.html read: the editors' blocks, or, in a shop
    where no block was ever made, the built-in home (categories, featured, articles)."""
    if services.any_blocks() or preview:
        return {"blocks": services.home_blocks(now, preview=preview)}
    return {"blocks": None, "categories": catalog.top_categories(),
            "products": catalog.featured_products(), "articles": articles.feed()}


@bp.get("/")
def index():
    # The blocks change with their editors ("home"), with the products, categories and
    # articles they show, and with the clock (scheduled blocks and articles, campaigns
    # that start and end): the minute is part of the key, so each shows within one.
    parts = cached_blocks(
        ("home", *versions("catalog", "articles", "home"), int(time.time() // 60)),
        "home/_index.html", ["content"], _home_context)
    return render("home/index.html", parts=parts)


@bp.get("/col/<int:collection_id>")
def collection(collection_id: int):
    """A collection's landing page; 404 when it is missing or not published."""
    found = services.collection_page(collection_id) or abort(404)
    collection, products = found
    return render("home/collection.html", collection=collection, products=products)


@bp.get("/favicon.ico")
def favicon():
    """The icon where browsers look without a <link rel="icon"> (pages that are not HTML)
    or where they draw no SVG icon: a bitmap copy of static/img/icon.svg."""
    return current_app.send_static_file("img/favicon.ico")


def _poster(collection_id: int):
    """A collection's share poster: its cover (else its first product's picture), its
    title, and how many things it holds."""
    found = services.collection_page(collection_id)
    if found is None:
        return None
    collection, products = found
    cover = collection.cover or next((p.cover for p in products if p.cover), None)
    image = path_for(cover.key, max(int(w) for w in cover.widths.split(","))) if cover else None
    return image, collection.tr("title"), ngettext("%(num)d thing to choose from",
                                                   "%(num)d things to choose from", len(products))


links.register_target("c", "home.collection", "collection_id", services.collection_titles)
links.register_poster("c", _poster)
