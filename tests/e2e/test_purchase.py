"""On a phone, a signed-in shopper buys: product -> cart -> checkout -> pay from the
wallet -> the order shows as paid. axe checks checkout and the order page."""

import pytest

from shop.db import db
from shop.wallet import services as wallet
from tests.conftest import assert_accessible
from tests.factories import PASSWORD, UserFactory, product_with_skus

pytestmark = pytest.mark.e2e


def test_buy_and_pay_from_the_wallet_on_a_phone(app, page):
    product, (red, _blue) = product_with_skus(title="纯棉T恤", skus=(("红", 1990, 10), ("蓝", 2590, 3)))
    user = UserFactory()
    with app.app_context():
        wallet.move(user.id, 10000, reason="test", ref_type="test", ref_id="1")
        db.session.commit()

    page.goto(f"/signin?next=/p/{product.id}")
    page.get_by_label("邮箱").fill(user.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"**/p/{product.id}")
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车。").wait_for()

    page.goto("/checkout")
    for label, value in [("收货人", "张三"), ("手机号码", "13800138000"), ("省", "浙江省"),
                         ("市", "杭州市"), ("区/县", "西湖区"), ("详细地址", "文三路 1 号")]:
        page.get_by_label(label, exact=True).fill(value)
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
