"""100 buyers for 10 units, as real parallel HTTP requests: exactly 10 orders, stock 0."""

import pytest
from sqlalchemy import func, insert, select

from shop.accounts.models import User
from shop.cart.models import CartItem
from shop.catalog.models import Sku, StockMovement
from shop.db import db
from shop.orders.models import Order
from tests.concurrency.http import form_fields, post_together, request, session_cookie
from tests.conftest import ADDRESS
from tests.factories import PASSWORD_HASH, product_with_skus

pytestmark = pytest.mark.postgres
BUYERS = 100  # ten times the stock: enough to race (200 cost the suite 5 s more)


def test_100_buyers_for_10_units_make_exactly_10_orders(app, live_server):
    _product, (sku, _other) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 1990, 0)))
    with app.app_context():
        db.session.execute(insert(User), [
            {"email": f"buyer{n}@example.com", "password_hash": PASSWORD_HASH, "nickname": f"b{n}",
             "role": "shopper"} for n in range(BUYERS)])
        ids = db.session.scalars(select(User.id).where(User.email.like("buyer%")).order_by(User.id)).all()
        db.session.execute(insert(CartItem), [{"user_id": i, "sku_id": sku.id, "quantity": 1} for i in ids])
        db.session.commit()

    forms = []
    for user_id in ids:  # each buyer draws the checkout form first (CSRF and order token)
        status, html, cookie = request(f"{live_server.url}/checkout", session_cookie(app, user_id))
        assert status == 200, html[:300]
        fields = form_fields(html, "csrf_token", "token")
        forms.append((cookie, dict(fields, **ADDRESS)))

    codes = post_together([(f"{live_server.url}/checkout", cookie, form) for cookie, form in forms],
                          timeout=120)

    assert len(codes) == BUYERS
    assert codes.count(200) == 10  # redirected to the order page (urllib follows the 302)
    assert codes.count(409) == BUYERS - 10
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 10
        assert db.session.get(Sku, sku.id).stock == 0
        assert db.session.scalar(select(func.sum(StockMovement.delta))
                                 .where(StockMovement.reason == "order")) == -10
