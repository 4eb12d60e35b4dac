"""Attribution credits exactly the article a purchase started from, and nothing to a
purchase that did not start from one; the figures count what happened."""

import re
import time

from sqlalchemy import select

from shop.articles import attribution
from shop.articles.models import ArticleEvent
from shop.db import db
from shop.orders.models import OrderLine
from shop.wallet import services as wallet
from tests.articles.helpers import embed
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import ArticleFactory, UserFactory, product_with_skus


def _shopper(app):
    client, user = signed_in(app)
    with app.app_context():
        wallet.move(user.id, 1_000_000, reason="t", ref_type="t", ref_id=str(user.id))
        db.session.commit()
    return client, user


def _buy(client, sku_id: int, quantity: int = 1, via: int | None = None) -> int:
    """Add to the cart (from an article's card when `via`), check out, pay by wallet."""
    data = {"sku_id": str(sku_id), "quantity": str(quantity)}
    if via:
        data["via"] = str(via)
    assert client.post_form("/cart/add", data).status_code == 302
    response = client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout")))
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.post_form(f"/orders/{order_id}/pay/wallet").status_code == 302
    return order_id


def _sources(app, order_id: int) -> dict[int, int | None]:
    with app.app_context():
        return dict(db.session.execute(select(OrderLine.product_id, OrderLine.source_article_id)
                                       .where(OrderLine.order_id == order_id)).all())


def _figures(client) -> dict[int, tuple]:
    """Article id -> (views, visitors, clicks, carts, orders, gmv text) from the list."""
    html = client.get("/admin/articles?sort=gmv").get_data(as_text=True)
    rows = re.findall(r'<tr data-article="(\d+)">(.*?)</tr>', html, re.S)
    figures = {}
    for article_id, row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        figures[int(article_id)] = tuple(cell.strip() for cell in cells[-6:])
    return figures


def test_a_purchase_through_an_article_credits_that_article_only(app):
    mango, (mango_sku, _) = product_with_skus(skus=(("三斤", 2990, 10), ("五斤", 4590, 10)))
    cherry, (cherry_sku, _) = product_with_skus(skus=(("一斤", 9900, 10), ("两斤", 18900, 10)))
    plain, (plain_sku, _) = product_with_skus()
    editor = UserFactory(role="editor")
    first = ArticleFactory(author=editor, body_md=f"{embed(mango.id)}\n\n{embed(cherry.id)}")
    second = ArticleFactory(author=editor, body_md=embed(cherry.id))
    client, _user = _shopper(app)

    assert client.get(f"/a/{first.id}").status_code == 200
    assert client.post_form(f"/a/{first.id}/seen").status_code == 204
    assert client.post_form(f"/a/{first.id}/seen").status_code == 204  # same visitor again
    # the shopper opens the mango from the first article's card: the product page reports it
    page = client.get(f"/p/{mango.id}?via={first.id}").get_data(as_text=True)
    assert f"/a/{first.id}/click/{mango.id}" in page
    assert client.post_form(f"/a/{first.id}/click/{mango.id}").status_code == 204
    # the second article is read but nothing is bought from it
    assert client.post_form(f"/a/{second.id}/seen").status_code == 204

    order_id = _buy(client, mango_sku.id, quantity=2)  # added on the product page: no via
    assert _sources(app, order_id) == {mango.id: first.id}

    # bought without any article: no source, even for a product an article features
    other, _ = _shopper(app)
    lone = _buy(other, plain_sku.id)
    assert _sources(app, lone) == {plain.id: None}
    also = _buy(other, cherry_sku.id)
    assert _sources(app, also) == {cherry.id: None}

    admin, _ = signed_in(app, "admin")
    figures = _figures(admin)
    assert figures[first.id] == ("2", "1", "1", "1", "1", "¥59.80")
    assert figures[second.id] == ("1", "1", "0", "0", "0", "¥0.00")


