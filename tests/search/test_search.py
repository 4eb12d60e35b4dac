"""What search finds and in which order, the index following the catalogue, the bounded
cost of a search, odd input, and recent and hot searches."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select

from shop.catalog.models import Category, Product
from shop.db import db
from shop.extensions import cache
from shop.search.models import SearchCount, SearchDocument
from tests.conftest import counted_queries
from tests.factories import CategoryFactory, ProductFactory, SynonymGroupFactory

ZH = {"Accept-Language": "zh-CN"}
HTMX = {"HX-Request": "true"}


def titles(response) -> list[str]:
    """The titles of the results (not of the best sellers shown when nothing matched,
    which come under a heading of their own)."""
    html = response.get_data(as_text=True).split('<h2 class="section-title">')[0]
    return re.findall(r'class="card-title">([^<]+)<', html)


def found(client, q: str, **args) -> list[str]:
    response = client.get("/search", query_string={"q": q, **args}, headers=ZH)
    assert response.status_code == 200
    return titles(response)


def _category(name, parent=None, en=""):
    return CategoryFactory(name=name, parent_id=parent.id if parent else None,
                           translations={"en": {"name": en}} if en else {})


@pytest.fixture
def shelf(app):
    """A few products under the demo's own category names, and its synonyms."""
    fruit = _category("生鲜水果", en="Fresh fruit")
    snacks, tea, pantry = _category("休闲零食"), _category("茶酒冲饮"), _category("粮油调味")
    products = {
        "mango": ProductFactory(title="海南贵妃芒 新鲜当季", subtitle="树上自然熟",
                                category=_category("当季水果", fruit), sales_count=5,
                                translations={"en": {"title": "Hainan Guifei mangoes"}}),
        "apple": ProductFactory(title="烟台红富士苹果", subtitle="脆甜", category=_category("当季水果", fruit),
                                sales_count=50),
        "nuts": ProductFactory(title="每日坚果 混合果仁", category=_category("坚果炒货", snacks)),
        "longjing": ProductFactory(title="明前西湖龙井 特级", category=_category("茗茶", tea)),
        "coffee": ProductFactory(title="精品挂耳咖啡", category=_category("咖啡冲饮", tea)),
        "oil": ProductFactory(title="有机野山茶油", category=_category("食用油", pantry)),
    }
    SynonymGroupFactory(terms=["芒果", "芒", "mango"])
    SynonymGroupFactory(terms=["茶叶", "茗茶", "龙井"], one_way=True)
    return {name: p.id for name, p in products.items()}


def test_everyday_words_find_the_fruit_the_snacks_and_the_tea(client, shelf):
    assert found(client, "芒果") == ["海南贵妃芒 新鲜当季"]
    assert found(client, "mango") == ["海南贵妃芒 新鲜当季"]
    assert found(client, "guifeim") == ["海南贵妃芒 新鲜当季"]  # pinyin, as typed so far
    assert found(client, "海南芒果") == ["海南贵妃芒 新鲜当季"]  # jieba: 海南 + 芒果
    assert found(client, "水果") == ["烟台红富士苹果", "海南贵妃芒 新鲜当季"]  # by sales
    assert found(client, "零食") == ["每日坚果 混合果仁"]
    assert found(client, "茶叶") == ["明前西湖龙井 特级"]  # not the coffee, not the tea oil
    assert found(client, "龙井") == ["明前西湖龙井 特级"]  # one way: 龙井 does not find 茶叶's others
    assert found(client, "榴莲") == []


def test_title_hits_come_first_then_sales_and_the_sort_bar_still_sorts(client, app):
    ProductFactory(title="芒果干", sales_count=0, price_minor=900)
    ProductFactory(title="热带果汁", subtitle="芒果风味", sales_count=500, price_minor=500)
    ProductFactory(title="芒果蛋糕", sales_count=30, price_minor=3000)
    assert found(client, "芒果") == ["芒果蛋糕", "芒果干", "热带果汁"]
    assert found(client, "芒果", sort="price_asc") == ["热带果汁", "芒果干", "芒果蛋糕"]
    assert found(client, "芒果", sort="sales") == ["热带果汁", "芒果蛋糕", "芒果干"]


