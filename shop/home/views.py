import time

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
