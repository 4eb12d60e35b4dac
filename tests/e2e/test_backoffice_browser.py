"""The backoffice as an admin uses it, on a desktop (1280x800) and on a phone (390x844):
sign in and land on the home; follow "refund requests to handle" to the queue, refund
one, and see the count go down; give an editor the publishing right and make a clerk
store staff at one store, all through the pages (no database edits). Any CSP violation,
script error or failed sub-resource fails the test (watch_page); axe checks the home and
the customer page."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.accounts.models import User
from shop.db import db
from shop.orders.models import Order
from shop.stores.models import StoreStaff
from tests.conftest import DESKTOP, assert_accessible
from tests.factories import PASSWORD, StoreFactory, UserFactory
from tests.orders.helpers import an_order

pytestmark = pytest.mark.e2e


def _menu(page, href: str) -> None:
    """Open a page from the backoffice menu (beside the page, or below it on a phone)."""
    link = page.locator(f'#bo-nav a[href="{href}"]')
    if not link.is_visible():
        page.locator(".bo-menu-link").click()
    link.click()
    page.wait_for_url(f"**{href}")


def _refund_count(page) -> int:
    return int(page.locator('.todos a[href="/admin/orders/aftersales"] strong').inner_text())


def _open_customer(page, nickname: str) -> None:
    _menu(page, "/admin/customers")
    page.get_by_role("searchbox").first.fill(nickname)
    page.get_by_role("searchbox").first.press("Enter")
    page.locator('[data-testid="customer"]', has_text=nickname).get_by_role("link", name=nickname).first.click()
    expect(page.get_by_test_id("customer-name")).to_have_text(nickname)


def test_an_admin_runs_the_shop_from_the_backoffice(app, phone):
    """At a desktop's size, where the shop is run from (the pickers' flow runs on a phone in
    test_pickers_browser.py; every backoffice page's layout at 390 px is checked by
    test_backoffice_narrow.py)."""
    page = phone(size=DESKTOP)
    admin = UserFactory(role="admin", nickname="店长")
    editor = UserFactory(role="editor", nickname="小编阿青")
    clerk = UserFactory(nickname="店员小李")
    store = StoreFactory(name="静安店")
    StoreFactory(name="徐汇店")  # a second store: the clerk is given one of two
    asks = [an_order(app, status="refund_requested") for _ in range(2)]

    page.goto("/signin")
    page.get_by_label("邮箱").fill(admin.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/")  # staff land on their home
    expect(page.locator(".tabbar")).to_have_count(0)
    phone = page.viewport_size["width"] < 960  # the menu's links show where the menu is below
    for selector in (".bo-menu-link", ".bo-top-link"):
        assert page.locator(selector).is_visible() == phone, selector
    assert _refund_count(page) == 2
    assert_accessible(page)

    page.locator('.todos a[href="/admin/orders/aftersales"]').click()
    page.wait_for_url("**/admin/orders/aftersales")
    expect(page.locator('[data-testid^="ask-"]')).to_have_count(2)
    page.get_by_test_id(f"ask-{asks[0]}").get_by_role("link").last.click()
    refund = page.get_by_test_id("refund-form")
    refund.locator('[name="reason"]').fill("质量问题，同意退款")
    refund.get_by_role("button").click()
    page.wait_for_url(re.compile(rf".*/admin/orders/{asks[0]}$"))
    with app.app_context():
        assert db.session.get(Order, asks[0]).status == "refunded"
    page.locator(".bo-top .brand").click()
    page.wait_for_url("**/admin/")
    assert _refund_count(page) == 1

    _open_customer(page, "小编阿青")
    roles = page.get_by_test_id("roles-form")
    roles.locator('[name="can_publish"]').check()
    roles.get_by_role("button").click()
    page.wait_for_load_state()
    assert_accessible(page)

    _open_customer(page, "店员小李")
    roles = page.get_by_test_id("roles-form")
    roles.locator('[name="role"]').select_option("staff")
    roles.get_by_label("静安店").check()
    roles.get_by_role("button").click()
    expect(page.get_by_test_id("works-at")).to_have_text("静安店")

    with app.app_context():
        assert db.session.get(User, editor.id).can_publish
        assert db.session.get(User, clerk.id).role == "staff"
        assert db.session.scalars(select(StoreStaff.store_id).where(StoreStaff.user_id == clerk.id)).all() == [store.id]

