import time

from flask import current_app

from shop.articles import services as articles
from shop.catalog import services as catalog
from shop.db import versions
from shop.home.blueprint import bp
from shop.web import cached_blocks, render


@bp.get("/")
def index():
    # The article feed changes with articles (their version) and with the clock (a scheduled
    # article shows from its time): the minute is part of the key, so it shows within one.
    parts = cached_blocks(
        ("home", *versions("catalog", "articles"), int(time.time() // 60)),
        "home/_index.html", ["content"],
        lambda: {"categories": catalog.top_categories(),
                 "products": catalog.featured_products(), "articles": articles.feed()},
    )
    return render("home/index.html", parts=parts)


@bp.get("/favicon.ico")
def favicon():
    """The icon where browsers look without a <link rel="icon"> (pages that are not HTML)
    or where they draw no SVG icon: a bitmap copy of static/img/icon.svg."""
    return current_app.send_static_file("img/favicon.ico")
