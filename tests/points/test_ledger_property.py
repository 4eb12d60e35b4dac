"""A randomised scenario (hypothesis): shoppers earn on paid orders, use points at
checkout, redeem in the mall, sign in on random days, claim tasks, get refunds in part or
in full, have unpaid orders cancelled, get manual adjustments and see lots expire, in any
order. After every scenario each shopper's ledger sums to their balance, their lots
add up to it (to nothing while in debt), and no balance is below zero except by a debt
a refund recorded."""

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from shop.db import db, utcnow
from shop.orders import services as orders
from shop.orders.models import Order
from shop.points import services
from shop.points.models import PointsAccount, PointsEntry, PointsLot, TaskCompletion
from shop.wallet import services as wallet
from tests.conftest import property_examples
from tests.factories import MallItemFactory, UserFactory, product_with_skus
from tests.payments.helpers import bought, saved_address
from tests.points.helpers import checked_balance

STEPS = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 2), st.integers(100, 40_000), st.booleans()),
    st.tuples(st.just("place"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("signin"), st.integers(0, 2), st.integers(0, 40)),
    st.tuples(st.just("claim"), st.integers(0, 2)),
    st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(-3_000, 3_000)),
    st.tuples(st.just("expire"), st.integers(0, 20)),
), max_size=14)
START = datetime(2026, 1, 5, 4, tzinfo=timezone.utc)


@settings(max_examples=property_examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_ledger_sums_to_its_balance_after_any_scenario(app, steps):
    users = [UserFactory().id for _ in range(3)]
    _product, (sku, _other) = product_with_skus(skus=(("红", 100, 10_000), ("蓝", 100, 0)))
    items = [MallItemFactory(points_price=150, cash_minor=0, per_user_limit=0, stock=50).id,
             MallItemFactory(points_price=80, cash_minor=500, per_user_limit=0, stock=50).id]
    with app.app_context():
        for user in users:
            services.move(user, 1_000, reason="adjustment", ref_type="test", ref_id=f"start-{user}")
        db.session.commit()
        for n, step in enumerate(steps):
            key = f"{n}-{step[0]}"
            try:
                with db.session.begin_nested():
                    _run(step, key, users, sku, items)
            except (services.PointsError, orders.OrderError, wallet.WalletError):
                pass  # refused: the savepoint undid it, and the ledger must still add up
            db.session.commit()
        for user in users:
            checked_balance(user)
            # only taking back a refunded order's points may take a balance below zero
            assert not db.session.scalar(select(func.count()).select_from(PointsEntry).where(
                PointsEntry.user_id == user, PointsEntry.amount < 0,
                PointsEntry.balance_after < 0, PointsEntry.reason != "order_refund"))
        assert db.session.scalar(select(func.sum(PointsAccount.balance))) == \
            db.session.scalar(select(func.sum(PointsEntry.amount)))


def _run(step, key, users, sku, items):
    kind = step[0]
    order_ids = db.session.scalars(select(Order.id).order_by(Order.id)).all()
    if kind in ("buy", "place"):
        quantity = min(max(1, step[2] // 100), 99) if kind == "buy" else 3
        bought(users[step[1]], sku.id, key, quantity=quantity, options={"use_points": step[-1]},
               pay=kind == "buy")
    elif kind == "refund" and order_ids:
        order = db.session.get(Order, order_ids[step[1] % len(order_ids)])
        available = orders.refundable_minor(order)
        if available:
            amount = max(1, available * step[2] // 100)
            orders.refund(order, amount, key=key, reason="t", actor_id=None, restock=False)
    elif kind == "cancel" and order_ids:
        order = db.session.get(Order, order_ids[step[1] % len(order_ids)])
        if order.status == "awaiting_payment":
            orders.cancel(order, actor_id=None, reason="expired")
    elif kind == "redeem":
        user = users[step[1]]
        services.redeem(user, items[step[2]], 1, saved_address(user), key)
    elif kind == "signin":
        services.sign_in(users[step[1]], START + timedelta(days=step[2]))
    elif kind == "claim":
        row = db.session.scalar(select(TaskCompletion).where(
            TaskCompletion.user_id == users[step[1]], TaskCompletion.claimed_at.is_(None)).limit(1))
        if row is not None:
            services.claim(row.user_id, row.id)
    elif kind == "adjust" and step[2]:
        services.adjust(users[step[1]], step[2], note="t", key=key, actor_id=users[0])
    elif kind == "expire":
        lots = db.session.scalars(select(PointsLot.id).where(PointsLot.remaining > 0)
                                  .order_by(PointsLot.id)).all()
        if lots:
            lot_id = lots[step[1] % len(lots)]
            db.session.execute(update(PointsLot).where(PointsLot.id == lot_id)
                               .values(expires_at=utcnow() - timedelta(seconds=1)))
            assert services.expire(lot_id) is True
