"""The webhook takes only events signed with our secret, fresh, once; what it applies is
the intent's state read back from Stripe, so order of delivery does not matter."""

import hashlib
import hmac
import json
import time

from sqlalchemy import select

from shop.db import db
from shop.orders.models import OrderEvent
from shop.payments.models import StripeEvent
from tests.conftest import WEBHOOK_SECRET
from tests.payments.helpers import (
    card_id, count, order_status, payment, placed_order, start_card, stripe_api,
)


def _event(event_id, type_, intent_id, status="succeeded"):
    return json.dumps({"id": event_id, "object": "event", "type": type_, "created": int(time.time()),
                       "api_version": "2017-08-15", "livemode": False,
                       "data": {"object": {"id": intent_id, "object": "payment_intent", "status": status}}})


def _signed(payload: str, secret=WEBHOOK_SECRET, at=None) -> dict:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={mac}", "Content-Type": "application/json"}


def _paid_by_stripe_only(app, localstripe_url):
    """An order whose card payment Stripe has taken, without the shop being told yet."""
    client, _user, order_id, _total = placed_order(app)
    payment_id = start_card(client, order_id)
    intent_id = payment(app, payment_id).intent_id
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}", {"payment_method": card_id(localstripe_url)})
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}/confirm", {})
    return order_id, payment_id, intent_id


def test_unsigned_wrongly_signed_stale_and_future_events_are_refused(stripe_app, localstripe_url):
    app = stripe_app
    order_id, _payment_id, intent_id = _paid_by_stripe_only(app, localstripe_url)
    client = app.test_client()
    payload = _event("evt_forged1", "payment_intent.succeeded", intent_id)
    for headers in [{}, {"Stripe-Signature": "garbage"}, _signed(payload, secret="whsec_other"),
                    _signed(payload, at=int(time.time()) - 3600),
                    _signed(payload, at=int(time.time()) + 600)]:  # 10 minutes ahead: refused too
        response = client.post("/stripe/webhook", data=payload, headers=headers)
        assert response.status_code == 400, headers
    tampered = _signed(payload)
    response = client.post("/stripe/webhook", data=payload.replace("evt_forged1", "evt_forged2"), headers=tampered)
    assert response.status_code == 400
    assert count(app, StripeEvent) == 0 and order_status(app, order_id) == "awaiting_payment"


def test_without_a_secret_every_event_is_refused(stripe_app, localstripe_url):
    app = stripe_app
    order_id, _payment_id, intent_id = _paid_by_stripe_only(app, localstripe_url)
    payload = _event("evt_ok1", "payment_intent.succeeded", intent_id)
    headers = _signed(payload)
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    assert app.test_client().post("/stripe/webhook", data=payload, headers=headers).status_code == 400
    assert count(app, StripeEvent) == 0 and order_status(app, order_id) == "awaiting_payment"


def test_duplicate_and_out_of_order_deliveries_change_nothing_more(stripe_app, localstripe_url):
    app = stripe_app
    order_id, payment_id, intent_id = _paid_by_stripe_only(app, localstripe_url)
    client = app.test_client()
    succeeded = _event("evt_s1", "payment_intent.succeeded", intent_id)
    response = client.post("/stripe/webhook", data=succeeded, headers=_signed(succeeded))
    assert response.status_code == 200 and response.json["duplicate"] is False
    assert order_status(app, order_id) == "paid"
    again = client.post("/stripe/webhook", data=succeeded, headers=_signed(succeeded))
    assert again.status_code == 200 and again.json["duplicate"] is True
    # an older "failed" event arriving late, and one claiming failure in its body
    failed = _event("evt_f0", "payment_intent.payment_failed", intent_id, status="requires_payment_method")
    assert client.post("/stripe/webhook", data=failed, headers=_signed(failed)).status_code == 200
    assert order_status(app, order_id) == "paid" and payment(app, payment_id).status == "succeeded"
    with app.app_context():
        events = db.session.scalars(select(OrderEvent.to_status).where(OrderEvent.order_id == order_id)
                                    .order_by(OrderEvent.id)).all()
        assert events == ["awaiting_payment", "paid"]
    assert count(app, StripeEvent) == 2


def test_a_failed_event_first_then_success_ends_paid(stripe_app, localstripe_url):
    """Out of order the other way: the body of an event is never trusted, the intent is."""
    app = stripe_app
    order_id, _payment_id, intent_id = _paid_by_stripe_only(app, localstripe_url)
    client = app.test_client()
    failed = _event("evt_f1", "payment_intent.payment_failed", intent_id, status="requires_payment_method")
    assert client.post("/stripe/webhook", data=failed, headers=_signed(failed)).status_code == 200
    assert order_status(app, order_id) == "paid"  # Stripe says succeeded: that is what counts


def test_the_return_page_reads_stripe_not_the_url(stripe_app, localstripe_url):
    app = stripe_app
    client, _user, order_id, _total = placed_order(app)
    payment_id = start_card(client, order_id)
    page = client.get(f"/payments/{payment_id}/result?redirect_status=succeeded",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Not paid yet" in page and "Payment received" not in page
    # Stripe has the money, we have not heard: the page shows it and asks (POST) to sync
    intent_id = payment(app, payment_id).intent_id
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}", {"payment_method": card_id(localstripe_url)})
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}/confirm", {})
    page = client.get(f"/payments/{payment_id}/result", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "confirming" in page and f'hx-post="/payments/{payment_id}/sync"' in page
    assert order_status(app, order_id) == "awaiting_payment"  # a GET changed nothing
    synced = client.post(f"/payments/{payment_id}/sync", headers={"X-CSRFToken": client.csrf_token(),
                                                                 "HX-Request": "true", "Accept-Language": "en"})
    assert synced.status_code == 200 and "Payment received" in synced.get_data(as_text=True)
    assert order_status(app, order_id) == "paid"


def test_the_sweeper_asks_stripe_before_cancelling_an_expired_order(stripe_app, localstripe_url):
    """A payment Stripe took whose webhook never came: the sweep finds it and the order
    is paid, not cancelled."""
    from datetime import timedelta

    from shop.db import utcnow
    from shop.orders.models import Order
    from shop.payments.models import Payment

    app = stripe_app
    order_id, payment_id, _intent_id = _paid_by_stripe_only(app, localstripe_url)
    with app.app_context():
        db.session.get(Order, order_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.get(Payment, payment_id).created_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    output = app.test_cli_runner().invoke(args=["shop", "sweep"]).output
    assert "orders_cancelled: 0" in output
    assert order_status(app, order_id) == "paid"
