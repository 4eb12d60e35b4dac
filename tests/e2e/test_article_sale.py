"""On a phone: an editor writes an article with two products picked into it and
publishes it; a shopper opens it, adds one of its products to the cart from its card,
buys the other with the card's "Buy now" (that item only: the cart keeps the first) and
pays; the article's figures then show one order and its GMV. axe checks the article."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.db import db
from shop.orders.models import OrderLine
from shop.wallet import services as wallet
from tests.conftest import assert_accessible, browser_fill_address, browser_sign_in
from tests.factories import UserFactory, product_with_skus

pytestmark = pytest.mark.e2e


def test_an_article_sells_and_its_figures_show_the_order(app, phone, page):
    mango, _ = product_with_skus(title="海南芒果", skus=(("三斤", 2990, 10), ("五斤", 4590, 10)))
    cherry, _ = product_with_skus(title="智利车厘子", skus=(("一斤", 9900, 10), ("两斤", 18900, 0)))
    editor = UserFactory(role="editor", can_publish=True)
    shopper = UserFactory()
    with app.app_context():
        wallet.move(shopper.id, 100_000, reason="test", ref_type="test", ref_id="1")
        db.session.commit()

    # the editor writes, picking the two products into the body, and publishes
    browser_sign_in(page, editor.email, "/admin/articles/new")
    page.get_by_label("标题").fill("夏天的水果")
    page.get_by_label("摘要").fill("芒果和车厘子怎么挑")
    body = page.get_by_label("正文（Markdown）")
    body.fill("芒果要挑\x1b软一点的。")  # a control character: the preview says why, and stays
    expect(page.locator("#preview [role=alert]")).to_contain_text("控制字符")
    body.fill("芒果要挑软一点的。\n\n")
    expect(page.locator("#preview")).to_contain_text("芒果要挑软一点的。")
    for title in ("海南芒果", "智利车厘子"):
        page.get_by_label("搜索商品", exact=True).last.fill(title)
        page.locator("#picker li", has_text=title).get_by_role("button", name="插入").click()
    page.locator("#preview .embed").nth(1).wait_for()  # the live preview shows both cards
    assert f"[[product:{mango.id}]]" in body.input_value()
    assert f"[[product:{cherry.id}]]" in body.input_value()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("文章已保存。").wait_for()
    page.get_by_role("link", name="预览与审核").click()
    page.get_by_role("button", name="发布").click()
    assert page.get_by_test_id("article-status").inner_text().startswith("已发布")
    article_url = page.get_by_role("link", name="在店铺中打开").get_attribute("href")

    # the shopper, on another phone, reads it and buys from the card
    shop = phone()
    shop.set_default_timeout(10_000)
    browser_sign_in(shop, shopper.email, article_url)
    assert shop.locator(".embed").count() == 2
    assert_accessible(shop)
    cherries = shop.locator(".embed", has_text="智利车厘子")
    cherries.get_by_role("button", name="加入购物车").click()
    cherries.get_by_text("已加入购物车。").wait_for()
    # "Buy now" on the mango's card buys the mango only; the cherries stay in the cart
    shop.locator(".embed", has_text="海南芒果").get_by_role("button", name="立即购买").click()
    shop.wait_for_url("**/checkout?now=1")
    expect(shop.locator(".cart-line")).to_have_count(1)
    expect(shop.locator(".cart-line")).to_contain_text("海南芒果")
    browser_fill_address(shop)
    shop.get_by_role("button", name="提交订单").click()
    shop.wait_for_url("**/orders/*")
    shop.get_by_test_id("pay-wallet").click()
    shop.get_by_test_id("status").get_by_text("已付款").wait_for()
    assert shop.locator("#cart-badge").inner_text().startswith("1")

    # the editor's figures: one order, its GMV (the mango line, shipping aside)
    page.goto("/admin/articles")
    row = page.locator("[data-testid=article-figures] tbody tr", has_text="夏天的水果")
    assert row.get_by_test_id("orders").inner_text() == "1"
    assert row.get_by_test_id("gmv").inner_text() == "¥29.90"
    article_id = int(article_url.rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.scalars(select(OrderLine.source_article_id)).all() == [article_id]
