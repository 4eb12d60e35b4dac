"""On a phone: the Me page's member card and the member page, and the admin's level list,
checked with axe."""

import pytest

from tests.conftest import assert_accessible, browser_sign_in
from tests.factories import UserFactory
from tests.members.helpers import give, ladder

pytestmark = pytest.mark.e2e


def test_the_member_card_and_pages_on_a_phone_are_accessible(app, page):
    ladder()
    shopper = UserFactory()
    give(app, shopper.id, 1250)
    browser_sign_in(page, shopper.email, "/me")
    card = page.get_by_test_id("member-card")
    assert card.get_by_test_id("member-level").inner_text() == "银卡会员"
    assert card.get_by_test_id("growth").inner_text() == "1250"
    progress = card.locator("progress")
    assert progress.get_attribute("value") == "5000" and progress.get_attribute("max") == "10000"
    box = card.bounding_box()
    assert box["width"] <= 390  # fits the phone
    assert_accessible(page)
    card.get_by_role("link").click()
    page.wait_for_url("**/me/level")
    assert page.locator('li[aria-current="true"]').inner_text().startswith("银卡会员")
    assert_accessible(page)


def test_the_level_list_in_the_backoffice_is_accessible(app, page):
    ladder()
    admin = UserFactory(role="admin")
    browser_sign_in(page, admin.email, "/admin/members/levels")
    assert page.locator("table tbody tr").count() == 4
    assert_accessible(page)
