"""8 parallel wallet payments, each worth the whole balance, as real HTTP requests on
PostgreSQL: exactly one order is paid, the balance ends at zero, the ledger sums up."""

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.orders.models import Order
from shop.payments.models import Payment
from shop.wallet import services as wallet
from shop.wallet.models import Wallet, WalletEntry
from tests.concurrency.http import form_fields, post_together, request, session_cookie
from tests.payments.helpers import placed_order

pytestmark = pytest.mark.postgres


def test_eight_parallel_wallet_payments_of_the_whole_balance_pay_one_order(app, live_server):
    client, user, first_id, total = placed_order(app, price=10000)
    order_ids = [first_id] + [placed_order(app, price=10000, client=client, user=user)[2] for _ in range(7)]
    with app.app_context():
        wallet.move(user.id, total, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    cookie = session_cookie(app, user.id)
    forms = []
    for order_id in order_ids:
        status, html, cookie = request(f"{live_server.url}/orders/{order_id}", cookie)
        assert status == 200
        forms.append((order_id, form_fields(html, "csrf_token")))
    codes = post_together([(f"{live_server.url}/orders/{order_id}/pay/wallet", cookie, form)
                           for order_id, form in forms])
    assert sorted(codes) == [200] + [409] * 7
    with app.app_context():
        assert db.session.get(Wallet, user.id).balance_minor == 0
        assert db.session.scalar(select(func.sum(WalletEntry.amount_minor))) == 0
        assert db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "paid")) == 1
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
