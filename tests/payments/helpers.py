"""Shared steps of the payment tests: a placed order, a card id made the way Stripe.js
makes one (a token from the publishable key), polling for what a webhook does."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request

from sqlalchemy import select

from shop.cart.models import CartItem
from shop.db import db
from shop.orders.models import Order
from shop.payments.models import Payment
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import product_with_skus

EN = {"Accept-Language": "en"}
GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341"


def placed_order(app, *, price=9900, quantity=1, stock=10, client=None, user=None, sku=None,
                 cost=1000):
    """A shopper's order of a new product (or of `sku`), placed through checkout; total =
    price x quantity (free shipping from 99.00, the default), so (client, user, order_id,
    total)."""
    if sku is None:
        _product, (sku, _other) = product_with_skus(skus=(("红", price, stock), ("蓝", price, 0)),
                                                    cost_price_minor=cost)
    if client is None:
        client, user = signed_in(app)
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=quantity))
        db.session.commit()
    response = client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout")))
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        total = db.session.get(Order, order_id).total_minor
    return client, user, order_id, total


def saved_address(user_id: int):
    """The test ADDRESS saved for the user, inside an app context (service-level tests)."""
    from shop.orders import addresses

    return addresses.for_order(user_id, **ADDRESS)


def bought(user_id: int, sku_id: int, key: str, *, quantity: int = 1, options=None,
           pay: bool = True) -> Order:
    """Inside an app context, without requests: the user puts the SKU in the cart and
    places an order (with checkout options), then, if pay, tops the wallet up with what
    is due and pays from it."""
    from shop.orders import placement
    from shop.orders import services as orders
    from shop.wallet import services as wallet

    db.session.add(CartItem(user_id=user_id, sku_id=sku_id, quantity=quantity))
    db.session.flush()
    order = placement.place_from_cart(user_id, saved_address(user_id), key, options)
    if pay and order.status == "awaiting_payment":
        wallet.move(user_id, order.total_minor, reason="t", ref_type="test", ref_id=f"o{order.id}")
        orders.pay_with_wallet(order, user_id)
    return order


def card_id(localstripe_url: str, number: str = GOOD_CARD) -> str:
    data = urllib.parse.urlencode({"card[number]": number, "card[exp_month]": "12",
                                   "card[exp_year]": "2030", "card[cvc]": "123",
                                   "key": "pk_test_shop"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{localstripe_url}/v1/tokens", data=data)) as r:
        return json.loads(r.read())["card"]["id"]


def stripe_api(localstripe_url: str, path: str, data: dict | None = None) -> dict:
    """Call localstripe directly with the secret key (what a phone or Stripe would do)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(f"{localstripe_url}{path}", data=body,
                                     headers={"Authorization": "Bearer sk_test_shop"})
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())


def start_card(client, order_id: int, use_wallet: bool = False) -> int:
    """Press "Pay by card" on the order page; returns the card payment's id."""
    response = client.post_form(f"/orders/{order_id}/pay/card", {"use_wallet": "y"} if use_wallet else {})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return int(re.search(r"/payments/(\d+)", response.headers["Location"]).group(1))


def payment(app, payment_id: int) -> Payment:
    with app.app_context():
        found = db.session.get(Payment, payment_id)
        db.session.expunge(found)
        return found


def order_status(app, order_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Order.status).where(Order.id == order_id))


def wait_for(predicate, timeout: float = 15.0):
    """Poll until predicate() is truthy (a webhook arrives about 1 s after its event)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def count(app, model, *where) -> int:
    """Rows of model, read in a context of its own (never hold a transaction open while
    waiting: on SQLite that would keep the webhook from writing)."""
    from sqlalchemy import func

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))
