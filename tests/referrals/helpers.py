"""Shared steps of the distribution tests: a referral chain, an order a member of it pays
(through checkout and the wallet, as a shopper does), and reading balances back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from shop.accounts.models import User
from shop.db import db, utcnow
from shop.orders import services as orders
from shop.orders.models import Order
from shop.referrals.models import Commission, CommissionEntry, Distributor
from shop.wallet import services as wallet
from tests.factories import BindingFactory, ReferralSettingsFactory, UserFactory
from tests.payments.helpers import placed_order


def chain(app, n: int = 3, **settings):
    """Users u0 <- u1 <- ... (u1 was referred by u0, u2 by u1...), with the settings given
    (mode "everyone" unless said otherwise). Returns their ids."""
    ReferralSettingsFactory(**settings)
    users = [UserFactory() for _ in range(n)]
    for referrer, user in zip(users, users[1:]):
        BindingFactory(user_id=user.id, referrer_id=referrer.id)
    return [user.id for user in users]


def order_paid_by(app, user_id: int, *, price: int = 10000, quantity: int = 1, cost: int = 1000,
                  sku=None, client=None) -> int:
    """The user buys `quantity` of a new product at `price` (or of `sku`) through checkout
    and pays from the wallet; returns the order id. `client`: the user's browser, signed
    in already (with its cookies: a share link's), else a new one."""
    with app.app_context():
        user = db.session.get(User, user_id)
    if client is None:
        client = app.test_client()
        client.signin(user.email)
    _client, _user, order_id, total = placed_order(app, price=price, quantity=quantity, client=client,
                                                   user=user, sku=sku, cost=cost, stock=50)
    with app.app_context():
        wallet.move(user_id, total, reason="t", ref_type="test", ref_id=f"topup-{order_id}")
        db.session.commit()
    response = client.post_form(f"/orders/{order_id}/pay/wallet")
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return order_id


def refund(app, order_id: int, amount: int, key: str) -> None:
    with app.app_context():
        admin = UserFactory(role="admin")
        orders.refund(db.session.get(Order, order_id), amount, key=key, reason="test",
                      actor_id=admin.id, restock=False)
        db.session.commit()


def settle_all(app) -> int:
    """Make every pending commission due and run the sweeper's settlement."""
    from shop.sweeper import sweep

    with app.app_context():
        db.session.execute(update(Commission).values(settle_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        return sweep()["commissions_settled"]


def balances(app, user_id: int) -> tuple[int, int]:
    """(pending, balance) of a distributor, checked against their ledger."""
    with app.app_context():
        row = db.session.get(Distributor, user_id)
        if row is None:
            return 0, 0
        for bucket, cached in (("pending", row.pending_minor), ("balance", row.balance_minor)):
            total = db.session.scalar(select(func.coalesce(func.sum(CommissionEntry.amount_minor), 0))
                                      .where(CommissionEntry.user_id == user_id,
                                             CommissionEntry.bucket == bucket))
            assert total == cached, (bucket, total, cached)
        return row.pending_minor, row.balance_minor


def commissions(app, order_id: int) -> dict[int, tuple[int, int, int]]:
    """{level: (earner, amount, reversed)} of an order."""
    with app.app_context():
        return {c.level: (c.user_id, c.amount_minor, c.reversed_minor) for c in db.session.scalars(
            select(Commission).where(Commission.order_id == order_id))}

