"""On a phone: add to the cart from a product page, change the quantity in the cart
through htmx, and see the badge and subtotal follow; sign in, check out, and the badge
reads 0 once the order emptied the cart; axe finds no WCAG A/AA violation."""

import pytest
from playwright.sync_api import expect

from tests.conftest import assert_accessible, browser_fill_address, browser_sign_in
from tests.factories import UserFactory, product_with_skus

pytestmark = pytest.mark.e2e


def test_add_to_cart_and_change_quantity_on_a_phone(page):
    product, (red, _blue) = product_with_skus(title="纯棉T恤", skus=(("红", 1990, 10), ("蓝", 2590, 3)))
    page.goto(f"/p/{product.id}")
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车。").wait_for()
    assert page.locator("#cart-badge").inner_text().startswith("1")
    assert_accessible(page)

    page.locator(".tabbar a[href='/cart']").click()
    page.wait_for_url("**/cart")
    assert page.get_by_test_id("subtotal").inner_text() == "¥19.90"
    assert_accessible(page)

    page.evaluate("window.__marker = 'same page'")
    quantity = page.get_by_label("数量")
    quantity.fill("3")
    quantity.dispatch_event("change")
    expect(page.get_by_test_id("subtotal")).to_have_text("¥59.70")
    assert page.evaluate("window.__marker") == "same page"
    assert page.locator("#cart-badge").inner_text().startswith("3")
    assert_accessible(page)

    browser_sign_in(page, UserFactory().email, "/checkout")  # the cart joins the account
    assert page.locator("#cart-badge").inner_text().startswith("3")
    browser_fill_address(page)
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/orders/*")
    expect(page.locator("#cart-badge")).to_have_text("")
