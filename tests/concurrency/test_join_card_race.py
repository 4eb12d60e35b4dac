"""A wallet-less shopper's "Join and pay" sent four times at once, with card payments on
(orders.card_next starts the card payment in that POST): one order, one card payment and
one PaymentIntent (asked for with the payment's key), on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.db import db
from shop.orders.models import Order
from shop.payments.models import Payment
from tests.concurrency.http import form_fields, post_answer, request, session_cookie, together
from tests.conftest import ADDRESS
from tests.factories import UserFactory
from tests.groups.helpers import campaign, open_paid_group
from tests.payments.helpers import stripe_api

pytestmark = pytest.mark.postgres


def test_one_join_form_sent_four_times_at_once_starts_one_card_payment(stripe_app, live_server,
                                                                       localstripe_url):
    app = stripe_app
    campaign_id, sku_id = campaign(size=3)
    _leader, _lead, group_id = open_paid_group(app, campaign_id, sku_id)
    shopper = UserFactory()
    status, html, cookie = request(f"{live_server.url}/groups/{group_id}", session_cookie(app, shopper.id))
    assert status == 200
    form = dict(ADDRESS, sku_id=str(sku_id), **form_fields(html, "csrf_token", "token"))
    url = f"{live_server.url}/groups/{group_id}/join"
    results = together([lambda: post_answer(url, cookie, form)] * 4)
    assert [code for code, _body in results] == [303] * 4, results
    with app.app_context():
        (order_id,) = db.session.scalars(select(Order.id).where(Order.user_id == shopper.id)).all()
        payments = db.session.execute(select(Payment.method, Payment.status, Payment.key, Payment.intent_id)
                                      .where(Payment.order_id == order_id)).all()
    ((method, status, key, intent_id),) = payments
    assert (method, status, key) == ("card", "pending", f"order-{order_id}-pay-1")
    # a request that gave way and ran again asked with the same key: the same intent
    intent = stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}")
    assert (intent["amount"], intent["metadata"]["shop_payment"]) == (990, key)
