"""On two phones: distributor A shares a product from its page (the share panel swaps in
through htmx); B, new to the shop, opens the short link (the page's beacon counts the
open), registers, is bound to A, buys the product and pays by card against localstripe.
A's distributor centre then shows the click, the order and the pending commission.
axe checks the product page with the share panel open and the distributor centre."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from shop.accounts.models import User
from shop.db import db
from shop.orders.models import Order
from shop.payments.models import StripeEvent
from shop.referrals import services as referrals
from shop.referrals.models import Binding
from tests.conftest import assert_accessible, browser_fill_address, browser_type_card, browser_sign_in
from tests.factories import PASSWORD, UserFactory, product_with_skus
from tests.payments.helpers import count, wait_for

pytestmark = pytest.mark.e2e


def test_a_shared_link_brings_a_buyer_and_earns_a_commission(stripe_app, stripe_webhook, phone,
                                                               page):
    app = stripe_app
    # ¥100.00 (free shipping from ¥99.00); cost ¥20.00 leaves room under the margin floor
    product, _skus = product_with_skus(title="有机红茶", skus=(("一盒", 10000, 10),),
                                       cost_price_minor=2000)
    sharer = UserFactory(nickname="小安")
    with app.app_context():
        referrals.account(sharer.id).status = "approved"  # the default mode: approved only
        db.session.commit()

    # A shares the product from its page: the panel swaps in with the short link
    browser_sign_in(page, sharer.email, f"/p/{product.id}")
    page.get_by_test_id("share-open").click()
    link = page.get_by_test_id("share-url").input_value()
    path = urlsplit(link).path
    expected = re.compile(rf"^/s/{sharer.referral_code}-p{product.id}$")
    assert link == app.config["SHOP_BASE_URL"] + path and expected.match(path), link
    token = path.rsplit("/", 1)[1]
    assert_accessible(page)

    # B, on another phone and not signed in, opens it: the page's beacon counts the open
    buyer_page = phone()
    buyer_page.set_default_timeout(10_000)
    with buyer_page.expect_response(lambda r: r.request.method == "POST"
                                    and urlsplit(r.url).path == f"/s/{token}/opened") as beacon:
        buyer_page.goto(path)  # SHOP_BASE_URL is not the live server's: same path, here
    assert beacon.value.status == 204
    assert urlsplit(buyer_page.url).path == f"/p/{product.id}"
    assert f"shared={token}" in buyer_page.url

    # B registers from the Me tab (sign-in page -> create an account)
    buyer_page.locator(".tabbar a[href='/me']").click()
    buyer_page.wait_for_url(lambda url: urlsplit(url).path == "/signin")
    buyer_page.get_by_role("link", name="注册", exact=True).click()
    buyer_page.wait_for_url(lambda url: urlsplit(url).path == "/register")
    buyer_page.get_by_label("邮箱").fill("friend@example.com")
    buyer_page.get_by_label("昵称").fill("小贝")
    buyer_page.get_by_label("密码", exact=True).fill(PASSWORD)
    buyer_page.get_by_label("确认密码").fill(PASSWORD)
    buyer_page.get_by_role("button", name="注册").click()
    buyer_page.wait_for_url("**/me")
    with app.app_context():
        buyer_id = db.session.scalar(select(User.id).where(User.email == "friend@example.com"))
        binding = db.session.get(Binding, buyer_id)
        assert binding is not None and binding.referrer_id == sharer.id
        assert binding.via == "registration"

    # ... buys the product and pays by card
    buyer_page.goto(f"/p/{product.id}")
    buyer_page.get_by_role("button", name="加入购物车").click()
    buyer_page.get_by_text("已加入购物车。").wait_for()
    buyer_page.goto("/checkout")
    assert buyer_page.get_by_test_id("referrer").inner_text() == "小安"
    browser_fill_address(buyer_page)
    buyer_page.get_by_role("button", name="提交订单").click()
    buyer_page.wait_for_url("**/orders/*")
    buyer_page.get_by_test_id("pay-card").click()
    buyer_page.wait_for_url("**/payments/*")
    assert buyer_page.get_by_test_id("amount").inner_text() == "¥100.00"
    browser_type_card(buyer_page, "4242424242424242")
    buyer_page.get_by_test_id("pay-card").click()
    buyer_page.wait_for_url("**/result")
    buyer_page.get_by_test_id("continue").click()
    buyer_page.wait_for_url("**/orders/*")
    assert buyer_page.get_by_test_id("status").inner_text() == "已付款"
    wait_for(lambda: count(app, StripeEvent) >= 1)
    with app.app_context():
        assert db.session.scalar(select(Order.status).where(Order.user_id == buyer_id)) == "paid"

    # A's distributor centre: one click, one order, ¥10.00 pending (10 % of ¥100.00)
    page.goto("/distribution")
    assert page.get_by_test_id("clicks").inner_text() == "1"
    assert page.get_by_test_id("orders").inner_text() == "1"
    assert page.get_by_test_id("pending").inner_text() == "¥10.00"
    assert_accessible(page)
