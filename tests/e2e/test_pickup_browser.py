"""Pickup at a store (到店自提) on two phones: a shopper buys a pickup product, chooses a
store at checkout (only who collects it is asked), pays from the wallet and gets a pickup
code with its QR; a staff member of the store, on another phone, types the code, looks
it up and hands the order over; the shopper's order page then says picked up. axe checks
the order page with the code and the staff page. Then the staff member scans the QR with
the camera (Chromium's fake camera playing a video of the code) instead of typing it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.db import db
from shop.orders.models import Order, OrderEvent
from shop.stores import PICKUP_REASON
from shop.stores.models import PickupCode
from shop.wallet import services as wallet
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, assert_accessible, browser_sign_in
from tests.factories import StoreFactory, UserFactory
from tests.stores.helpers import PICKER, paid_pickup, pickup_product, staff_at

pytestmark = pytest.mark.e2e


def _fund(app, user_id: int, amount: int) -> None:
    with app.app_context():
        wallet.move(user_id, amount, reason="test", ref_type="test", ref_id=f"pickup-{user_id}")
        db.session.commit()


def _pickup(app, order_id: int) -> tuple:
    with app.app_context():
        order = db.session.get(Order, order_id)
        code = db.session.get(PickupCode, order_id)
        completed = db.session.scalars(select(OrderEvent.reason).where(
            OrderEvent.order_id == order_id, OrderEvent.to_status == "completed")).all()
        return order.status, code.code, code.picked_up_at is not None, code.picked_up_by_id, completed


def test_buy_for_pickup_pay_and_the_store_hands_it_over(app, phone, page):
    product, _sku = pickup_product(price=5000, stock=10)
    near, far = StoreFactory(name="徐家汇店"), StoreFactory(name="陆家嘴店", city="上海市")
    shopper, staff = UserFactory(nickname="小李"), staff_at(near)
    _fund(app, shopper.id, 8000)

    # the shopper: product -> cart -> checkout, picking up at 徐家汇店
    assert page.viewport_size == PHONE["viewport"]
    browser_sign_in(page, shopper.email, f"/p/{product.id}")
    page.get_by_role("button", name="加入购物车").click()
    page.get_by_text("已加入购物车。").wait_for()
    page.goto("/checkout")
    assert page.get_by_test_id("total").inner_text() == "¥60.00"  # 50.00 + 10.00 shipping
    page.get_by_test_id("fulfilment-pickup").check()
    assert page.get_by_label("详细地址", exact=True).is_hidden()  # the address: hidden by CSS
    assert page.get_by_test_id(f"store-{far.id}").is_visible()
    page.get_by_test_id(f"store-{near.id}").check()
    page.get_by_label("收货人", exact=True).fill(PICKER["name"])
    page.get_by_label("手机号码", exact=True).fill(PICKER["phone"])
    # the breakdown, re-priced for a pickup: no shipping
    expect(page.get_by_test_id("total")).to_have_text("¥50.00")
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_test_id("status").inner_text() == "待付款"
    assert page.get_by_test_id("pickup-code").count() == 0  # not before it is paid
    assert "徐家汇店" in page.locator("section.pickup").inner_text()

    page.get_by_test_id("pay-wallet").click()
    page.wait_for_url(f"**/orders/{order_id}")
    assert page.get_by_test_id("status").inner_text() == "已付款"
    status, code, picked_up, _by, completed = _pickup(app, order_id)
    assert (status, picked_up, completed) == ("paid", False, [])
    assert page.get_by_test_id("pickup-code").inner_text() == f"{code[:5]} {code[5:]}"
    assert page.locator(".pickup-qr svg").count() == 1
    with app.app_context():
        assert wallet.balance(shopper.id) == 3000
    assert_accessible(page)

    # the staff member, on another phone: a wrong code first (refused, nothing changes),
    # then the shopper's code as people read it out, with its space
    staff_page = phone()
    browser_sign_in(staff_page, staff.email, "/admin/pickup")
    staff_page.get_by_test_id("code").fill("ABCDE FGHJK")
    staff_page.get_by_test_id("look-up").click()
    staff_page.get_by_test_id("pickup-error").wait_for()
    assert staff_page.get_by_test_id("confirm-pickup").count() == 0
    assert _pickup(app, order_id)[:3] == ("paid", code, False)

    staff_page.evaluate("window.__samePage = true")
    staff_page.get_by_test_id("code").fill(f"{code[:5]} {code[5:]}".lower())
    staff_page.get_by_test_id("look-up").click()
    found = staff_page.get_by_test_id("pickup-order")
    found.wait_for()
    assert staff_page.get_by_test_id("pickup-error").count() == 0
    assert product.title in found.inner_text() and PICKER["name"] in found.inner_text()
    assert _pickup(app, order_id)[:3] == ("paid", code, False)  # looking up changes nothing
    assert_accessible(staff_page)

    staff_page.get_by_test_id("confirm-pickup").click()
    staff_page.get_by_test_id("pickup-done").wait_for()
    assert staff_page.evaluate("window.__samePage === true"), "htmx swaps the result, no reload"
    assert _pickup(app, order_id) == ("completed", code, True, staff.id, [PICKUP_REASON])
    assert_accessible(staff_page)

    # the same code again: refused, and the order stays as it is
    staff_page.get_by_test_id("code").fill(code)
    staff_page.get_by_test_id("look-up").click()
    staff_page.get_by_test_id("pickup-error").wait_for()
    assert staff_page.get_by_test_id("confirm-pickup").count() == 0
    assert _pickup(app, order_id) == ("completed", code, True, staff.id, [PICKUP_REASON])

    # the shopper's order page: picked up, completed, no code to show any more
    page.reload()
    assert page.get_by_test_id("picked-up").is_visible()
    assert page.get_by_test_id("status").inner_text() == "已完成"
    assert page.get_by_test_id("pickup-code").count() == 0
    assert page.locator(".pickup-qr").count() == 0


# --- scanning the QR with the camera ------------------------------------------------------

WIDTH, HEIGHT, FRAMES = 640, 480, 15


def qr_video(path, text: str) -> str:
    """A Y4M video (YUV4MPEG2, 4:2:0) of the QR code of `text` on white, centred, for
    Chromium's fake camera (--use-file-for-fake-video-capture)."""
    import io

    import segno
    from PIL import Image

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    qr = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    frame = Image.new("RGB", (WIDTH, HEIGHT), "white")
    frame.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    planes = y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    assert len(planes) == WIDTH * HEIGHT * 3 // 2
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + planes)
    return str(path)


