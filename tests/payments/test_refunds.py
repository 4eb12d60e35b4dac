"""Refunds: admins refund part or all, card parts through Stripe's refund API (with our
idempotency key), wallet parts back to the wallet; never more than was paid."""

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Sku
from shop.db import db
from shop.orders.models import Order, OrderLine
from shop.payments.models import Payment, Refund
from shop.wallet import services as wallet
from tests.conftest import form_token, signed_in
from tests.payments.helpers import (
    EN, card_id, count, order_status, placed_order, start_card, stripe_api,
)


def _card_paid_order(app, localstripe_url, **kwargs):
    client, user, order_id, total = placed_order(app, **kwargs)
    payment_id = start_card(client, order_id)
    client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    assert order_status(app, order_id) == "paid"
    return client, user, order_id, total


def _refund_form(admin, order_id):
    return form_token(admin, f"/admin/orders/{order_id}")


def _refunded(app):
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0))
                                 .where(Refund.status != "failed"))


def test_partial_then_full_card_refund_through_stripe(stripe_app, localstripe_url):
    app = stripe_app
    _client, _user, order_id, total = _card_paid_order(app, localstripe_url, price=12000)
    admin, _ = signed_in(app, "admin")
    response = admin.post_form(f"/admin/orders/{order_id}/refund",
                               {"amount": "20.00", "reason": "少发一件", "token": _refund_form(admin, order_id)})
    assert response.status_code == 302
    assert order_status(app, order_id) == "partly_refunded"
    with app.app_context():
        intent_id = db.session.scalar(select(Payment.intent_id))
        (refund,) = db.session.scalars(select(Refund)).all()
        assert (refund.amount_minor, refund.status) == (2000, "succeeded") and refund.gateway_id.startswith("re_")
    # more than is left is refused with a message, and changes nothing
    token = _refund_form(admin, order_id)
    too_much = admin.post_form(f"/admin/orders/{order_id}/refund",
                               {"amount": "100.01", "reason": "x", "token": token}, headers=EN)
    assert too_much.status_code == 409 and "At most CN¥100.00 can still be refunded" in too_much.get_data(as_text=True)
    # not an amount: a form error (422); zero: refused by the refund rules (409)
    for amount, code in [("-1", 422), ("abc", 422), ("1.001", 422), ("0", 409)]:
        bad = admin.post_form(f"/admin/orders/{order_id}/refund", {"amount": amount, "reason": "x", "token": token})
        assert bad.status_code == code, amount
    assert count(app, Refund) == 1
    # the rest: the order is refunded, and its stock comes back when asked
    with app.app_context():
        sku_id = db.session.scalar(select(OrderLine.sku_id))
        stock = db.session.get(Sku, sku_id).stock
    done = admin.post_form(f"/admin/orders/{order_id}/refund",
                           {"amount": "100.00", "reason": "退货", "restock": "y", "token": token})
    assert done.status_code == 302 and order_status(app, order_id) == "refunded"
    with app.app_context():
        assert db.session.get(Sku, sku_id).stock == stock + 1
    refunds = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={intent_id}")["data"]
    assert sorted(r["amount"] for r in refunds) == [2000, 10000] and _refunded(app) == total
    # the same form sent again refunds nothing more
    again = admin.post_form(f"/admin/orders/{order_id}/refund", {"amount": "1", "reason": "x", "token": token})
    assert again.status_code == 409 and _refunded(app) == total


def test_refunds_are_for_admins_only(stripe_app, localstripe_url):
    app = stripe_app
    _client, _user, order_id, _total = _card_paid_order(app, localstripe_url)
    staff, _ = signed_in(app, "staff")
    assert staff.post_form(f"/admin/orders/{order_id}/refund",
                           {"amount": "1", "reason": "x", "token": "a" * 32}).status_code == 403
    assert count(app, Refund) == 0


