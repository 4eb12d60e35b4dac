"""Card payments against localstripe (started by the suite on loopback), with its
signed webhooks delivered to a live server."""

import re
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from shop.db import db
from shop.orders.models import OrderEvent
from shop.payments import gateway
from shop.payments.models import Payment, Refund, StripeEvent
from shop.wallet import services as wallet
from tests.payments.helpers import (
    DECLINED_CARD, EN, card_id, count, order_status, payment, placed_order, start_card, stripe_api,
    wait_for,
)


def _events(app, order_id):
    with app.app_context():
        return [(e.from_status, e.to_status) for e in db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))]


def test_the_signed_webhook_marks_the_order_paid(stripe_app, stripe_webhook, localstripe_url):
    app = stripe_app
    client, _user, order_id, total = placed_order(app)
    payment_id = start_card(client, order_id)
    page = client.get(f"/payments/{payment_id}", headers=EN).get_data(as_text=True)
    assert f'src="{localstripe_url}/js.stripe.com/v3/"' in page and 'data-key="pk_test_shop"' in page
    # the shop labels the card fields itself and tells Stripe.js the page's language
    assert "<legend>Card number, expiry date (MM/YY) and CVC</legend>" in page and 'data-locale="en"' in page
    assert 'data-locale="zh"' in client.get(f"/payments/{payment_id}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    intent_id = payment(app, payment_id).intent_id
    intent = stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}")
    assert (intent["amount"], intent["currency"]) == (total, "cny")

    # The phone confirms with Stripe and never comes back: only the webhook tells us.
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}",
               {"payment_method": card_id(localstripe_url)})
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}/confirm", {})
    wait_for(lambda: order_status(app, order_id) == "paid")
    assert payment(app, payment_id).status == "succeeded"
    assert _events(app, order_id) == [(None, "awaiting_payment"), ("awaiting_payment", "paid")]
    with app.app_context():
        assert db.session.scalar(select(StripeEvent.type)) == "payment_intent.succeeded"
    # the confirmation email: a job run right after the webhook's commit
    mails = wait_for(lambda: list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml")))
    assert len(mails) == 1
    from email import message_from_bytes
    from email.header import decode_header, make_header

    mail = message_from_bytes(mails[0].read_bytes())
    assert str(make_header(decode_header(mail["Subject"]))).endswith("已付款")  # the shop's language
    assert "我们已收到订单" in mail.get_payload(decode=True).decode()

    result = client.get(f"/payments/{payment_id}/result", headers=EN).get_data(as_text=True)
    assert "Payment received" in result


def test_card_form_confirms_and_a_late_webhook_changes_nothing(stripe_app, stripe_webhook, localstripe_url):
    app = stripe_app
    client, _user, order_id, total = placed_order(app)
    payment_id = start_card(client, order_id)
    response = client.post_form(f"/payments/{payment_id}/card",
                                {"payment_method": card_id(localstripe_url), "amount": "0.01"})
    assert response.status_code == 302 and response.headers["Location"] == f"/payments/{payment_id}/result"
    assert order_status(app, order_id) == "paid"
    wait_for(lambda: count(app, StripeEvent) >= 1)  # the webhook for that success, a second later...
    assert _events(app, order_id) == [(None, "awaiting_payment"), ("awaiting_payment", "paid")]
    assert payment(app, payment_id).amount_minor == total  # ...and the client's amount was ignored
    # paying the same payment again is refused
    again = client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    assert again.status_code == 409


def test_a_declined_card_leaves_the_order_awaiting_payment_with_a_message(stripe_app, localstripe_url):
    app = stripe_app
    client, _user, order_id, _total = placed_order(app)
    payment_id = start_card(client, order_id)
    response = client.post_form(f"/payments/{payment_id}/card",
                                {"payment_method": card_id(localstripe_url, DECLINED_CARD)}, headers=EN)
    page = response.get_data(as_text=True)
    # the shop's own words, never Stripe's English message ("Your card was declined.")
    assert response.status_code == 200 and "Your bank declined this card" in page
    assert "Your card was declined" not in page
    assert order_status(app, order_id) == "awaiting_payment"
    declined = payment(app, payment_id)
    assert declined.status == "canceled" and "declined" in declined.last_error
    # the page now holds a fresh payment for the same amount, for another card
    retry_id = int(re.search(r'action="/payments/(\d+)/card"', page).group(1))
    assert retry_id != payment_id and payment(app, retry_id).amount_minor == declined.amount_minor
    ok = client.post_form(f"/payments/{retry_id}/card", {"payment_method": card_id(localstripe_url)})
    assert ok.status_code == 302 and order_status(app, order_id) == "paid"


@pytest.mark.pages
def test_a_refused_card_reads_in_the_shops_words_by_the_banks_reason(app):
    """Stripe's decline code (the bank's reason) first, then its error code, else a plain
    decline; Stripe's own English message is never what the shopper reads."""
    body = {"error": {"type": "card_error", "code": "card_declined", "message": "Your card has insufficient funds.",
                      "decline_code": "insufficient_funds"}}
    refused = stripe.CardError("Your card has insufficient funds.", None, "card_declined", json_body=body)
    with app.test_request_context(headers=EN):
        assert str(gateway._failed(refused)) == "The card has insufficient funds. Please use another card."
        assert gateway.card_message("expired_card") == "The card has expired. Please use another card."
        assert gateway.card_message("card_declined", "stolen_card") == gateway.card_message("card_declined")
        assert gateway.card_message("card_declined").startswith("Your bank declined this card")
        error = {"code": "card_declined", "decline_code": "incorrect_cvc", "message": "Your card's security code is incorrect."}
        assert "CVC" in gateway._last_error(error) and "security code is incorrect" not in gateway._last_error(error)


def test_card_form_refuses_what_is_not_a_card_id(stripe_app):
    client, _user, order_id, _total = placed_order(stripe_app)
    payment_id = start_card(client, order_id)
    for value in ["", "4242424242424242", "card_<script>", ["card_abcdefg", "card_hijklmn"]]:
        response = client.post_form(f"/payments/{payment_id}/card", {"payment_method": value}, headers=EN)
        assert response.status_code == 422, value
    assert order_status(stripe_app, order_id) == "awaiting_payment"


def test_another_shoppers_payment_is_not_found(stripe_app, localstripe_url):
    from tests.conftest import signed_in

    client, _user, order_id, _total = placed_order(stripe_app)
    payment_id = start_card(client, order_id)
    other, _ = signed_in(stripe_app)
    assert other.get(f"/payments/{payment_id}").status_code == 404
    assert other.get(f"/payments/{payment_id}/result").status_code == 404
    assert other.post_form(f"/payments/{payment_id}/card",
                           {"payment_method": card_id(localstripe_url)}).status_code == 404
    assert other.post_form(f"/orders/{order_id}/pay/card").status_code == 404
    assert order_status(stripe_app, order_id) == "awaiting_payment"


def test_a_payment_of_another_amount_is_refunded_not_accepted(stripe_app, stripe_webhook, localstripe_url):
    app = stripe_app
    client, _user, order_id, total = placed_order(app)
    payment_id = start_card(client, order_id)
    intent_id = payment(app, payment_id).intent_id
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}",
               {"amount": str(total - 100), "payment_method": card_id(localstripe_url)})
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}/confirm", {})
    wait_for(lambda: payment(app, payment_id).status == "rejected")
    assert order_status(app, order_id) == "awaiting_payment"
    # the refund job runs right after the webhook's commit, in the webhook's request
    wait_for(lambda: count(app, Refund, Refund.status == "succeeded") == 1)
    with app.app_context():
        assert db.session.scalar(select(Refund.amount_minor)) == total - 100
    refunds = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={intent_id}")["data"]
    assert [r["amount"] for r in refunds] == [total - 100]


