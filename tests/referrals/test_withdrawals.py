"""Withdrawals (minimum, fee, balance, the wallet or a bank transfer, never twice) and the
backoffice of distribution (applications, disabling, levels, rates, roles)."""

from sqlalchemy import func, select

from shop.db import db
from shop.referrals.models import Distributor, DistributorLevel, Withdrawal
from shop.wallet import services as wallet
from shop.wallet.models import WalletEntry
from tests.conftest import signed_in
from tests.factories import CommissionEntryFactory, DistributorFactory, ReferralSettingsFactory
from tests.payments.helpers import EN
from tests.referrals.helpers import balances


def _distributor_with(app, balance, **settings):
    ReferralSettingsFactory(**settings)
    client, user = signed_in(app)
    DistributorFactory(user_id=user.id, status="approved", balance_minor=balance)
    CommissionEntryFactory(user_id=user.id, amount_minor=balance, balance_after_minor=balance)
    return client, user


def _withdrawals(app):
    with app.app_context():
        return [(w.amount_minor, w.fee_minor, w.status) for w in db.session.scalars(select(Withdrawal).order_by(Withdrawal.id))]


def test_a_withdrawal_needs_the_minimum_and_the_balance_and_takes_the_fee(app):
    client, user = _distributor_with(app, 5000, withdraw_min_minor=1000, withdraw_fee_bp=60)
    for amount, message in (("9.99", "You can withdraw from CN¥10.00"),
                            ("30000000", "The amount is too large"),
                            ("50.01", "That is more than your withdrawable balance"),
                            ("-1", "The amount cannot be negative")):
        response = client.post_form("/distribution/withdraw", {"amount": amount, "method": "wallet"}, headers=EN)
        assert response.status_code in (409, 422) and message in response.get_data(as_text=True), amount
    response = client.post_form("/distribution/withdraw", {"amount": "20", "method": "bank"}, headers=EN)
    assert response.status_code == 409 and "Give the bank account" in response.get_data(as_text=True)
    assert _withdrawals(app) == [] and balances(app, user.id) == (0, 5000)
    response = client.post_form("/distribution/withdraw", {"amount": "33.33", "method": "wallet"})
    assert response.status_code == 303
    assert _withdrawals(app) == [(3333, 19, "requested")]  # 0.6 % of 33.33, rounded down
    assert balances(app, user.id) == (0, 1667)


def test_approved_into_the_wallet_it_is_paid_once(app, admin_client):
    client, user = _distributor_with(app, 5000, withdraw_fee_bp=100)
    client.post_form("/distribution/withdraw", {"amount": "50", "method": "wallet"})
    with app.app_context():
        withdrawal_id = db.session.scalar(select(Withdrawal.id))
    url = f"/admin/distribution/withdrawals/{withdrawal_id}/decide"
    listing = admin_client.get("/admin/distribution/withdrawals?status=requested", headers=EN)
    assert user.email in listing.get_data(as_text=True) and url in listing.get_data(as_text=True)
    assert admin_client.post_form(url, {"decision": "approve"}).status_code == 303
    response = admin_client.post_form(url, {"decision": "approve"}, headers=EN)
    assert response.status_code == 409 and "has just changed" in response.get_data(as_text=True)
    response = admin_client.post_form(url, {"decision": "reject", "reason": "x"}, headers=EN)
    assert response.status_code == 409
    with app.app_context():
        assert wallet.balance(user.id) == 4950
        assert db.session.scalar(select(func.count()).select_from(WalletEntry)) == 1
    assert _withdrawals(app) == [(5000, 50, "paid")] and balances(app, user.id) == (0, 0)


def test_a_bank_transfer_is_approved_then_marked_paid_with_its_reference(app, admin_client):
    client, user = _distributor_with(app, 5000)
    client.post_form("/distribution/withdraw", {"amount": "20", "method": "bank", "account": "招商银行 6225 张三"})
    with app.app_context():
        withdrawal_id = db.session.scalar(select(Withdrawal.id))
    base = f"/admin/distribution/withdrawals/{withdrawal_id}"
    assert admin_client.post_form(f"{base}/paid", {"reference": "T1"}).status_code == 409  # not approved
    assert admin_client.post_form(f"{base}/decide", {"decision": "approve"}).status_code == 303
    assert admin_client.post_form(f"{base}/paid", {"reference": ""}, headers=EN).status_code == 422
    assert admin_client.post_form(f"{base}/paid", {"reference": "T1"}).status_code == 303
    assert admin_client.post_form(f"{base}/paid", {"reference": "T2"}).status_code == 409
    with app.app_context():
        row = db.session.get(Withdrawal, withdrawal_id)
        assert (row.status, row.reference, row.account) == ("paid", "T1", "招商银行 6225 张三")
        assert wallet.balance(user.id) == 0  # a bank transfer does not touch the wallet
    assert balances(app, user.id) == (0, 3000)


