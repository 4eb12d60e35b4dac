"""Two phones: A opens a group of 2 and pays from the wallet, then shares it; B opens A's
share link in another browser, joins and pays; A's page, left open and never reloaded,
flips to "group complete" through the htmx progress poll. axe checks the group page."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import PHONE, assert_accessible, browser_fill_address, browser_sign_in
from tests.factories import PASSWORD, UserFactory
from tests.groups.helpers import campaign, fund, group_state

pytestmark = pytest.mark.e2e


def test_a_friend_joins_through_the_share_link_and_the_leaders_page_completes(app, phone, page):
    campaign_id, _sku_id = campaign(size=2, price=990, leader_price=890)
    leader, friend = UserFactory(nickname="阿明"), UserFactory(nickname="小红")
    fund(app, leader.id, 890, "leader")
    fund(app, friend.id, 990, "friend")

    # A opens a group and pays from the wallet
    assert page.viewport_size == PHONE["viewport"]
    browser_sign_in(page, leader.email, f"/group-buys/{campaign_id}")
    browser_fill_address(page)
    page.get_by_test_id("open-group").click()
    page.wait_for_url("**/orders/*")
    page.get_by_test_id("pay-wallet").click()
    page.wait_for_url("**/orders/*")
    page.get_by_test_id("order-group").get_by_role("link").click()
    page.wait_for_url("**/groups/*")
    group_id = int(page.url.rsplit("/", 1)[1])
    assert "1 / 2" in page.locator("#group-progress progress").inner_text() or \
        page.locator("#group-progress progress").get_attribute("value") == "1"
    assert page.locator("#group-seats .seat.empty").count() == 1
    assert page.locator("#group-deadline time[data-countdown]").count() == 1
    assert_accessible(page)

    # A shares: the share panel gives the link with A's code
    page.get_by_test_id("share-open").click()
    link = page.get_by_test_id("share-url").input_value()
    assert f"-g{group_id}" in link
    page.evaluate("window.__samePage = true")

    # B, on another phone, opens the link, signs in, joins and pays
    other = phone()
    other.goto(urlsplit(link).path)  # opened from the chat: not signed in yet
    other.wait_for_url(f"**/groups/{group_id}?shared=*")
    assert other.locator("#group-seats .seat.empty").count() == 1
    other.get_by_test_id("guest-join").click()  # the sign-in sheet opens in place
    other.locator("dialog[data-sheet]").get_by_role("link", name="用邮箱或通行密钥登录").click()
    other.get_by_label("邮箱").fill(friend.email)
    other.get_by_label("密码").fill(PASSWORD)
    other.get_by_role("button", name="登录").click()
    other.wait_for_url(f"**/groups/{group_id}#join")
    browser_fill_address(other)
    other.get_by_test_id("join-group").click()
    other.wait_for_url("**/orders/*")
    other.get_by_test_id("pay-wallet").click()
    other.wait_for_url("**/orders/*")
    assert other.get_by_test_id("status").inner_text() == "已付款"

    # A's page was never reloaded: the poll swapped the progress, the seats and the deadline
    expect(page.get_by_test_id("group-status")).to_contain_text("拼团成功", timeout=15_000)
    assert page.evaluate("window.__samePage === true"), "the page was reloaded"
    assert page.locator("#group-seats .seat.empty").count() == 0
    assert page.locator("#group-seats .seat.paid").count() == 2
    assert page.locator("#group-progress[hx-trigger]").count() == 0  # polling stopped
    assert page.get_by_test_id("share-url").count() == 0  # the share panel A opened is gone
    assert group_state(app, group_id)["status"] == "complete"
    assert_accessible(page)
