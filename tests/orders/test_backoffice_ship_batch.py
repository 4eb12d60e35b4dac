"""Shipping many orders from a CSV file: a preview of every row (OK, or why not) that
changes nothing, then a confirmation that checks every row again and ships the valid
ones, one event each."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from shop.db import db
from shop.orders.models import Order, OrderEvent
from tests.conftest import signed_in
from tests.factories import StoreFactory
from tests.orders.helpers import an_order, number_of

EN = {"Accept-Language": "en"}


def _upload(client, data: bytes, name: str = "ship.csv"):
    return client.post_form("/admin/orders/ship-batch", {"file": (io.BytesIO(data), name)},
                            headers=EN, content_type="multipart/form-data")


def _state(app):
    with app.app_context():
        return (sorted(tuple(r) for r in db.session.execute(
                    select(Order.id, Order.status, Order.carrier, Order.tracking_number))),
                db.session.scalar(select(func.count()).select_from(OrderEvent)))


def _row_results(html: str) -> dict[int, str]:
    rows = re.findall(r'data-testid="batch-row-(\d+)">(.*?)</tr>', html, re.S)
    return {int(n): (re.search(r'data-testid="row-(?:error|ok)">([^<]*)<', body).group(1))
            for n, body in rows}


def _signed_rows(html: str) -> str:
    return re.search(r'name="rows" type="hidden" value="([^"]*)"', html).group(1)


def test_a_preview_with_bad_rows_then_a_confirmation_ships_only_the_valid_rows(app):
    good, other = an_order(app), an_order(app)
    unpaid = an_order(app, status="awaiting_payment")
    shipped = an_order(app, status="shipped", shipped=True)
    pickup = an_order(app, store=StoreFactory())
    admin, _ = signed_in(app, "admin")
    n = {k: number_of(app, v) for k, v in dict(good=good, other=other, unpaid=unpaid,
                                                 shipped=shipped, pickup=pickup).items()}
    text = ("订单号,快递公司,运单号\n"
            f"{n['good']},顺丰,SF100\n"
            f"{n['unpaid']},顺丰,SF101\n"
            f"{n['shipped']},顺丰,SF102\n"
            f"{n['pickup']},顺丰,SF103\n"
            f"{n['good']},中通,ZT1\n"
            f"20991231999999,顺丰,SF104\n"
            f"{n['other']},,SF105\n"
            f"{n['other']},圆通,YT 1\n"
            f"{n['other']},圆通,YT-2\n")
    before = _state(app)
    preview = _upload(admin, text.encode("utf-8-sig"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert _row_results(html) == {
        1: "OK, will ship", 2: "Not shippable now: the order is awaiting payment.",
        3: "Already shipped: 顺丰 SF1.",
        4: "This order is picked up at the store; it does not ship.",
        5: "This order is on an earlier row already.", 6: "No order has this number.",
        7: "Give the order number, the carrier and the tracking number.",
        8: "The tracking number takes letters, digits and dashes only.", 9: "OK, will ship"}
    assert "2 orders will be marked as shipped" in html
    assert _state(app) == before  # the preview changed nothing

    # meanwhile another admin ships one of the two: the confirmation checks again
    admin.post_form(f"/admin/orders/{other}/ship", {"carrier": "申通", "tracking_number": "ST9"})
    middle = _state(app)
    done = admin.post_form("/admin/orders/ship-batch/confirm", {"rows": _signed_rows(html)}, headers=EN)
    assert done.status_code == 200
    results = _row_results(done.get_data(as_text=True))
    assert results[1] == "Shipped" and results[9] == "Already shipped: 申通 ST9."
    with app.app_context():
        order = db.session.get(Order, good)
        assert (order.status, order.carrier, order.tracking_number) == ("shipped", "顺丰", "SF100")
        assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == good, OrderEvent.to_status == "shipped")) == 1
        assert db.session.get(Order, other).carrier == "申通"
    after = _state(app)
    assert after[1] == middle[1] + 1  # one event: the one order shipped
    assert [r for r in after[0] if r[0] != good] == [r for r in middle[0] if r[0] != good]
    # confirming the same preview again ships nothing more
    again = admin.post_form("/admin/orders/ship-batch/confirm", {"rows": _signed_rows(html)}, headers=EN)
    assert again.status_code == 409 and _state(app) == after


def test_a_file_of_bad_rows_only_ships_nothing(app):
    unpaid = an_order(app, status="awaiting_payment")
    admin, _ = signed_in(app, "admin")
    before = _state(app)
    html = _upload(admin, f"{number_of(app, unpaid)},顺丰,SF1\n".encode()).get_data(as_text=True)
    assert 'data-testid="batch-confirm"' not in html and 'data-testid="batch-nothing"' in html
    # a number whose id part no row can have (past a 32-bit integer): refused, not a 500
    huge = _upload(admin, "202601019999999999,顺丰,SF1\n".encode())
    assert huge.status_code < 500 and "This is not an order number." in huge.get_data(as_text=True)
    # a confirmation of those rows anyway (a signed preview made by hand) ships nothing
    from itsdangerous import URLSafeTimedSerializer
    from shop.orders.views import BATCH_SALT

    with app.app_context():
        from shop.accounts.models import User
        admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
    signed = URLSafeTimedSerializer(app.secret_key, salt=BATCH_SALT).dumps(
        {"user": admin_id, "rows": [[number_of(app, unpaid), "顺丰", "SF1"]]})
    refused = admin.post_form("/admin/orders/ship-batch/confirm", {"rows": signed}, headers=EN)
    assert refused.status_code == 409 and "No order was shipped" in refused.get_data(as_text=True)
    assert _state(app) == before


def test_a_changed_or_foreign_preview_is_refused(app):
    good = an_order(app)
    admin, _ = signed_in(app, "admin")
    html = _upload(admin, f"{number_of(app, good)},顺丰,SF1\n".encode()).get_data(as_text=True)
    signed = _signed_rows(html)
    before = _state(app)
    tampered = signed[:-3] + ("aaa" if not signed.endswith("aaa") else "bbb")
    response = admin.post_form("/admin/orders/ship-batch/confirm", {"rows": tampered}, headers=EN)
    assert response.status_code == 400 and "upload the file again" in response.get_data(as_text=True)
    other_admin, _ = signed_in(app, "admin")  # another user's preview
    assert other_admin.post_form("/admin/orders/ship-batch/confirm", {"rows": signed}).status_code == 400
    assert admin.post_form("/admin/orders/ship-batch/confirm", {}).status_code == 422
    assert _state(app) == before


def test_encodings_sizes_and_what_is_not_a_csv(app):
    good, second = an_order(app), an_order(app)
    admin, _ = signed_in(app, "admin")
    before = _state(app)
    gbk = f"订单号,快递公司,运单号\r\n{number_of(app, good)},顺丰速运,SF1\r\n".encode("gbk")
    html = _upload(admin, gbk).get_data(as_text=True)
    assert _row_results(html) == {1: "OK, will ship"} and "顺丰速运" in html
    bom = f"\ufeff{number_of(app, second)},中通,ZT1\n".encode()
    assert _row_results(_upload(admin, bom).get_data(as_text=True)) == {1: "OK, will ship"}
    too_big = _upload(admin, b"1" * (256 * 1024 + 1))
    assert too_big.status_code == 422 and "too large" in too_big.get_data(as_text=True)
    binary = _upload(admin, bytes(range(256)) * 4)
    assert binary.status_code == 422 and "neither UTF-8 nor GBK" in binary.get_data(as_text=True)
    empty = _upload(admin, "订单号,快递公司,运单号\n".encode())
    assert empty.status_code == 422 and "no rows" in empty.get_data(as_text=True)
    missing = admin.post_form("/admin/orders/ship-batch", {}, headers=EN)
    assert missing.status_code == 422 and "Choose a CSV file." in missing.get_data(as_text=True)
    assert _state(app) == before
    for role in ("shopper", "editor"):
        client, _ = signed_in(app, role)
        assert client.get("/admin/orders/ship-batch").status_code == 403
        assert _upload(client, gbk).status_code == 403
