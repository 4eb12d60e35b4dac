"""The shopper's cancel of an unpaid order under real parallel requests on PostgreSQL:
against the card payment succeeding at the same moment, against itself, and against the
sweeper's expiry. It takes the order's lock first, as they do (shop.orders.lifecycle), so
each round ends one way: paid (the cancel refused), or cancelled once with what the order
held back once and any money Stripe took anyway refunded once."""

import time

import pytest
from sqlalchemy import func, select

from shop.catalog.models import Sku
from shop.db import db, utcnow
from shop.orders import services as orders
from shop.orders.models import Order, OrderEvent
from shop.payments.models import Payment, Refund
from shop.wallet import services as wallet
from tests.concurrency.http import form_fields, post_answer, request, session_cookie, together
from tests.concurrency.test_payment_race import _deadlocks, _deliver, _paid_at_stripe
from tests.conftest import signed_in
from tests.payments.helpers import placed_order, start_card, stripe_api

pytestmark = pytest.mark.postgres


def _cancel_form(live_server, app, user_id: int, order_id: int):
    cookie = session_cookie(app, user_id)
    status, html, cookie = request(f"{live_server.url}/orders/{order_id}", cookie)
    assert status == 200
    return cookie, form_fields(html, "csrf_token")


def _state(app, order_id: int) -> tuple:
    with app.app_context():
        order = db.session.get(Order, order_id)
        cancels = [(e.actor_id, e.reason) for e in order.events if e.to_status == "cancelled"]
        return order.status, db.session.get(Sku, order.lines[0].sku_id).stock, cancels


def test_a_cancel_racing_the_card_payment_ends_paid_or_cancelled_and_refunded_once(
        stripe_app, live_server, localstripe_url):
    """4 rounds: the shopper's phone pays the card at Stripe and its webhook arrives while
    the shopper cancels (one or the other a little later in some rounds: both win). Paid: the cancel is refused.
    Cancelled: the stock is back, and the money, if Stripe took it, is refunded in full."""
    app = stripe_app
    deadlocks_before = _deadlocks(app)
    client, user = signed_in(app)
    outcomes = {"paid": 0, "cancelled": 0, "cancelled and refunded": 0}
    for round_ in range(4):
        _c, _u, order_id, total = placed_order(app, price=5000 + round_, stock=2,
                                               client=client, user=user)
        payment_id = start_card(client, order_id)
        with app.app_context():
            intent_id = db.session.get(Payment, payment_id).intent_id
        cookie, form = _cancel_form(live_server, app, user.id, order_id)

        pay_later, cancel_later = ((0, 0), (0.04, 0), (0, 0.01), (0.015, 0))[round_]

        def pay(order_id=order_id, intent_id=intent_id, delay=pay_later):
            time.sleep(delay)
            try:
                _paid_at_stripe(localstripe_url, intent_id)
            except OSError:  # the cancel closed the intent first: the card is not charged
                pass
            return _deliver(live_server.url, f"evt_cancel_{order_id}", intent_id)()

        def cancel(order_id=order_id, delay=cancel_later):
            time.sleep(delay)
            return post_answer(f"{live_server.url}/orders/{order_id}/cancel", cookie, form)

        webhook, (code, _body) = together([pay, cancel])
        assert webhook == 200 and code in (303, 409), (round_, webhook, code)
        status, stock, cancels = _state(app, order_id)
        with app.app_context():
            payment = db.session.get(Payment, payment_id).status
            refunded = db.session.scalars(select(Refund.amount_minor)
                                          .where(Refund.payment_id == payment_id)).all()
        taken = stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}")["status"] == "succeeded"
        if status == "paid":
            assert (code, payment, refunded, stock, cancels) == (409, "succeeded", [], 1, []), round_
            outcomes["paid"] += 1
            continue
        assert (status, code, stock, cancels) == ("cancelled", 303, 2, [(user.id, "cancelled by shopper")])
        if taken:
            assert (payment, refunded) == ("rejected", [total]), round_
            at_stripe = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={intent_id}")["data"]
            assert [r["amount"] for r in at_stripe] == [total], round_
            outcomes["cancelled and refunded"] += 1
        else:
            assert (payment, refunded) == ("canceled", []), round_
            outcomes["cancelled"] += 1
    print(f"\ncancel against the card payment, 4 rounds: {outcomes}")
    assert _deadlocks(app) == deadlocks_before


def test_three_cancels_at_once_give_back_once(app, live_server):
    _client, user, order_id, total = placed_order(app, price=5000, stock=3)
    with app.app_context():
        wallet.move(user.id, 2_000, reason="t", ref_type="test", ref_id="part")
        orders.pay_with_wallet(db.session.get(Order, order_id), user.id, partial=True)
        db.session.commit()
    cookie, form = _cancel_form(live_server, app, user.id, order_id)
    url = f"{live_server.url}/orders/{order_id}/cancel"
    answers = together([lambda: post_answer(url, cookie, form) for _ in range(3)])
    assert sorted(code for code, _body in answers) == [303, 409, 409], answers
    assert _state(app, order_id) == ("cancelled", 3, [(user.id, "cancelled by shopper")])
    with app.app_context():
        assert wallet.balance(user.id) == 2_000
        assert db.session.scalars(select(Refund.amount_minor)).all() == [2_000]


def test_a_cancel_racing_the_sweepers_expiry_cancels_once(app, live_server):
    from shop.sweeper import sweep

    client, user = signed_in(app)
    outcomes = {"shopper": 0, "sweeper": 0}
    for round_ in range(3):
        _c, _u, order_id, _total = placed_order(app, price=5000 + round_, stock=2,
                                                client=client, user=user)
        with app.app_context():
            db.session.get(Order, order_id).expires_at = utcnow()
            db.session.commit()
        cookie, form = _cancel_form(live_server, app, user.id, order_id)

        def sweeper(delay=round_ * 0.02):  # later in some rounds: both win
            time.sleep(delay)
            with app.app_context():
                return sweep()["orders_cancelled"]

        (code, _body), swept = together([
            lambda: post_answer(f"{live_server.url}/orders/{order_id}/cancel", cookie, form),
            sweeper])
        status, stock, cancels = _state(app, order_id)
        assert (status, stock, len(cancels)) == ("cancelled", 2, 1), round_
        by_shopper = cancels == [(user.id, "cancelled by shopper")]
        assert (code, swept) == ((303, 0) if by_shopper else (409, 1)), (round_, cancels)
        outcomes["shopper" if by_shopper else "sweeper"] += 1
    print(f"\ncancel against the sweeper, 3 rounds: {outcomes}")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OrderEvent)
                                 .where(OrderEvent.to_status == "cancelled")) == 3
