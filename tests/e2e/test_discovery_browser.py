"""A shopper on a phone (390x844) finds a group buy from the home page and joins an open
group from the product page's first screen: the Join button and the action bar show
without scrolling. axe checks the group-buy list and the product page."""

import pytest

from tests.conftest import PHONE, assert_accessible, browser_fill_address, browser_sign_in
from tests.factories import UserFactory
from tests.groups.helpers import campaign, fund, group_state, open_paid_group

pytestmark = pytest.mark.e2e


def test_a_shopper_finds_a_group_buy_from_home_and_joins_in_the_first_screen(app, page):
    campaign_id, sku_id = campaign(size=3, price=990)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    shopper = UserFactory(nickname="小红")
    fund(app, shopper.id, 990, "shopper")
    assert page.viewport_size == PHONE["viewport"]

    browser_sign_in(page, shopper.email, "/")
    page.get_by_test_id("entry-groups").click()
    page.wait_for_url("**/group-buys")
    assert_accessible(page)
    page.get_by_test_id("group-buy").first.click()
    page.wait_for_url("**/p/*")

    join = page.get_by_test_id("join-open-group").first
    bar = page.get_by_test_id("buybar")
    assert bar.get_by_test_id("bar-group").inner_text().startswith("¥9.90")
    join_box, bar_box = join.bounding_box(), bar.bounding_box()
    assert join_box["y"] >= 0 and join_box["y"] + join_box["height"] <= bar_box["y"] <= PHONE["viewport"]["height"]
    assert bar_box["y"] + bar_box["height"] <= PHONE["viewport"]["height"]
    title_box = page.locator("h1.product-title").bounding_box()  # what it is, above the bar
    assert title_box["y"] + title_box["height"] <= bar_box["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    assert_accessible(page)

    join.click()
    page.wait_for_url(f"**/groups/{group_id}")
    pay = page.get_by_test_id("join-group").bounding_box()  # in the first screen, however long the form
    assert 0 <= pay["y"] and pay["y"] + pay["height"] <= PHONE["viewport"]["height"]
    browser_fill_address(page)
    page.get_by_test_id("join-group").click()
    page.wait_for_url("**/orders/*")
    page.get_by_test_id("pay-wallet").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "已付款"
    assert group_state(app, group_id)["paid_count"] == 2
