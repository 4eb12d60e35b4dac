"""On a phone, in both languages: changing the password from the account page, and
signing out everywhere (another phone's session ends too)."""

import pytest

from tests.conftest import assert_accessible, browser_sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _sign_in_in_english(page, email: str, password: str) -> None:
    page.goto("/signin?next=/me")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/me")


def test_change_the_password_then_sign_out_everywhere_on_a_phone(app, phone):
    shopper = UserFactory()
    page, other = phone(), phone(locale="en-US")
    browser_sign_in(page, shopper.email, "/me")
    _sign_in_in_english(other, shopper.email, PASSWORD)

    page.get_by_role("link", name="修改密码").click()
    page.wait_for_url("**/me/password")
    _fits(page)
    assert_accessible(page)
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("a-new-password-1")
    page.get_by_label("再次输入新密码").fill("a-new-password-1")
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url("**/me")
    assert "密码已修改，其他设备已退出登录。" in page.inner_text("body")

    other.goto("/me")  # the other phone's session ended with the change
    other.wait_for_url("**/signin?next=*")
    _sign_in_in_english(other, shopper.email, "a-new-password-1")
    other.goto("/me/password")
    assert other.get_by_role("heading", name="Change password").is_visible()
    _fits(other)
    assert_accessible(other)

    page.get_by_test_id("signout-everywhere").click()
    page.wait_for_url("**/")
    other.goto("/me")
    other.wait_for_url("**/signin?next=*")
