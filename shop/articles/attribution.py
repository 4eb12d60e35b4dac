"""Which article a purchase started from.

The rule (also in the README):
- A shopper *arrives through* article A at product P when they open P from one of A's
  product cards (the product page, opened with ?via=A, reports the click) or add P to the
  cart straight from A's card. The shop then keeps a *touch* (A, P, time) in the
  shopper's session; a later touch for the same product replaces it (last click wins).
- For ARTICLE_ATTRIBUTION_DAYS (7 by default) after the touch, adding P to the cart counts
  as one of A's add-to-carts, and an order line of P placed in that time carries
  source_article_id = A. Nothing else is credited: a product found by search, or one the
  article does not embed, has no source.
- An article's orders are the paid orders (not refunded in full) with at least one line
  carrying it; its GMV is what those lines paid for their goods (each line's own, after
  its discounts, shipping aside: OrderLine.goods_minor), less what refunds gave back of
  those goods.
- Views and unique visitors count openings of the article page, reported by the page
  itself after it loads (no count for bots without JavaScript or for link prefetches);
  a visitor is the random id of shop.web.visitor.
Touches and the visitor id survive signing in (a touch made as a visitor counts after
sign-in), not signing out (the next person on that browser starts clean).
"""

from __future__ import annotations

import time

from flask import current_app, has_request_context, session
from sqlalchemy import select

from shop.articles.models import Article, ArticleEvent, ArticleProduct
from shop.signals import item_added
from shop.articles.services import is_visible
from shop.db import db
from shop.orders import lifecycle
from shop.web import SESSION_KEYS_KEPT_AT_SIGNIN
from shop.web.visitor import visitor_id

TOUCH_KEY = "art"      # {"<product id>": [article id, unix time]}
MAX_TOUCHES = 20
SESSION_KEYS_KEPT_AT_SIGNIN.add(TOUCH_KEY)


def features(article_id: int, product_id: int) -> bool:
    """Whether a visible article embeds the product."""
    return db.session.scalar(
        select(ArticleProduct.article_id)
        .join(Article, Article.id == ArticleProduct.article_id)
        .where(ArticleProduct.article_id == article_id, ArticleProduct.product_id == product_id,
               is_visible())
    ) is not None


def touch(article_id: int, product_id: int) -> None:
    touches = dict(session.get(TOUCH_KEY, {}))
    touches.pop(str(product_id), None)
    touches[str(product_id)] = [article_id, int(time.time())]
    while len(touches) > MAX_TOUCHES:  # the oldest goes first (dicts keep insertion order)
        touches.pop(next(iter(touches)))
    session[TOUCH_KEY] = touches


def source_for(product_id: int) -> int | None:
    """The article the shopper arrived at this product through, within the window."""
    if not has_request_context():
        return None
    entry = session.get(TOUCH_KEY, {}).get(str(product_id))
    if not entry:
        return None
    article_id, at = entry
    window = current_app.config["ARTICLE_ATTRIBUTION_DAYS"] * 86400
    return article_id if time.time() - at <= window else None


def record(article_id: int, kind: str, product_id: int | None = None) -> None:
    db.session.add(ArticleEvent(article_id=article_id, kind=kind, visitor=visitor_id(),
                                product_id=product_id))
    db.session.flush()


def record_click(article_id: int, product_id: int) -> bool:
    """The product page opened from an article's card: a click, and a touch."""
    if not features(article_id, product_id):
        return False
    touch(article_id, product_id)
    record(article_id, "click", product_id)
    return True


@item_added.connect
def _credit_cart(sku, *, quantity: int, via: int | None = None, **extra) -> None:
    if not has_request_context():
        return
    if via and features(via, sku.product_id):
        touch(via, sku.product_id)
        record(via, "cart", sku.product_id)
        return
    source = source_for(sku.product_id)
    if source is not None and features(source, sku.product_id):
        record(source, "cart", sku.product_id)


def _credit_lines(order, *, lines, **_kwargs) -> None:
    """Each line carries the article its product was reached through, if that article is
    still published (an unpublished article is credited with nothing more)."""
    sources = {line.product_id: source_for(line.product_id) for line in lines}
    wanted = {article_id for article_id in sources.values() if article_id is not None}
    visible = set(db.session.scalars(
        select(Article.id).where(Article.id.in_(wanted), is_visible()))) if wanted else set()
    for line in lines:
        source = sources[line.product_id]
        line.source_article_id = source if source in visible else None


lifecycle.join("attribution", placed=_credit_lines)
