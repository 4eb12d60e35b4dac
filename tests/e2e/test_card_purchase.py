"""On a phone, against localstripe: add to the cart from a product page, change the
quantity in the cart through htmx, check out, pay with a test card typed into the card
form (Stripe.js from the configured URL), and see the order paid; the signed webhook
arrives and changes nothing more. axe checks the card page."""

import re
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.db import db
from shop.orders.models import Order
from shop.payments.models import StripeEvent
from tests.conftest import assert_accessible, browser_fill_address, browser_type_card, browser_sign_in
from tests.factories import UserFactory, product_with_skus
from tests.payments.helpers import count, wait_for

pytestmark = pytest.mark.e2e


def test_buy_with_a_test_card_on_a_phone(stripe_app, stripe_webhook, page):
    app = stripe_app
    product, _skus = product_with_skus(title="纯棉T恤", skus=(("红", 1990, 10), ("蓝", 2590, 3)))
    user = UserFactory()
    browser_sign_in(page, user.email, f"/p/{product.id}")
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车。").wait_for()

    page.locator(".tabbar a[href='/cart']").click()
    page.wait_for_url("**/cart")
    quantity = page.get_by_label("数量")
    quantity.fill("2")
    quantity.dispatch_event("change")
    expect(page.get_by_test_id("subtotal")).to_have_text("¥39.80")

    page.goto("/checkout")
    browser_fill_address(page)
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/orders/*")
    page.get_by_test_id("pay-card").click()
    page.wait_for_url("**/payments/*")
    assert page.get_by_test_id("amount").inner_text() == "¥49.80"  # 39.80 + 10.00 shipping

    browser_type_card(page, "4000000000000341")  # declined
    page.get_by_test_id("pay-card").click()
    page.get_by_test_id("card-error").wait_for()
    error = page.get_by_test_id("card-error").inner_text()
    assert "拒绝" in error and not re.search("[A-Za-z]", error), error  # no Stripe English in it
    expect(page.locator("#card-form legend")).to_have_text("银行卡号、有效期（月/年）和安全码")
    assert_accessible(page)

    browser_type_card(page, "4242424242424242")
    page.get_by_test_id("pay-card").click()
    page.wait_for_url("**/result")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "已付款"
    wait_for(lambda: count(app, StripeEvent) >= 1)
    with app.app_context():
        assert db.session.scalar(select(Order.status)) == "paid"
