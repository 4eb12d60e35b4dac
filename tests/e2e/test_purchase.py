"""On a phone, a signed-in shopper buys: product -> cart -> checkout -> pay from the
wallet -> the order shows as paid, and under its tab of My orders. axe checks checkout,
the order page and the list. A district picked from the address picker's search
re-prices the shipping as the selects do."""

import pytest
from playwright.sync_api import expect

from shop.db import db
from shop.wallet import services as wallet
from tests.conftest import assert_accessible, browser_fill_address, browser_sign_in
from tests.factories import ShippingRegionFactory, ShippingTemplateFactory, UserFactory, product_with_skus

pytestmark = pytest.mark.e2e


def test_buy_and_pay_from_the_wallet_on_a_phone(app, page):
    product, (red, _blue) = product_with_skus(title="纯棉T恤", skus=(("红", 1990, 10), ("蓝", 2590, 3)))
    user = UserFactory()
    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=None)
    ShippingRegionFactory(template_id=template.id)  # 新疆, 西藏: 20.00
    with app.app_context():
        wallet.move(user.id, 10000, reason="test", ref_type="test", ref_id="1")
        db.session.commit()

    browser_sign_in(page, user.email, f"/p/{product.id}")
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车。").wait_for()

    page.goto("/checkout")
    browser_fill_address(page)
    assert page.get_by_test_id("total").inner_text() == "¥29.90"  # 19.90 + 10.00 shipping
    for query, total in (("天山", "¥39.90"), ("西湖", "¥29.90")):  # picked by the search
        page.get_by_test_id("district-search").fill(query)
        page.get_by_test_id("district-match").first.click()
        expect(page.get_by_test_id("total")).to_have_text(total)
    assert_accessible(page)
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "待付款"
    assert_accessible(page)

    page.get_by_role("button", name="使用钱包支付 ¥29.90").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "已付款"
    with app.app_context():
        assert wallet.balance(user.id) == 7010

    page.goto("/orders")  # My orders: the paid order under 待发货, reached by htmx, 390 px wide
    page.get_by_test_id("tab-unshipped").click()
    page.wait_for_url("**/orders?tab=unshipped")
    expect(page.get_by_test_id("tab-unshipped")).to_have_attribute("aria-current", "page")
    expect(page.locator(".order-row")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
