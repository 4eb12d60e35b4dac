""""Join and pay" / "Start a group and pay" lead a shopper whose wallet holds nothing
straight to the card form, the card payment started in that POST (orders.card_next): one
payment and one PaymentIntent however often the form is sent, none made by a GET; with
money in the wallet the order page keeps its choice; a gateway that refuses leaves the
order standing and its page offering the card."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shop.db import db
from shop.payments import gateway
from shop.payments.models import Payment
from tests.conftest import signed_in
from tests.groups.helpers import campaign, fund, open_paid_group, seat_form
from tests.payments.helpers import stripe_api

EN = {"Accept-Language": "en"}


def _payments(app) -> list[tuple]:
    with app.app_context():
        return list(db.session.execute(select(Payment.order_id, Payment.method, Payment.status,
                                              Payment.key, Payment.intent_id).order_by(Payment.id)))


def _card_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Payment.id)).where(Payment.method == "card"))


def test_a_wallet_less_join_goes_to_the_card_form_with_one_payment_however_often_sent(
        stripe_app, localstripe_url):
    app = stripe_app
    campaign_id, sku_id = campaign(size=3)
    _leader, _lead, group_id = open_paid_group(app, campaign_id, sku_id)
    client, user = signed_in(app)
    url = f"/groups/{group_id}"
    form = seat_form(client, url, sku_id)
    first, second = (client.post_form(f"{url}/join", form, headers=EN) for _ in range(2))  # a double tap
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    payment_id = int(re.fullmatch(r"/payments/(\d+)", first.headers["Location"]).group(1))
    ((order_id, method, status, key, intent_id),) = [p for p in _payments(app) if p[1] == "card"]
    assert (method, status, key) == ("card", "pending", f"order-{order_id}-pay-1")
    assert stripe_api(localstripe_url, f"/v1/payment_intents/{intent_id}")["amount"] == 990
    page = client.get(first.headers["Location"], headers=EN)
    assert page.status_code == 200 and "Your seat is held: pay to take it." in page.get_data(as_text=True)
    # the order page's "Pay by card" and the GETs of both pages find the same payment
    assert client.get(f"/orders/{order_id}").status_code == 200
    again = client.post_form(f"/orders/{order_id}/pay/card")
    assert again.headers["Location"] == f"/payments/{payment_id}" and _card_count(app) == 1


def test_money_in_the_wallet_keeps_the_order_pages_choice(stripe_app):
    app = stripe_app
    campaign_id, sku_id = campaign(size=3, price=990)
    _leader, _lead, group_id = open_paid_group(app, campaign_id, sku_id)
    for balance in (100, 990):  # part of it (wallet first, or not), all of it
        client, user = signed_in(app)
        fund(app, user.id, balance, f"some-{user.id}")
        url = f"/groups/{group_id}"
        response = client.post_form(f"{url}/join", seat_form(client, url, sku_id))
        assert re.fullmatch(r"/orders/\d+", response.headers["Location"]), balance
    assert _card_count(app) == 0


def test_starting_a_group_goes_to_the_card_form_too_and_a_refusing_gateway_to_the_order_page(
        stripe_app, monkeypatch):
    app = stripe_app
    campaign_id, sku_id = campaign(size=2)
    client, _user = signed_in(app)
    url = f"/group-buys/{campaign_id}"
    response = client.post_form(f"{url}/open", seat_form(client, url, sku_id))
    assert re.fullmatch(r"/payments/\d+", response.headers["Location"]) and _card_count(app) == 1

    def refuse(**_kwargs):
        raise gateway.GatewayError("The card service is not answering.")

    monkeypatch.setattr(gateway, "create_intent", refuse)
    campaign_id, sku_id = campaign(size=2)
    url = f"/group-buys/{campaign_id}"
    response = client.post_form(f"{url}/open", seat_form(client, url, sku_id), headers=EN)
    order_id = int(re.fullmatch(r"/orders/(\d+)", response.headers["Location"]).group(1))
    assert _card_count(app) == 1  # the refused payment's row undone; the order stands
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="pay-card"' in page
