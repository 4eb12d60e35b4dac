"""A randomised scenario (hypothesis): orders paid along a referral chain, refunds in part
or in full, settlements, withdrawals requested, approved and rejected, in any order.
After every scenario each distributor's ledger sums to their balances, and those
balances are exactly what their commissions and withdrawals say they should be."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from shop.db import db, utcnow
from shop.orders import services as orders
from shop.orders.models import Order
from shop.referrals import services
from shop.referrals.models import Commission, CommissionEntry, Distributor, Withdrawal
from shop.wallet import services as wallet
from shop.wallet.models import WalletEntry
from tests.conftest import property_examples
from tests.factories import BindingFactory, ReferralSettingsFactory, UserFactory, product_with_skus
from tests.payments.helpers import bought

STEPS = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 3), st.integers(1, 60_000)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100)),
    st.tuples(st.just("settle"), st.integers(0, 20)),
    st.tuples(st.just("withdraw"), st.integers(0, 3), st.integers(1, 3_000)),
    st.tuples(st.just("decide"), st.integers(0, 20), st.booleans()),
), max_size=14)


@settings(max_examples=property_examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_distributors_ledger_sums_to_their_balances(app, steps):
    ReferralSettingsFactory(margin_floor_bp=500, withdraw_min_minor=100, withdraw_fee_bp=60)
    users = [UserFactory() for _ in range(4)]
    for referrer, user in zip(users, users[1:]):
        BindingFactory(user_id=user.id, referrer_id=referrer.id)
    admin = UserFactory(role="admin")
    ids = [u.id for u in users]
    order_ids, withdrawal_ids = [], []
    with app.app_context():
        for number, step in enumerate(steps):
            kind = step[0]
            if kind == "buy":
                _product, (sku, _other) = product_with_skus(skus=(("红", step[2], 5), ("蓝", 1, 0)),
                                                            cost_price_minor=step[2] // 2)
                order_ids.append(bought(ids[step[1]], sku.id, utcnow().isoformat() + str(sku.id)).id)
            elif kind == "refund" and order_ids:
                order = db.session.get(Order, order_ids[step[1] % len(order_ids)])
                left = orders.refundable_minor(order)
                if left and order.status in ("paid", "partly_refunded"):
                    orders.refund(order, max(1, left * step[2] // 100), key=f"r{number}",
                                  reason="t", actor_id=admin.id, restock=False)
            elif kind == "settle":
                due = db.session.scalars(select(Commission.id).where(Commission.status == "pending")).all()
                if due:
                    db.session.execute(update(Commission).where(Commission.id == due[step[1] % len(due)])
                                       .values(settle_at=utcnow() - timedelta(seconds=1)))
                    for commission_id in services.due_commission_ids(utcnow()):
                        services.settle(commission_id)
            elif kind == "withdraw":
                try:
                    withdrawal_ids.append(services.request_withdrawal(ids[step[1]], step[2], method="wallet").id)
                except services.ReferralError:
                    pass  # below the minimum or above the balance: refused, nothing moved
            elif kind == "decide" and withdrawal_ids:
                try:
                    services.decide_withdrawal(withdrawal_ids[step[1] % len(withdrawal_ids)],
                                               approve=step[2], reason="t", actor_id=admin.id)
                except services.ReferralError:
                    pass  # decided already
            db.session.commit()

        for user_id in ids:
            row = db.session.get(Distributor, user_id)
            if row is None:
                continue
            sums = dict(db.session.execute(
                select(CommissionEntry.bucket, func.sum(CommissionEntry.amount_minor))
                .where(CommissionEntry.user_id == user_id).group_by(CommissionEntry.bucket)).all())
            assert sums.get("pending", 0) == row.pending_minor
            assert sums.get("balance", 0) == row.balance_minor
            mine = db.session.scalars(select(Commission).where(Commission.user_id == user_id)).all()
            assert row.pending_minor == sum(c.net_minor for c in mine if c.status == "pending")
            taken = db.session.scalar(select(func.coalesce(func.sum(Withdrawal.amount_minor), 0)).where(
                Withdrawal.user_id == user_id, Withdrawal.status != "rejected"))
            assert row.balance_minor == sum(c.net_minor for c in mine if c.status == "settled") - taken
            paid_out = db.session.scalar(select(func.coalesce(func.sum(Withdrawal.amount_minor - Withdrawal.fee_minor), 0))
                                         .where(Withdrawal.user_id == user_id, Withdrawal.status == "paid"))
            refunded = db.session.scalar(select(func.coalesce(func.sum(WalletEntry.amount_minor), 0))
                                         .where(WalletEntry.user_id == user_id, WalletEntry.ref_type == "refund"))
            assert wallet.balance(user_id) == paid_out + refunded  # each top-up was spent on its order
            assert all(0 <= c.reversed_minor <= c.amount_minor <= c.uncapped_minor for c in mine)
