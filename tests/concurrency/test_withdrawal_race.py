"""Withdrawals under real parallel requests on PostgreSQL: requests at the same time
never take more than the balance, and approvals at the same time pay once."""

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.referrals.models import Withdrawal
from shop.wallet import services as wallet
from shop.wallet.models import WalletEntry
from tests.concurrency.http import form_fields, post_together, request, session_cookie
from tests.factories import CommissionEntryFactory, DistributorFactory, ReferralSettingsFactory, UserFactory
from tests.referrals.helpers import balances

pytestmark = pytest.mark.postgres


def _distributor(balance: int):
    ReferralSettingsFactory(withdraw_min_minor=100)
    user = UserFactory()
    DistributorFactory(user_id=user.id, status="approved", balance_minor=balance)
    CommissionEntryFactory(user_id=user.id, amount_minor=balance, balance_after_minor=balance)
    return user


def test_parallel_withdrawal_requests_never_take_more_than_the_balance(app, live_server):
    user = _distributor(10000)
    cookie = session_cookie(app, user.id)
    status, html, cookie = request(f"{live_server.url}/distribution", cookie)
    assert status == 200
    form = dict(form_fields(html, "csrf_token"), method="wallet", amount="40.00")
    codes = post_together([(f"{live_server.url}/distribution/withdraw", cookie, form)] * 8)
    assert sorted(codes) == [200, 200] + [409] * 6  # 2 x 40.00 fit in 100.00; a third does not
    assert balances(app, user.id) == (0, 2000)
    with app.app_context():
        assert db.session.scalar(select(func.sum(Withdrawal.amount_minor))) == 8000


def test_parallel_approvals_of_one_withdrawal_pay_it_once(app, live_server):
    user = _distributor(5000)
    with app.app_context():
        from shop.referrals import services
        withdrawal = services.request_withdrawal(user.id, 5000, method="wallet")
        db.session.commit()
        withdrawal_id = withdrawal.id
    admin = UserFactory(role="admin")
    cookie = session_cookie(app, admin.id)
    status, html, cookie = request(f"{live_server.url}/admin/distribution/withdrawals", cookie)
    assert status == 200
    form = dict(form_fields(html, "csrf_token"), decision="approve")
    codes = post_together([(f"{live_server.url}/admin/distribution/withdrawals/{withdrawal_id}/decide",
                            cookie, form)] * 6)
    assert sorted(codes) == [200] + [409] * 5
    with app.app_context():
        assert wallet.balance(user.id) == 5000
        assert db.session.scalar(select(func.count()).select_from(WalletEntry)) == 1
        assert db.session.get(Withdrawal, withdrawal_id).status == "paid"
    assert balances(app, user.id) == (0, 0)
