import threading

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.orders.models import Order
from shop.wallet import services as wallet
from shop.wallet.models import Wallet, WalletEntry
from tests.conftest import signed_in
from tests.factories import ProductFactory, UserFactory, product_with_skus
from tests.conftest import ADDRESS
from tests.orders.test_checkout import _buyer, _token

EN = {"Accept-Language": "en"}


def _credit(app, user_id, amount, ref="test"):
    with app.app_context():
        wallet.move(user_id, amount, reason="test credit", ref_type="test", ref_id=ref)
        db.session.commit()


def _order(app, client):
    client.post_form("/checkout", dict(ADDRESS, token=_token(client)))
    with app.app_context():
        return db.session.scalar(select(Order.id).order_by(Order.id.desc()))


def test_pay_an_order_from_the_wallet(app):
    product, (red, _blue) = product_with_skus()
    client, user = _buyer(app, [(red, 5)])  # 5 × 19.90 = 99.50: free shipping
    _credit(app, user.id, 12000)
    order_id = _order(app, client)
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "Wallet balance: CN¥120.00" in page and "Pay CN¥99.50 from my wallet" in page
    response = client.post_form(f"/orders/{order_id}/pay/wallet")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).status == "paid"
        assert wallet.balance(user.id) == 2050
        entries = db.session.scalars(select(WalletEntry.amount_minor).order_by(WalletEntry.id)).all()
        assert entries == [12000, -9950]
    # paying twice changes nothing more
    again = client.post_form(f"/orders/{order_id}/pay/wallet", headers=EN)
    assert again.status_code == 409 and "not awaiting payment" in again.get_data(as_text=True)
    with app.app_context():
        assert wallet.balance(user.id) == 2050
    assert "¥20.50" in client.get("/wallet").get_data(as_text=True)


def test_an_overdraw_is_refused_and_changes_nothing(app):
    product, (red, _blue) = product_with_skus()
    client, user = _buyer(app, [(red, 1)])
    _credit(app, user.id, 1000)
    order_id = _order(app, client)
    response = client.post_form(f"/orders/{order_id}/pay/wallet", headers=EN)
    assert response.status_code == 409 and "balance is not enough" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Order, order_id).status == "awaiting_payment"
        assert wallet.balance(user.id) == 1000
        assert db.session.scalar(select(func.count()).select_from(WalletEntry)) == 1


def test_another_shoppers_order_cannot_be_paid(app):
    product, (red, _blue) = product_with_skus()
    client, _user = _buyer(app, [(red, 1)])
    order_id = _order(app, client)
    stranger, other = signed_in(app)
    _credit(app, other.id, 10000)
    assert stranger.post_form(f"/orders/{order_id}/pay/wallet").status_code == 404
    with app.app_context():
        assert wallet.balance(other.id) == 10000


def test_admin_adjustments_are_ledger_rows(app, admin_client):
    user = UserFactory(email="w@example.com", nickname="小王")
    adjustment = {"user_id": f"customer:{user.id}", "direction": "credit", "amount": "50",
                  "reason": "补偿", "token": "a" * 32}
    ok = admin_client.post_form("/admin/wallet", adjustment)
    assert ok.status_code == 302
    again = admin_client.post_form("/admin/wallet", adjustment, headers=EN)  # a double submit
    assert again.status_code == 422 and "already recorded" in again.get_data(as_text=True)
    assert admin_client.post_form("/admin/wallet", {**adjustment, "token": ""}).status_code == 422
    product = ProductFactory()
    for data, message in [
        ({"amount": "-5"}, "cannot be negative"), ({"amount": "0"}, "must not be zero"),
        ({"direction": "debit", "amount": "60"}, "balance is not enough"),
        ({"amount": "1.001"}, "at most 2 decimal places"),
        # the shopper is picked by name: another kind, an unknown id or typed text is refused
        ({"user_id": f"product:{product.id}"}, "This takes a customer, not a product."),
        ({"user_id": "customer:999999"}, "No customer has this number: 999999."),
        ({"user_id": "w@example.com"}, "Choose from the search results."),
        ({"user_id": ""}, "This field is required."),
        ({"user_id": "", "q_user_id": "小王"}, "Choose one of the matches below."),
    ]:
        form = {"user_id": f"customer:{user.id}", "direction": "credit", "amount": "5", "reason": "x",
                "token": "b" * 32, **data}
        response = admin_client.post_form("/admin/wallet", form, headers=EN)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    # the search without JavaScript offers the shopper to choose, by name
    assert f'type="radio" name="user_id" value="customer:{user.id}"' in response.get_data(as_text=True)
    with app.app_context():
        assert wallet.balance(user.id) == 5000
        (entry,) = db.session.scalars(select(WalletEntry)).all()
        assert (entry.amount_minor, entry.reason, entry.ref_type) == (5000, "补偿", "adjustment")


def test_the_adjustment_page_picks_the_shopper_by_name(app, admin_client):
    user = UserFactory(nickname="小王")
    html = admin_client.get("/admin/wallet").get_data(as_text=True)
    assert 'name="q_user_id"' in html and 'hx-get="/admin/pick/customer?name=user_id"' in html
    assert 'name="email"' not in html
    found = admin_client.get("/admin/pick/customer?q=小王&name=user_id").get_data(as_text=True)
    assert f'value="customer:{user.id}"' in found


@pytest.mark.postgres
def test_eight_parallel_payments_of_the_whole_balance_let_one_through(app):
    user = UserFactory()
    _credit(app, user.id, 10000)
    barrier = threading.Barrier(8)
    results, lock = [], threading.Lock()

    def pay(n):
        with app.app_context():
            barrier.wait()
            try:
                wallet.move(user.id, -10000, reason="order", ref_type="order", ref_id=str(n))
                db.session.commit()
                outcome = "paid"
            except wallet.WalletError:
                db.session.rollback()
                outcome = "refused"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["paid"] + ["refused"] * 7
    with app.app_context():
        assert db.session.get(Wallet, user.id).balance_minor == 0
        assert db.session.scalar(select(func.sum(WalletEntry.amount_minor))) == 0