def test_a_rejected_withdrawal_returns_the_amount_and_says_why(app, admin_client):
    client, user = _distributor_with(app, 5000)
    client.post_form("/distribution/withdraw", {"amount": "50", "method": "wallet"})
    with app.app_context():
        withdrawal_id = db.session.scalar(select(Withdrawal.id))
    url = f"/admin/distribution/withdrawals/{withdrawal_id}/decide"
    response = admin_client.post_form(url, {"decision": "reject", "reason": ""}, headers=EN)
    assert response.status_code == 409 and "Say why" in response.get_data(as_text=True)
    assert admin_client.post_form(url, {"decision": "reject", "reason": "信息不全"}).status_code == 303
    assert balances(app, user.id) == (0, 5000)
    html = client.get("/distribution").get_data(as_text=True)
    assert "信息不全" in html


def test_applications_are_approved_or_rejected_with_a_reason(app, admin_client):
    ReferralSettingsFactory(mode="approved")
    client, user = signed_in(app)
    form = {"real_name": "李四", "phone": "13800138000", "pitch": "朋友圈"}
    assert client.post_form("/distribution/apply", dict(form, pitch="<b>x</b>")).status_code == 422
    assert client.post_form("/distribution/apply", form).status_code == 303
    response = client.post_form("/distribution/apply", form, headers=EN)
    assert response.status_code == 422 and "waiting for a decision" in response.get_data(as_text=True)
    url = f"/admin/distribution/distributors/{user.id}/decide"
    response = admin_client.post_form(url, {"decision": "reject"}, headers=EN)
    assert response.status_code == 409 and "Say why" in response.get_data(as_text=True)
    assert admin_client.post_form(url, {"decision": "reject", "reason": "资料不全"}).status_code == 303
    assert "资料不全" in client.get("/distribution/apply").get_data(as_text=True)
    assert client.post_form("/distribution/apply", form).status_code == 303  # may apply again
    assert admin_client.post_form(url, {"decision": "approve"}).status_code == 303
    assert admin_client.post_form(url, {"decision": "approve"}).status_code == 409
    with app.app_context():
        assert db.session.get(Distributor, user.id).status == "approved"


def test_admins_disable_distributors_and_set_levels(app, admin_client):
    ReferralSettingsFactory()
    _client, user = signed_in(app)
    base = f"/admin/distribution/distributors/{user.id}"
    assert admin_client.post_form(f"{base}/standing", {"disable": "1", "reason": "刷单"}).status_code == 303
    response = admin_client.post_form("/admin/distribution/levels", {"name": "金牌", "level1_bp": "1500", "level2_bp": "600"})
    assert response.status_code == 303
    with app.app_context():
        level_id = db.session.scalar(select(DistributorLevel.id))
    assert admin_client.post_form(f"{base}/level", {"level_id": str(level_id)}).status_code == 303
    assert admin_client.post_form(f"{base}/level", {"level_id": "99999"}).status_code == 422
    assert admin_client.post_form("/admin/distribution/distributors/99999/standing",
                                  {"disable": "1"}).status_code == 409
    with app.app_context():
        row = db.session.get(Distributor, user.id)
        assert (row.status, row.level_id, row.decision_reason) == ("disabled", level_id, "刷单")
    html = admin_client.get("/admin/distribution/distributors?status=disabled").get_data(as_text=True)
    assert user.email in html


def test_settings_are_validated_and_saved(app, admin_client):
    form = {"mode": "threshold", "threshold_minor": "200", "binding_rule": "last_click",
            "binding_days": "30", "cookie_days": "7", "level1_bp": "1200", "level2_bp": "300",
            "settle_days": "7", "margin_floor_bp": "1500", "withdraw_min_minor": "10",
            "withdraw_fee_bp": "60"}
    for bad in ({"level1_bp": "10001"}, {"mode": "all"}, {"withdraw_min_minor": "0"}, {"cookie_days": "0"},
                {"withdraw_fee_bp": "10000"}, {"threshold_minor": "30000000"}):
        assert admin_client.post_form("/admin/distribution/settings", dict(form, **bad)).status_code == 422, bad
    assert admin_client.post_form("/admin/distribution/settings", form).status_code == 303
    from shop.referrals import services
    with app.app_context():
        row = services.settings()
        assert (row.mode, row.threshold_minor, row.binding_rule, row.level1_bp, row.margin_floor_bp,
                row.withdraw_min_minor) == ("threshold", 20000, "last_click", 1200, 1500, 1000)


def test_every_distribution_backoffice_page_is_for_admins_only(app):
    staff, _user = signed_in(app, "staff")
    for url in ("/admin/distribution/settings", "/admin/distribution/distributors",
                "/admin/distribution/levels", "/admin/distribution/commissions",
                "/admin/distribution/withdrawals"):
        assert staff.get(url).status_code == 403, url
        assert app.test_client().get(url).status_code == 302, url
    assert staff.post_form("/admin/distribution/withdrawals/1/decide", {"decision": "approve"}).status_code == 403

