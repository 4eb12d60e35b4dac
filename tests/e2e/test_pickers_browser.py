"""On a desktop (1280x800) and on a phone (390x844): an admin adds a flash item, makes a
coupon for two categories and gives it to two customers using only the pickers: type a few letters, click a match (it moves to the choice, with its
name), submit. No typed number anywhere. Any CSP violation or script error fails the test
(watch_page)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.db import db
from shop.promotions.models import Coupon, FlashItem, UserCoupon
from tests.conftest import browser_sign_in
from tests.factories import CategoryFactory, FlashSessionFactory, UserFactory, product_with_skus

pytestmark = pytest.mark.e2e


def _pick(page, field: str, search: str, match: str) -> None:
    """Type into the picker of `field`, wait for the match and click it."""
    page.locator(f"#{field}-q").fill(search)
    option = page.locator(f"#{field}-results label", has_text=match)
    option.click()
    expect(page.locator(f"#{field}-pick [data-pick-current]")).to_contain_text(match)
    expect(page.locator(f"#{field}-q")).to_have_value("")


def test_an_admin_adds_a_flash_item_and_a_coupon_scope_with_pickers(app, page):
    """On a phone, where choosing from search results by touch is the harder case (the
    desktop runs the backoffice flow of test_backoffice_browser.py; every backoffice page's
    layout at 390 px is checked by test_backoffice_narrow.py)."""
    admin = UserFactory(role="admin")
    _product, (red, _blue) = product_with_skus(title="有机苹果", skus=(("红", 5900, 20), ("蓝", 5900, 5)))
    product_with_skus(title="香蕉")
    fruit, tea = CategoryFactory(name="时令水果"), CategoryFactory(name="水果茶")
    CategoryFactory(name="零食")
    session = FlashSessionFactory()

    browser_sign_in(page, admin.email, f"/admin/promotions/flash/{session.id}")
    form = page.get_by_test_id("add-item-form")
    _pick(page, "sku_id", "苹果", red.code)
    expect(page.locator("#sku_id-results")).to_be_empty()  # one choice: the matches go
    form.locator("[name=price]").fill("49.00")
    form.locator("[name=allotted]").fill("5")
    page.get_by_test_id("add-item").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("flash-items")).to_contain_text("有机苹果")
    with app.app_context():
        item = db.session.scalars(select(FlashItem)).one()
        assert (item.sku_id, item.price_minor, item.allotted) == (red.id, 4900, 5)

    page.goto("/admin/promotions/coupons/new")
    with page.expect_navigation():  # refused: the cursor goes to the first field in error
        page.get_by_test_id("save-coupon").click()
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
    coupon = page.get_by_test_id("coupon-form")
    coupon.locator("[name=name]").fill("水果节券")
    coupon.locator("[name=amount]").fill("5.00")
    coupon.locator("[name=valid_days]").fill("7")
    expect(page.locator(".when-scope-categories")).to_be_hidden()  # "everything" needs no picker
    expect(page.locator(".when-kind-percent")).to_be_hidden()  # an amount off: no percentage
    coupon.locator("[name=scope]").select_option("categories")
    expect(page.locator(".when-scope-products")).to_be_hidden()
    _pick(page, "scope_categories", "水果", "时令水果")
    _pick(page, "scope_categories", "水果", "水果茶")
    page.get_by_test_id("save-coupon").click()
    page.wait_for_url("**/admin/promotions/coupons/*")
    with app.app_context():
        saved = db.session.scalars(select(Coupon)).one()
        assert (saved.name, saved.scope, sorted(saved.scope_ids)) == (
            "水果节券", "categories", sorted([fruit.id, tea.id]))
    current = page.locator("#scope_categories-pick [data-pick-current]")
    expect(current).to_contain_text("时令水果")
    expect(current).to_contain_text("水果茶")
    expect(current).not_to_contain_text("零食")

    # then gives it to two customers, picked by nickname (several choices: checkboxes)
    li, wang = UserFactory(nickname="果粉小李"), UserFactory(nickname="果粉小王")
    UserFactory(nickname="路人")
    _pick(page, "customers", "果粉", "果粉小李")
    _pick(page, "customers", "果粉", "果粉小王")
    page.get_by_test_id("grant-form").locator("button[type=submit]").click()
    page.wait_for_load_state()
    with app.app_context():
        held = db.session.scalars(select(UserCoupon.user_id).order_by(UserCoupon.user_id)).all()
        assert held == sorted([li.id, wang.id])
