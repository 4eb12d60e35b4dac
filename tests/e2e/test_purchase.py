"""On a phone, a signed-in shopper buys: product -> cart -> checkout -> pay from the
wallet -> the order shows as paid. axe checks checkout and the order page."""

import pytest

from shop.db import db
from shop.wallet import services as wallet
from tests.conftest import assert_accessible, browser_fill_address, browser_sign_in
from tests.factories import UserFactory, product_with_skus

pytestmark = pytest.mark.e2e


def test_buy_and_pay_from_the_wallet_on_a_phone(app, page):
    product, (red, _blue) = product_with_skus(title="纯棉T恤", skus=(("红", 1990, 10), ("蓝", 2590, 3)))
    user = UserFactory()
    with app.app_context():
        wallet.move(user.id, 10000, reason="test", ref_type="test", ref_id="1")
        db.session.commit()

    browser_sign_in(page, user.email, f"/p/{product.id}")
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车。").wait_for()

    page.goto("/checkout")
    browser_fill_address(page)
    assert page.get_by_test_id("total").inner_text() == "¥29.90"  # 19.90 + 10.00 shipping
    assert_accessible(page)
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "待付款"
    assert_accessible(page)

    page.get_by_role("button", name="使用钱包支付 ¥29.90").click()
    page.wait_for_url("**/orders/*")
    assert page.get_by_test_id("status").inner_text() == "已付款"
    with app.app_context():
        assert wallet.balance(user.id) == 7010
