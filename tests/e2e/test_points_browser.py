"""On a phone, against localstripe: a shopper 5 points short of a points + cash item signs
in for the day (the calendar swaps in through htmx, no page load, with the new balance
and today marked), redeems the item for 100 points + ¥9.90, pays the cash part with a
test card and sees the order paid; the points are spent and the item's stock is one
less. axe checks the sign-in page (before and after signing in) and the item page."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.db import db
from shop.orders.models import Order
from shop.payments.models import StripeEvent
from shop.points import services as points
from shop.points.models import MallItem, Redemption
from tests.conftest import PHONE, assert_accessible, browser_fill_address, browser_type_card, browser_sign_in
from tests.factories import UserFactory, product_with_skus
from tests.payments.helpers import count, wait_for

pytestmark = pytest.mark.e2e


def test_sign_in_for_the_day_then_redeem_points_and_cash_by_card(stripe_app, stripe_webhook, page):
    app = stripe_app
    # no cost: the below-cost guard (tests/promotions/test_below_cost.py) stays out of it
    _product, (sku,) = product_with_skus(title="保温杯", skus=(("白", 5900, 10),), cost_price_minor=0)
    user = UserFactory()
    with app.app_context():
        item = points.save_mall_item(None, sku_id=sku.id, points_price=100, cash_minor=990,
                                     per_user_limit=1, active=True)
        points.move_mall_stock(item.id, 5, reason="initial", ref_type="admin", ref_id="e2e")
        points.move(user.id, 95, reason="adjustment", ref_type="adjustment", ref_id="e2e", note="e2e")
        item_id = item.id
        signin_points = points.settings().signin_points
        db.session.commit()
    assert signin_points == 5  # the default: today's sign-in is what makes 100

    assert page.viewport_size == PHONE["viewport"]
    browser_sign_in(page, user.email, "/points/signin")
    assert page.get_by_test_id("points-balance").inner_text() == "95"
    assert page.locator("td.today.signed").count() == 0
    assert_accessible(page)

    # Sign in for the day: htmx swaps the calendar in; the page itself does not reload
    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/points/signin")) as posted:
        page.get_by_test_id("signin").click()
    assert posted.value.status == 200
    expect(page.get_by_test_id("points-balance")).to_have_text("100")
    assert page.evaluate("window.__samePage === true"), "the sign-in reloaded the page"
    today = page.locator("td.today")
    assert today.count() == 1 and "signed" in today.get_attribute("class").split()
    assert today.get_attribute("aria-current") == "date"
    assert "+5" in today.inner_text()
    assert page.get_by_test_id("signin").count() == 0  # once a day
    page.locator("#signin [role=status]").wait_for()
    assert_accessible(page)

    # Redeem the item: 100 points + ¥9.90, the cash part by card
    page.goto(f"/points/mall/{item_id}")
    assert page.get_by_test_id("points-balance").inner_text() == "100"
    assert page.get_by_test_id("mall-price").inner_text().startswith("100")
    assert "¥9.90" in page.get_by_test_id("mall-price").inner_text()
    assert_accessible(page)
    browser_fill_address(page)
    page.get_by_test_id("redeem").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "待付款"
    page.get_by_test_id("pay-card").click()
    page.wait_for_url("**/payments/*")
    assert page.get_by_test_id("amount").inner_text() == "¥9.90"  # free shipping
    browser_type_card(page, "4242424242424242")
    page.get_by_test_id("pay-card").click()
    page.wait_for_url("**/result")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "已付款"
    wait_for(lambda: count(app, StripeEvent) >= 1)

    page.goto("/points")
    assert page.get_by_test_id("points-balance").inner_text() == "0"
    with app.app_context():
        order = db.session.scalars(select(Order).where(Order.user_id == user.id)).one()
        assert (order.kind, order.status, order.total_minor) == ("redemption", "paid", 990)
        assert db.session.get(Redemption, order.id).points == 100
        assert db.session.get(MallItem, item_id).stock == 4
        assert points.balance(user.id) == 0