def test_the_index_follows_products_and_categories(client, app, shelf):
    with app.app_context():
        mango = db.session.get(Product, shelf["mango"])
        mango.title = "三亚金煌芒"
        db.session.get(Category, mango.category_id).name = "热带鲜果"
        db.session.get(Product, shelf["apple"]).status = "off_sale"
        db.session.commit()
    assert found(client, "金煌") == ["三亚金煌芒"]
    assert found(client, "贵妃") == []
    assert found(client, "热带鲜果") == ["三亚金煌芒"]  # the category's new name
    assert found(client, "当季") == []
    assert found(client, "苹果") == []  # off sale
    with app.app_context():  # a parent's new name reaches its children's products
        fruit = db.session.scalar(select(Category).where(Category.name == "生鲜水果"))
        fruit.name = "鲜果园"
        db.session.commit()
    assert found(client, "鲜果园") == ["三亚金煌芒"]


def test_reindex_command_rebuilds_the_index(client, app, shelf):
    with app.app_context():
        db.session.execute(delete(SearchDocument))
        db.session.commit()
    assert found(client, "龙井") == []
    result = app.test_cli_runner().invoke(args=["shop", "reindex-search"])
    assert "6 products" in result.output
    assert found(client, "龙井") == ["明前西湖龙井 特级"]


def test_a_search_costs_the_same_few_statements_for_one_result_or_many(client, app):
    ProductFactory(title="芒果一号")
    client.get("/search?q=芒果")  # the first search of a process loads jieba

    def cost(cached: bool):
        if not cached:
            with app.app_context():
                cache.clear()
        with counted_queries(app) as statements:
            response = client.get("/search?q=芒果")
        assert response.status_code == 200
        return len(statements), len(titles(response))

    one = cost(cached=False)
    for n in range(11):
        ProductFactory(title=f"芒果{n}号")
    many, again = cost(cached=False), cost(cached=True)
    assert one[1] == 1 and many[1] == again[1] == 12
    # the versions, the synonyms (the cache was emptied), the count, the page's ids, its
    # products and their images, and the request's own (the session's visitor)
    assert one[0] == many[0] <= 7, (one, many)
    assert again[0] == many[0] - 3  # from the cache: the synonyms and the ranked page (no count, no ranking)


def test_odd_or_over_long_input_gets_a_clear_page_and_changes_nothing(client, app, shelf):
    long = client.get("/search", query_string={"q": "芒" * 81}, headers=ZH)
    body = long.get_data(as_text=True)
    assert long.status_code == 400 and "80" in re.search(r'role="alert">([^<]+)<', body).group(1)
    assert "search/seen" not in body and "card-title" in body  # best sellers, nothing remembered
    for odd in ('"*(OR) NEAR^:', "%_\\", "'; DROP TABLE products; --", "！？"):
        response = client.get("/search", query_string={"q": odd}, headers=ZH)
        assert response.status_code == 200, odd
    empty = client.get("/search", headers=ZH).get_data(as_text=True)
    assert "card-title" not in empty and "search/seen" not in empty
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchCount)) == 0
        assert db.session.scalar(select(func.count()).select_from(Product)) == 6
    with client.session_transaction() as session:
        assert "search_recent" not in session


def _seen_token(client, q: str) -> str:
    html = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_a_search_is_remembered_by_post_counted_once_per_visitor_and_shown_as_hot(client, app, shelf):
    token = _seen_token(client, " 芒果 ")
    assert client.post_form("/search/seen", {"token": token}).status_code == 204
    assert client.post_form("/search/seen", {"token": token}).status_code == 204  # a reload
    client.post_form("/search/seen", {"token": _seen_token(client, "榴莲")})  # found nothing
    assert client.post_form("/search/seen", {"token": "forged"}).status_code == 400
    assert client.post("/search/seen", data={"token": token}).status_code == 400  # no CSRF token
    with app.app_context():
        assert db.session.execute(select(SearchCount.term, SearchCount.searches)).all() == [("芒果", 1)]
    page = client.get("/search", headers=ZH).get_data(as_text=True)
    recent = page[page.index("最近搜索") if "最近搜索" in page else page.index("Recent searches"):]
    assert recent.index("榴莲") < recent.index("芒果")  # the latest first
    assert client.post_form("/search/recent/clear").status_code == 303
    with client.session_transaction() as session:
        assert "search_recent" not in session
    client.post_form("/search/seen", {"token": token})  # cleared, searched again: still one visitor
    with app.app_context():
        assert db.session.scalar(select(SearchCount.searches)) == 1

    def hot() -> str:
        with app.app_context():
            cache.clear()
        page = app.test_client().get("/search", headers=ZH).get_data(as_text=True)
        heading = "热门搜索" if "热门搜索" in page else "Hot searches"
        return page[page.index(heading):] if heading in page else ""

    assert "芒果" not in hot()  # one visitor never makes a word hot
    for _ in range(app.config["SEARCH_HOT_MIN_VISITORS"] - 1):
        other = app.test_client()
        other.post_form("/search/seen", {"token": _seen_token(other, "芒果")})
    assert 'href="/search?q=%E8%8A%92%E6%9E%9C"' in hot()