def test_wallet_pays_part_and_the_card_the_rest(stripe_app, localstripe_url):
    app = stripe_app
    client, user, order_id, total = placed_order(app, price=12000)
    with app.app_context():
        wallet.move(user.id, 3000, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    payment_id = start_card(client, order_id, use_wallet=True)
    assert payment(app, payment_id).amount_minor == total - 3000
    detail = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "To pay: CN¥90.00" in detail
    client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    assert order_status(app, order_id) == "paid"
    with app.app_context():
        assert wallet.balance(user.id) == 0
        methods = db.session.execute(select(Payment.method, Payment.amount_minor, Payment.status)
                                     .order_by(Payment.id)).all()
        # the wallet part is taken first, then the card payment for the rest is opened
        assert [tuple(m) for m in methods] == [("wallet", 3000, "succeeded"), ("card", 9000, "succeeded")]


def test_the_wallet_part_comes_back_when_an_unpaid_order_is_cancelled(stripe_app, localstripe_url):
    app = stripe_app
    client, user, order_id, _total = placed_order(app, price=12000)
    with app.app_context():
        wallet.move(user.id, 3000, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    payment_id = start_card(client, order_id, use_wallet=True)
    from tests.conftest import signed_in

    staff, _ = signed_in(app, "admin")
    assert staff.post_form(f"/admin/orders/{order_id}/cancel").status_code == 302
    with app.app_context():
        assert wallet.balance(user.id) == 3000
        assert db.session.scalar(select(Refund.amount_minor)) == 3000  # a ledger row for it
    # the open card payment is closed, here and at Stripe: the phone can not pay it any more
    assert payment(app, payment_id).status == "canceled"
    intent_id = payment(app, payment_id).intent_id
    assert stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}")["status"] == "canceled"
    late = client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    assert late.status_code == 409 and order_status(app, order_id) == "cancelled"


def test_a_card_paid_at_stripe_while_the_order_is_cancelled_is_refunded(stripe_app, localstripe_url):
    app = stripe_app
    client, _user, order_id, total = placed_order(app)
    payment_id = start_card(client, order_id)
    intent_id = payment(app, payment_id).intent_id
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}", {"payment_method": card_id(localstripe_url)})
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}/confirm", {})  # we are not told
    from tests.conftest import signed_in

    staff, _ = signed_in(app, "admin")
    assert staff.post_form(f"/admin/orders/{order_id}/cancel").status_code == 302
    assert payment(app, payment_id).status == "rejected"
    refunds = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={intent_id}")["data"]
    assert [r["amount"] for r in refunds] == [total]


