"""Card payments of one order under real parallel HTTP requests on PostgreSQL, against the
Stripe double: one PaymentIntent however many taps, and the webhook, the admin's cancel
and other webhooks of the same order take their locks in one order (order, then its
payments), so no deadlock and no 5xx, and every round ends one way or the other."""

import hashlib
import hmac
import json
import logging
import time

import pytest
from localstripe import resources
from sqlalchemy import func, select, text

from shop.db import db
from shop.orders.models import Order
from shop.payments.models import Payment, Refund
from tests.concurrency.http import form_fields, post_answer, request, session_cookie, together
from tests.conftest import WEBHOOK_SECRET, signed_in
from tests.payments.helpers import card_id, placed_order, start_card, stripe_api

pytestmark = pytest.mark.postgres


def _intents() -> set[str]:
    """Every PaymentIntent the Stripe double (this worker's, shared by its tests) holds."""
    return {obj.id for key, obj in list(resources.store.items()) if key.startswith("payment_intent:")}


def _deadlocks(app) -> int:
    """Deadlocks PostgreSQL has detected in the test's database. A backend reports its
    statistics when it ends, so the app's connections are closed first."""
    with app.app_context():
        db.engine.dispose()
    time.sleep(0.2)
    with app.app_context():
        found = db.session.scalar(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))
        db.session.rollback()
        return found


def _signed_event(event_id: str, intent_id: str) -> tuple[bytes, dict]:
    payload = json.dumps({"id": event_id, "object": "event", "type": "payment_intent.succeeded",
                          "created": int(time.time()), "api_version": "2017-08-15",
                          "livemode": False, "data": {"object": {"id": intent_id,
                                                                  "object": "payment_intent"}}})
    at = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return payload.encode(), {"Stripe-Signature": f"t={at},v1={mac}",
                              "Content-Type": "application/json"}


def _deliver(url: str, event_id: str, intent_id: str):
    import urllib.error
    import urllib.request

    body, headers = _signed_event(event_id, intent_id)

    def send():
        req = urllib.request.Request(f"{url}/stripe/webhook", data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
    return send


def _paid_at_stripe(localstripe_url: str, intent_id: str) -> None:
    """A phone pays the intent at Stripe; the shop has not been told yet."""
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}",
               {"payment_method": card_id(localstripe_url)})
    stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}/confirm", {})


def test_five_parallel_pay_by_card_taps_make_one_payment_intent(stripe_app, live_server):
    app = stripe_app
    for _round in range(3):
        _client, user, order_id, total = placed_order(app, price=12300)
        cookie = session_cookie(app, user.id)
        status, html, cookie = request(f"{live_server.url}/orders/{order_id}", cookie)
        assert status == 200
        form = form_fields(html, "csrf_token")
        before = _intents()
        answers = together([lambda: post_answer(f"{live_server.url}/orders/{order_id}/pay/card",
                                                cookie, form) for _ in range(5)])
        assert [code for code, _body in answers] == [302] * 5, answers
        with app.app_context():
            payments = db.session.execute(select(Payment.id, Payment.status, Payment.amount_minor,
                                                 Payment.key)
                                          .where(Payment.order_id == order_id)).all()
        assert [(s, a, k) for _i, s, a, k in payments] == [("pending", total, f"order-{order_id}-pay-1")]
        made = _intents() - before  # at the Stripe double: one intent, not 4, 1, 3
        assert [resources.store[f"payment_intent:{i}"].metadata["shop_payment"] for i in made] == [
            f"order-{order_id}-pay-1"]