def test_shopper_requests_a_refund_and_the_wallet_part_goes_back_to_the_wallet(stripe_app, localstripe_url):
    app = stripe_app
    client, user, order_id, total = placed_order(app, price=12000)
    with app.app_context():
        wallet.move(user.id, 5000, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    payment_id = start_card(client, order_id, use_wallet=True)
    client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    bad = client.post_form(f"/orders/{order_id}/refund-request", {"reason": ""})
    assert bad.status_code == 422 and order_status(app, order_id) == "paid"
    other, _ = signed_in(app)
    assert other.post_form(f"/orders/{order_id}/refund-request", {"reason": "x"}).status_code == 404
    assert client.post_form(f"/orders/{order_id}/refund-request", {"reason": "尺码不合适"}).status_code == 302
    assert order_status(app, order_id) == "refund_requested"
    admin, _ = signed_in(app, "admin")
    page = admin.get(f"/admin/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "尺码不合适" in page and "Decline the refund request" in page
    response = admin.post_form(f"/admin/orders/{order_id}/refund",
                               {"amount": "120.00", "reason": "同意退款", "token": _refund_form(admin, order_id)})
    assert response.status_code == 302 and order_status(app, order_id) == "refunded"
    with app.app_context():
        assert wallet.balance(user.id) == 5000  # the wallet part, back in the wallet
        parts = db.session.execute(select(Payment.method, Refund.amount_minor, Refund.status)
                                   .join(Payment, Payment.id == Refund.payment_id).order_by(Refund.id)).all()
        assert [tuple(p) for p in parts] == [("card", 7000, "succeeded"), ("wallet", 5000, "succeeded")]


def test_a_declined_refund_request_puts_the_order_back(stripe_app, localstripe_url):
    app = stripe_app
    client, _user, order_id, _total = _card_paid_order(app, localstripe_url)
    client.post_form(f"/orders/{order_id}/refund-request", {"reason": "不想要了"})
    admin, _ = signed_in(app, "admin")
    assert admin.post_form(f"/admin/orders/{order_id}/refund/decline", {"reason": "已发货"}).status_code == 302
    assert order_status(app, order_id) == "paid"


@pytest.mark.postgres
def test_five_concurrent_refunds_never_give_back_more_than_was_paid(stripe_app, localstripe_url, live_server):
    """Five admins each refund 40% of a paid order at the same moment, as real parallel
    HTTP requests: at most two can succeed (80%); the total never exceeds what was paid."""
    from tests.concurrency.http import form_fields, post_together, request, session_cookie

    app = stripe_app
    client, user, order_id, total = placed_order(app, price=10000)
    with app.app_context():
        wallet.move(user.id, 4000, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    payment_id = start_card(client, order_id, use_wallet=True)  # 40.00 wallet + 60.00 card
    client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    assert order_status(app, order_id) == "paid"

    forms = []
    for _ in range(5):
        _admin, admin_user = signed_in(app, "admin")
        cookie = session_cookie(app, admin_user.id)
        status, html, cookie = request(f"{live_server.url}/admin/orders/{order_id}", cookie)
        assert status == 200
        forms.append((cookie, dict(form_fields(html, "csrf_token", "token"), amount="40.00", reason="并发")))
    codes = post_together([(f"{live_server.url}/admin/orders/{order_id}/refund", cookie, form)
                           for cookie, form in forms])
    assert sorted(codes) == [200, 200, 409, 409, 409]  # urllib follows the 302 of a success
    assert _refunded(app) == 8000 <= total
    with app.app_context():
        payments = db.session.scalars(select(Payment)).all()
        assert all(0 <= p.refundable_minor <= p.amount_minor for p in payments)
        assert sum(p.amount_minor - p.refundable_minor for p in payments) == 8000
        assert db.session.get(Order, order_id).status == "partly_refunded"


def test_a_refund_stripe_refuses_is_failed_and_the_money_is_refundable_again(stripe_app, localstripe_url):
    app = stripe_app
    _client, _user, order_id, total = _card_paid_order(app, localstripe_url)
    with app.app_context():  # Stripe will not know this payment any more (404 on refund)
        db.session.scalar(select(Payment)).intent_id = "pi_unknown_to_stripe"
        db.session.commit()
    admin, _ = signed_in(app, "admin")
    response = admin.post_form(f"/admin/orders/{order_id}/refund",
                               {"amount": "99.00", "reason": "全退", "token": _refund_form(admin, order_id)})
    assert response.status_code == 302
    assert order_status(app, order_id) == "partly_refunded"  # refunded, then back: Stripe refused
    with app.app_context():
        rows = db.session.execute(select(Refund.amount_minor, Refund.status, Refund.refundable_after_minor)
                                  .order_by(Refund.id)).all()
        assert [tuple(r) for r in rows] == [(total, "failed", 0), (-total, "succeeded", total)]
        assert db.session.scalar(select(Payment.refundable_minor)) == total


def test_a_partly_refunded_order_still_ships(stripe_app, localstripe_url):
    app = stripe_app
    _client, _user, order_id, _total = _card_paid_order(app, localstripe_url)
    admin, _ = signed_in(app, "admin")
    admin.post_form(f"/admin/orders/{order_id}/refund",
                    {"amount": "5.00", "reason": "补偿", "token": _refund_form(admin, order_id)})
    assert order_status(app, order_id) == "partly_refunded"
    assert admin.post_form(f"/admin/orders/{order_id}/ship",
                           {"carrier": "顺丰", "tracking_number": "SF9"}).status_code == 302
    assert order_status(app, order_id) == "shipped"


def test_the_wallet_can_pay_what_is_left_after_an_earlier_wallet_part(stripe_app):
    app = stripe_app
    client, user, order_id, total = placed_order(app, price=12000)
    with app.app_context():
        wallet.move(user.id, 3000, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    start_card(client, order_id, use_wallet=True)  # 30.00 from the wallet, the card left open
    with app.app_context():
        wallet.move(user.id, 20000, reason="t", ref_type="test", ref_id="2")
        db.session.commit()
    assert client.post_form(f"/orders/{order_id}/pay/wallet").status_code == 302
    assert order_status(app, order_id) == "paid"
    with app.app_context():
        assert wallet.balance(user.id) == 23000 - total
        assert db.session.scalar(select(func.count()).select_from(Payment).where(
            Payment.method == "card", Payment.status == "pending")) == 0  # the open card payment closed
