"""What shoppers see: the feed on the home page, the content tab, the article page with
live product cards, OpenGraph tags, related articles, and articles on product pages."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from shop.catalog.models import Product, Sku
from shop.db import db, utcnow
from tests.articles.helpers import EN, embed
from tests.conftest import counted_queries
from tests.factories import (ArticleCategoryFactory, ArticleFactory, ProductFactory, TagFactory,
                             product_with_skus)


def test_the_article_page_shows_live_cards_a_notice_og_tags_and_a_share_button(app, client):
    fresh, (red, blue) = product_with_skus(title="芒果", skus=(("红", 2990, 5), ("蓝", 3990, 2)))
    empty, _ = product_with_skus(title="空了", skus=(("红", 990, 0), ("蓝", 990, 0)))
    gone, _ = product_with_skus(title="下架了")
    article = ArticleFactory(title="夏天的水果", summary="挑芒果",
                             body_md=f"导语\n\n{embed(fresh.id)}\n\n{embed(empty.id)}\n\n{embed(gone.id)}")
    with app.app_context():  # after publishing, one product goes off sale and a price changes
        db.session.execute(update(Product).where(Product.id == gone.id).values(status="off_sale"))
        db.session.execute(update(Sku).where(Sku.id == red.id).values(price_minor=2490))
        db.session.commit()
    html = client.get(f"/a/{article.id}").get_data(as_text=True)
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="夏天的水果">' in html
    assert f'<link rel="canonical" href="http://127.0.0.1:5000/a/{article.id}">' in html
    assert html.count('class="embed"') == 2
    assert "¥24.90" in html  # the live price, not the one of the day it was written
    assert re.search(r'芒果</span>.*?In stock|芒果</span>.*?有货', html, re.S)
    assert "已售罄" in html or "Sold out" in html
    assert html.count("hx-post=\"/cart/add\"") == 1  # the sold-out card has no button
    assert f'href="/p/{fresh.id}?via={article.id}"' in html
    assert "不再销售" in html or "no longer on sale" in html  # the off-sale one is a notice
    assert f'hx-get="/share/a{article.id}"' in html and f'hx-post="/a/{article.id}/seen"' in html


def test_feed_content_tab_filters_and_related_articles(app, client):
    topic, other_topic = ArticleCategoryFactory(name="好物"), ArticleCategoryFactory(name="生活")
    tag = TagFactory(name="水果")
    main = ArticleFactory(title="主文章", category=topic)
    ArticleFactory(title="同类文章", category=topic)
    ArticleFactory(title="同标签文章", category=other_topic, tags=[tag])
    with app.app_context():
        from shop.articles.models import Article

        db.session.get(Article, main.id).tags = [db.session.merge(tag)]
        db.session.commit()
    ArticleFactory(title="无关文章", category=other_topic)
    ArticleFactory(title="草稿文章", status="draft", published_at=None)
    ArticleFactory(title="将来的文章", published_at=utcnow() + timedelta(days=1))

    home = client.get("/").get_data(as_text=True)
    assert "主文章" in home and "草稿文章" not in home and "将来的文章" not in home
    tab = client.get("/articles").get_data(as_text=True)
    assert all(t in tab for t in ("主文章", "同类文章", "同标签文章", "无关文章"))
    assert "草稿文章" not in tab and "将来的文章" not in tab
    by_topic = client.get(f"/articles?c={topic.id}").get_data(as_text=True)
    assert "同类文章" in by_topic and "无关文章" not in by_topic
    by_tag = client.get("/articles?tag=水果").get_data(as_text=True)
    assert "同标签文章" in by_tag and "同类文章" not in by_tag
    page = client.get(f"/a/{main.id}").get_data(as_text=True)
    related = page[page.index("rel-h"):]
    assert "同类文章" in related and "同标签文章" in related and "无关文章" not in related
    assert client.get("/articles?page=0").status_code == 404


def test_product_pages_list_the_articles_that_feature_them(app, client):
    product, _ = product_with_skus()
    ArticleFactory(title="推荐它的文章", body_md=embed(product.id))
    ArticleFactory(title="草稿里提到", body_md=embed(product.id), status="draft", published_at=None)
    page = client.get(f"/p/{product.id}").get_data(as_text=True)
    assert f'hx-get="/a/featuring/{product.id}"' in page
    fragment = client.get(f"/a/featuring/{product.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "推荐它的文章" in fragment and "草稿里提到" not in fragment
    lonely = ProductFactory()
    assert client.get(f"/a/featuring/{lonely.id}").get_data(as_text=True).strip() == ""


def test_an_article_costs_the_same_queries_with_one_or_ten_embeds(app, client):
    products = [product_with_skus()[0] for _ in range(10)]
    one = ArticleFactory(body_md=embed(products[0].id))
    ten = ArticleFactory(body_md="\n\n".join(embed(p.id) for p in products))
    client.get(f"/a/{one.id}")  # warm: the session, the chrome
    with counted_queries(app) as few:
        assert client.get(f"/a/{one.id}", headers=EN).get_data(as_text=True).count('class="embed"') == 1
    with counted_queries(app) as many:
        assert client.get(f"/a/{ten.id}", headers=EN).get_data(as_text=True).count('class="embed"') == 10
    assert len(many) == len(few) <= 8, many


def test_buy_now_on_a_card_buys_that_item_only_credited_to_the_article(app, shopper_client):
    from shop.cart.models import CartItem
    from shop.orders.models import OrderLine
    from tests.conftest import ADDRESS, form_token

    product, (sku, other) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 2590, 5)))
    article = ArticleFactory(body_md=embed(product.id))
    shopper_client.post_form("/cart/add", {"sku_id": str(other.id), "quantity": "3"})
    data = {"sku_id": str(sku.id), "quantity": "1", "via": str(article.id), "buy": "y"}
    response = shopper_client.post_form("/cart/add", data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/checkout?now=1"
    token = form_token(shopper_client, "/checkout?now=1")
    assert shopper_client.post_form("/checkout?now=1", dict(ADDRESS, token=token)).status_code == 302
    with app.app_context():
        assert db.session.execute(select(OrderLine.sku_id, OrderLine.quantity,
                                         OrderLine.source_article_id)).all() == [(sku.id, 1, article.id)]
        assert db.session.execute(select(CartItem.sku_id, CartItem.quantity)).all() == [(other.id, 3)]


def test_a_card_headlines_the_cheapest_option_in_stock(app, client):
    product, (cheap, _dear) = product_with_skus(skus=(("红", 990, 0), ("蓝", 2590, 4)))
    gone, _ = product_with_skus(skus=(("红", 1990, 0), ("蓝", 990, 0)))
    article = ArticleFactory(body_md=f"{embed(product.id)}\n\n{embed(gone.id)}")
    html = client.get(f"/a/{article.id}").get_data(as_text=True)
    prices = re.findall(r'data-testid="embed-price">([^<]+)<', html)
    assert prices == ["¥25.90", "¥9.90"]  # sold out in full: its lowest price


def test_the_article_page_headings_never_skip_a_level(app, client):
    """The title is the h1; the body's headings and the embed cards follow without a
    skipped level, also for an article saved before headings nested."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    product, _ = product_with_skus(title="芒果")
    article = ArticleFactory(title="夏天的水果", body_md=f"导语\n\n{embed(product.id)}\n\n## 小贴士\n\n"
                                                   "#### 冷藏\n\n别太久\n\n## 挑选\n")

    def levels():
        html = client.get(f"/a/{article.id}").get_data(as_text=True)
        found = [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]
        assert found[0] == 1 and all(b <= a + 1 for a, b in zip(found, found[1:])), found
        return found

    assert levels() == [1, 2, 3, 2]  # title, 小贴士, 冷藏, 挑选
    with app.app_context():  # as the body was stored before (one level down, skipping h2)
        downgrade(revision="d9f1b3c5e7a2")
        db.session.execute(text("UPDATE articles SET body_html = :html WHERE id = :id"), {
            "id": article.id, "html": f"<p>导语</p>\n<p>[[product:{product.id}]]</p>\n"
                                      "<h3>小贴士</h3>\n<h4>冷藏</h4>\n<p>别太久</p>\n<h3>挑选</h3>"})
        db.session.commit()
        upgrade()
    assert levels() == [1, 2, 3, 2]
