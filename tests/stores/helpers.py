"""Shared steps of the pickup tests: a pickup product and stores, a paid pickup order
placed through checkout, staff bound to a store, and the verification forms."""

from __future__ import annotations

from sqlalchemy import select

from shop.cart.models import CartItem
from shop.db import db
from shop.orders.models import Order
from shop.stores.models import PickupCode
from tests.conftest import form_token, signed_in
from tests.factories import StoreFactory, StoreStaffFactory, UserFactory, product_with_skus
from tests.groups.helpers import fund, pay_wallet

PICKER = {"name": "李四", "phone": "13900139000"}


def pickup_product(*, price: int = 5000, stock: int = 10, pickup: bool = True):
    """A product that may (or may not) be picked up: (product, sku)."""
    product, (sku,) = product_with_skus(skus=(("红", price, stock),), pickup_enabled=pickup)
    return product, sku


def staff_at(*stores, role: str = "staff"):
    """A staff account bound to these stores: the user."""
    user = UserFactory(role=role)
    for store in stores:
        StoreStaffFactory(store_id=store.id, user_id=user.id)
    return user


def place_pickup(app, store, sku, *, client=None, user=None, quantity: int = 1):
    """A shopper puts the SKU in the cart (unless it is there) and checks out for pickup
    at the store:
    (client, user, response of the checkout POST)."""
    if client is None:
        client, user = signed_in(app)
    with app.app_context():
        if db.session.scalar(select(CartItem.id).where(CartItem.user_id == user.id,
                                                       CartItem.sku_id == sku.id)) is None:
            db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=quantity))
            db.session.commit()
    response = client.post_form("/checkout", dict(PICKER, fulfilment="pickup", store_id=store.id,
                                                  token=form_token(client, "/checkout")))
    return client, user, response


def paid_pickup(app, store=None, sku=None, *, price: int = 5000):
    """A pickup order placed and paid from the wallet: (client, user, order_id, code)."""
    store = store or StoreFactory()
    if sku is None:
        _product, sku = pickup_product(price=price)
    client, user, response = place_pickup(app, store, sku)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        total = db.session.get(Order, order_id).total_minor
    fund(app, user.id, total, f"pickup-{order_id}")
    assert pay_wallet(client, order_id).status_code == 302
    return client, user, order_id, code_of(app, order_id)


def code_of(app, order_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(select(PickupCode.code).where(PickupCode.order_id == order_id))


def verify_form(store_id: int, code: str) -> dict:
    return {"store_id": str(store_id), "code": code}
