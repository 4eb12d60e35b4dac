"""A shopper on a phone (390x844, Chinese) searches the everyday words 芒果, 水果 and 茶叶
over the demo's category and product names with the demo's own search words, sees a
suggestion while typing, and finds the mango, the fruit and the tea; the search is
remembered (a POST once the page has loaded) and offered again on the empty page."""

import pytest
from playwright.sync_api import expect

from shop.db import db
from shop.search.demo import load_search_words
from tests.conftest import assert_accessible
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_like(app):
    fruit, tea = CategoryFactory(name="生鲜水果"), CategoryFactory(name="茶酒冲饮")
    ProductFactory(title="海南贵妃芒 新鲜当季", category=CategoryFactory(name="当季水果", parent=fruit))
    ProductFactory(title="智利车厘子 JJ级", category=CategoryFactory(name="进口水果", parent=fruit))
    ProductFactory(title="明前西湖龙井 特级", category=CategoryFactory(name="茗茶", parent=tea))
    ProductFactory(title="精品挂耳咖啡", category=CategoryFactory(name="咖啡冲饮", parent=tea))
    with app.app_context():
        load_search_words()
        db.session.commit()


def test_everyday_words_find_the_mango_the_fruit_and_the_tea(page, demo_like):
    page.goto("/search")
    box = page.locator("#q")
    box.press_sequentially("芒")  # a suggestion comes as one types
    expect(page.locator("#suggestions").get_by_role("link", name="海南贵妃芒 新鲜当季")).to_be_visible()

    box.fill("芒果")
    box.press("Enter")
    results = page.locator("#results .card-title")
    expect(results).to_have_text(["海南贵妃芒 新鲜当季"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    page.locator("#q").fill("水果")
    # each page remembers its search by a POST that writes the cookie session: a search made
    # while the page before's is still on its way back loses one of the two (the last answer
    # sets the cookie; README, "Search"), so a quick test waits for it as a person would
    with page.expect_response("**/search/seen"):
        page.locator("#q").press("Enter")
    expect(results).to_have_text(["智利车厘子 JJ级", "海南贵妃芒 新鲜当季"])  # no tea, no coffee

    page.locator("#q").fill("茶叶")
    with page.expect_response("**/search/seen") as seen:  # the page remembers it by POST (htmx, CSRF header)
        page.locator("#q").press("Enter")
    expect(results).to_have_text(["明前西湖龙井 特级"])
    assert seen.value.status == 204
    page.goto("/search")  # the recent searches (hot ones need more visitors: SEARCH_HOT_MIN_VISITORS)
    expect(page.get_by_role("link", name="茶叶").first).to_be_visible()