def test_adding_from_an_articles_card_credits_it_and_the_last_click_wins(app):
    cherry, (sku, _) = product_with_skus(skus=(("一斤", 9900, 10), ("两斤", 18900, 10)))
    first = ArticleFactory(body_md=embed(cherry.id))
    second = ArticleFactory(body_md=embed(cherry.id))
    client, _ = _shopper(app)
    assert client.post_form(f"/a/{first.id}/click/{cherry.id}").status_code == 204
    order_id = _buy(client, sku.id, via=second.id)  # the card in the second article
    assert _sources(app, order_id) == {cherry.id: second.id}
    with app.app_context():
        carts = db.session.execute(select(ArticleEvent.article_id).where(ArticleEvent.kind == "cart")).scalars().all()
        assert carts == [second.id]


def test_forged_or_stale_sources_credit_nothing(app):
    mango, (sku, _) = product_with_skus()
    other, _ = product_with_skus()
    article = ArticleFactory(body_md=embed(other.id))  # does not feature the mango
    draft = ArticleFactory(body_md=embed(mango.id), status="draft", published_at=None)
    client, _ = _shopper(app)
    assert client.post_form(f"/a/{article.id}/click/{mango.id}").status_code == 404
    assert client.post_form(f"/a/{draft.id}/click/{mango.id}").status_code == 404
    assert client.post_form(f"/a/{draft.id}/seen").status_code == 404
    order_id = _buy(client, sku.id, via=article.id)
    assert _sources(app, order_id) == {mango.id: None}

    # a touch older than the window no longer counts
    featured = ArticleFactory(body_md=embed(mango.id))
    assert client.post_form(f"/a/{featured.id}/click/{mango.id}").status_code == 204
    days = app.config["ARTICLE_ATTRIBUTION_DAYS"]
    with client.session_transaction() as session:
        touch = session[attribution.TOUCH_KEY][str(mango.id)]
        session[attribution.TOUCH_KEY] = {str(mango.id): [touch[0], int(time.time()) - days * 86400 - 60]}
    order_id = _buy(client, sku.id)
    assert _sources(app, order_id) == {mango.id: None}
    with app.app_context():
        assert db.session.scalars(select(ArticleEvent.kind)
                                  .where(ArticleEvent.article_id == featured.id)).all() == ["click"]


def test_a_touch_made_as_a_visitor_counts_after_signing_in(app):
    mango, (sku, _) = product_with_skus()
    article = ArticleFactory(body_md=embed(mango.id))
    client = app.test_client()
    assert client.post_form(f"/a/{article.id}/click/{mango.id}").status_code == 204
    user = UserFactory()
    with app.app_context():
        wallet.move(user.id, 100_000, reason="t", ref_type="t", ref_id="v")
        db.session.commit()
    client.signin(user.email)
    order_id = _buy(client, sku.id)
    assert _sources(app, order_id) == {mango.id: article.id}


def test_editors_see_their_own_figures_and_admins_see_all_sorted(app):
    mine_editor = UserFactory(role="editor")
    product, (sku, _) = product_with_skus(skus=(("红", 1000, 50), ("蓝", 1000, 0)))
    mine = ArticleFactory(author=mine_editor, title="我的文章", body_md=embed(product.id))
    theirs = ArticleFactory(title="别人的文章", body_md=embed(product.id))
    buyer, _ = _shopper(app)
    _buy(buyer, sku.id, quantity=3, via=theirs.id)
    _buy(buyer, sku.id, quantity=1, via=mine.id)
    editor = app.test_client()
    editor.signin(mine_editor.email)
    assert set(_figures(editor)) == {mine.id}
    admin, _ = signed_in(app, "admin")
    html = admin.get("/admin/articles?sort=gmv&dir=desc").get_data(as_text=True)
    assert html.index("别人的文章") < html.index("我的文章")
    html = admin.get("/admin/articles?sort=gmv&dir=asc").get_data(as_text=True)
    assert html.index("我的文章") < html.index("别人的文章")
    assert _figures(admin)[theirs.id][-2:] == ("1", "¥30.00")