def test_a_new_visitors_first_search_is_remembered_as_the_browser_sends_it(client, app, shelf):
    """The page posts the search and the analytics beacon at once, both with the cookie
    the page set; whichever answer comes last is the session the browser keeps."""
    response = client.get("/search", query_string={"q": "芒果"})
    page, cookie = response.get_data(as_text=True), client.get_cookie("session").value
    headers = {**HTMX, "X-CSRFToken": re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)}
    seen = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert client.post("/search/seen", data={"token": seen}, headers=headers).status_code == 204
    beacon = app.test_client()
    beacon.set_cookie("session", cookie)
    answer = beacon.post("/t", data={"t": re.search(r'hx-vals=\'\{"t": "([^"]+)"', page).group(1)},
                         headers=headers)
    assert answer.status_code == 204
    assert not any(c.startswith("session=") for c in answer.headers.getlist("Set-Cookie"))
    with client.session_transaction() as session:
        assert session["search_recent"] == ["芒果"]


def test_suggestions_come_as_a_fragment_and_a_direct_visit_goes_to_the_page(client, shelf):
    fragment = client.get("/search/suggest?q=芒", headers=HTMX).get_data(as_text=True)
    assert "海南贵妃芒 新鲜当季" in fragment and "<html" not in fragment
    assert f'href="/p/{shelf["mango"]}"' in fragment
    assert client.get("/search/suggest?q=芒").status_code == 302


def test_a_name_and_a_generic_word_find_close_matches_and_say_so(client, app, shelf):
    ProductFactory(title="苏打饼干")
    response = client.get("/search?q=龙井茶", headers=ZH)
    assert titles(response) == ["明前西湖龙井 特级"]  # nothing holds 井茶
    assert 'data-testid="close-matches"' in response.get_data(as_text=True)
    assert found(client, "芒果干") == ["海南贵妃芒 新鲜当季"]  # not the biscuits (饼干) by 干 alone
    assert found(client, "榴莲干") == []  # 干 is not half of it
    exact = client.get("/search?q=龙井", headers=ZH).get_data(as_text=True)
    assert 'data-testid="close-matches"' not in exact
    with app.app_context():
        cache.clear()
    with counted_queries(app) as statements:
        client.get("/search?q=龙井茶")
    # a search that finds (at most 7, the test above) and the close matches' count
    assert len(statements) <= 8, statements


def test_short_latin_words_match_whole_words_longer_ones_as_prefixes(client, shelf):
    ProductFactory(title="宽口径玻璃奶瓶", translations={"en": {"title": "Glass bottle", "subtitle": "Soft teat"}})
    ProductFactory(title="绿茶", translations={"en": {"title": "Green tea"}})
    assert found(client, "tea") == ["绿茶"]
    assert found(client, "teat") == ["宽口径玻璃奶瓶"]
    assert found(client, "mang") == ["海南贵妃芒 新鲜当季"]  # mangoes, and the pinyin


def test_one_character_suggests_only_titles_that_hold_it(client, shelf):
    ProductFactory(title="特级头道生抽", selling_points="零添加防腐剂", sales_count=900)
    ProductFactory(title="零食大礼包")
    fragment = client.get("/search/suggest?q=零", headers=HTMX).get_data(as_text=True)
    assert "零食大礼包" in fragment
    assert "生抽" not in fragment and "每日坚果" not in fragment  # selling points, category