def test_recharge_package_paid_by_card_credits_the_wallet_once(stripe_app, stripe_webhook, localstripe_url):
    app = stripe_app
    from tests.conftest import signed_in

    admin, _ = signed_in(app, "admin")
    assert admin.post_form("/admin/wallet/packages", {"pay": "500", "credit": "550"}).status_code == 302
    bad = admin.post_form("/admin/wallet/packages", {"pay": "500", "credit": "400"}, headers=EN)
    assert bad.status_code == 422 and "at least what is paid" in bad.get_data(as_text=True)
    client, user = signed_in(app)
    page = client.get("/wallet", headers=EN).get_data(as_text=True)
    assert "Pay CN¥500.00, get CN¥550.00" in page
    with app.app_context():
        (package,) = wallet.packages()
        package_id = package.id
    response = client.post_form(f"/wallet/recharge/{package_id}")
    payment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post_form(f"/payments/{payment_id}/card", {"payment_method": card_id(localstripe_url)})
    wait_for(lambda: count(app, StripeEvent) >= 1)
    with app.app_context():
        assert wallet.balance(user.id) == 55000
        assert [e.amount_minor for e in wallet.history(user.id)] == [55000]
    assert "Recharge" in client.get("/wallet", headers=EN).get_data(as_text=True)