@pytest.fixture
def camera_browser(browser):
    """Another Chromium (launched by the session's Playwright) whose camera plays a video
    file: call it with the file's path."""
    launched = []

    def launch(video: str):
        launched.append(browser.browser_type.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}"]))
        return launched[-1]

    yield launch
    for camera in launched:
        camera.close()


def test_the_staff_member_scans_the_code_with_the_camera(app, live_server, camera_browser, phone,
                                                          tmp_path):
    store = StoreFactory(name="徐家汇店")
    staff = staff_at(store)
    _client, _shopper, order_id, code = paid_pickup(app, store)
    assert _pickup(app, order_id)[:3] == ("paid", code, False)

    page = phone(on=camera_browser(qr_video(tmp_path / "qr.y4m", code)))
    page.context.grant_permissions(["camera"], origin=live_server.url)
    browser_sign_in(page, staff.email, "/admin/pickup")
    assert page.evaluate("'BarcodeDetector' in window || typeof window.jsQR === 'function'")
    scan = page.locator(".scan-start")
    scan.click()  # shown once scan.js finds a camera API
    found = page.get_by_test_id("pickup-order")
    found.wait_for(timeout=15_000)
    assert page.get_by_test_id("code").input_value() == code  # what the camera read
    assert page.locator(".scan-video").is_hidden()  # the camera is off again
    assert _pickup(app, order_id)[:3] == ("paid", code, False)

    page.get_by_test_id("confirm-pickup").click()
    page.get_by_test_id("pickup-done").wait_for()
    assert _pickup(app, order_id) == ("completed", code, True, staff.id, [PICKUP_REASON])