def test_a_webhook_racing_an_admin_cancel_ends_paid_or_cancelled_and_refunded(
        stripe_app, live_server, localstripe_url, caplog):
    """20 rounds: an order's card payment is taken at Stripe, then its webhook and a
    staff member's cancel arrive at once. The webhook takes the order's lock before the
    payment's, as the cancel does: no deadlock, no 5xx, and each round ends paid (the
    cancel refused) or cancelled with the money refunded in full (the payment refused)."""
    app = stripe_app
    staff, staff_user = signed_in(app, "admin")  # staff see only their stores' pickups
    staff_cookie = session_cookie(app, staff_user.id)
    caplog.set_level(logging.WARNING)
    deadlocks_before = _deadlocks(app)
    outcomes = {"paid": 0, "cancelled": 0}
    client, shopper = signed_in(app)
    for round_ in range(20):
        _client, _user, order_id, total = placed_order(app, price=5000 + round_, stock=2,
                                                       client=client, user=shopper)
        payment_id = start_card(client, order_id)
        with app.app_context():
            intent_id = db.session.get(Payment, payment_id).intent_id
        _paid_at_stripe(localstripe_url, intent_id)
        status, html, staff_cookie = request(f"{live_server.url}/admin/orders/{order_id}", staff_cookie)
        form = form_fields(html, "csrf_token")
        delay = (round_ % 5) * 0.006  # the cancel a little later in some rounds: both win

        def cancel_later(order_id=order_id, form=form, delay=delay):
            time.sleep(delay)
            return post_answer(f"{live_server.url}/admin/orders/{order_id}/cancel", staff_cookie, form)

        webhook, cancel = together([_deliver(live_server.url, f"evt_race_{order_id}", intent_id),
                                    cancel_later])
        assert webhook == 200, (round_, webhook)
        assert cancel[0] in (302, 409), (round_, cancel)
        with app.app_context():
            order_state = db.session.scalar(select(Order.status).where(Order.id == order_id))
            payment_state = db.session.get(Payment, payment_id).status
            refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0))
                                         .where(Refund.payment_id == payment_id))
        if order_state == "paid":
            assert (cancel[0], payment_state, refunded) == (409, "succeeded", 0), round_
            outcomes["paid"] += 1
        else:
            assert (order_state, cancel[0], payment_state, refunded) == (
                "cancelled", 302, "rejected", total), round_
            refunds = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={intent_id}")["data"]
            assert [r["amount"] for r in refunds] == [total], round_
            outcomes["cancelled"] += 1
    assert sum(outcomes.values()) == 20
    print(f"\nwebhook against cancel, 20 rounds: {outcomes}")
    assert _deadlocks(app) == deadlocks_before
    assert not [r for r in caplog.records if "gave way" in r.getMessage()]


def test_webhooks_for_four_intents_of_one_order_at_once_pay_it_once(
        stripe_app, live_server, localstripe_url, caplog):
    """An order with four intents paid at Stripe (its open payment, and three it closed
    before, as the old code could leave them): their four webhooks arrive together. One
    payment pays the order, the three others are refused and refunded in full, and no
    delivery fails or deadlocks."""
    app = stripe_app
    caplog.set_level(logging.WARNING)
    deadlocks_before = _deadlocks(app)
    client, user, order_id, total = placed_order(app, price=8800)
    open_id = start_card(client, order_id)
    intents = []
    with app.app_context():
        for n in (2, 3, 4):
            intent = stripe_api(localstripe_url, "/v1/payment_intents", {
                "amount": total, "currency": "cny", "metadata[shop_payment]": f"order-{order_id}-pay-{n}"})
            db.session.add(Payment(key=f"order-{order_id}-pay-{n}", user_id=user.id, purpose="order",
                                   order_id=order_id, method="card", amount_minor=total,
                                   currency="CNY", status="canceled", intent_id=intent["id"],
                                   refundable_minor=0))
            intents.append(intent["id"])
        intents.append(db.session.get(Payment, open_id).intent_id)
        db.session.commit()
    for intent_id in intents:
        _paid_at_stripe(localstripe_url, intent_id)
    codes = together([_deliver(live_server.url, f"evt_four_{i}", intent_id)
                      for i, intent_id in enumerate(intents)])
    assert codes == [200] * 4
    with app.app_context():
        assert db.session.scalar(select(Order.status).where(Order.id == order_id)) == "paid"
        states = db.session.execute(select(Payment.intent_id, Payment.status)
                                    .where(Payment.order_id == order_id)).all()
        assert sorted(status for _intent, status in states) == ["rejected"] * 3 + ["succeeded"]
        assert dict(states)[intents[-1]] == "succeeded"
        refunds = db.session.execute(select(Refund.amount_minor).join(Payment)
                                     .where(Payment.order_id == order_id)).scalars().all()
        assert refunds == [total] * 3
    assert _deadlocks(app) == deadlocks_before
    assert not [r for r in caplog.records if "gave way" in r.getMessage()]
