"""Closing an account (shop.accounts.closure; shop.privacy's page): the person's data gone
from every table that held it, the books still balancing, and no way back in."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import JSON, String, Text, func, or_, select, text, update

from shop import ledgers
from shop.accounts import closure
from shop.accounts.models import PhoneCode, User
from shop.accounts.services import AccountError, authenticate, set_active
from shop.analytics.models import OrderFact
from shop.cart.models import CartItem
from shop.db import db
from shop.favourites.models import Favourite
from shop.orders.models import Order, OrderEvent
from shop.referrals import services as referrals
from shop.wallet import services as wallet
from tests.conftest import signed_in
from tests.factories import (PASSWORD, AddressFactory, ArticleEventFactory, AuditEntryFactory,
                             BindingFactory, CommissionEntryFactory, CustomerTagFactory,
                             DistributorFactory, HitFactory, LinkOpenFactory, PasskeyFactory,
                             PhoneCodeFactory, SigninFactory, TaskCompletionFactory, UserFactory,
                             VisitorNumberFactory, WithdrawalFactory, product_with_skus)
from tests.payments.helpers import EN, bought

BOOKS = "kept for the books: "
STAFF = "kept: backoffice accounts only, and they are not closed from the account page: "
# Every table that holds something about a person (a column that leads to users.id, or
# one named like an identity: see _personal_tables), and what closing the account does
# to it. A table added with such a column and not listed here fails the test below.
FATE = {
    "users": "anonymised: no email (nor when it was confirmed), numbers, password or avatar; "
             "nickname 'Closed account'",
    "phone_codes": "erased: the codes sent to the account's number",
    "passkeys": "erased",
    "addresses": "erased",
    "cart_items": "erased",
    "favourites": "erased",
    "customer_tags": "erased: what staff noted about the person",
    "referral_bindings": "erased: to their referrer, and their referees' to them",
    "link_opens": "erased: the opens of their links; others' opens by their browser anonymised",
    "signins": "erased (what they earned is in the points ledger)",
    "task_completions": "erased (what they earned is in the points ledger)",
    "hits": "anonymised: no account, the visitor id replaced",
    "visitor_numbers": "anonymised: the visitor id replaced (the numbers of rolled days stay)",
    "article_events": "anonymised: the visitor id replaced",
    "order_facts": "anonymised: the visitor id replaced; the account id names the empty row",
    "orders": "anonymised: ship_name, ship_phone, ship_address blanked; " + BOOKS + "the sales",
    "order_events": "anonymised: the shopper's refund reason blanked; " + BOOKS + "the history",
    "distributors": "anonymised: real name, number, pitch, decision; " + BOOKS + "the balances",
    "withdrawals": "anonymised: the bank account; " + BOOKS + "the payouts",
    "acquisitions": BOOKS + "the value of customers by source, without identity",
    "order_referrals": BOOKS + "who earned on an order",
    "payments": BOOKS + "the money received",
    "refunds": BOOKS + "the money given back",
    "wallets": BOOKS + "the stored-value balance",
    "wallet_entries": BOOKS + "the wallet's ledger",
    "points_accounts": BOOKS + "the points balance",
    "points_entries": BOOKS + "the points ledger",
    "points_lots": BOOKS + "the points ledger's lots",
    "members": BOOKS + "member growth",
    "growth_entries": BOOKS + "the growth ledger",
    "commissions": BOOKS + "commissions earned",
    "commission_entries": BOOKS + "the commission ledger",
    "user_coupons": BOOKS + "the coupon ledger's claims",
    "coupon_entries": BOOKS + "the coupon ledger",
    "groups": BOOKS + "the group's seats ledger",
    "group_members": BOOKS + "the group's seats and orders",
    "group_campaign_unit_entries": BOOKS + "the campaign's units ledger",
    "bargains": BOOKS + "the price an order was bought at",
    "bargain_helps": BOOKS + "the bargain's price ledger",
    "flash_buyers": BOOKS + "per-shopper limits of a flash sale",
    "flash_orders": BOOKS + "the flash stock ledger",
    "flash_stock_entries": BOOKS + "the flash stock ledger",
    "redemptions": BOOKS + "the points mall's stock ledger",
    "mall_stock_entries": BOOKS + "the points mall's stock ledger",
    "stock_movements": BOOKS + "the stock ledger",
    "audit_entries": BOOKS + "the log of what staff did (security, accountability)",
    "articles": STAFF + "their author",
    "article_revisions": STAFF + "their editor",
    "store_staff": STAFF + "who works at a store",
    "pickup_codes": STAFF + "who handed an order over",
    "loss_leaders": STAFF + "who confirmed a price below cost",
    "stores": "not a person's: the store's own address and number",
}
# The columns that lead to a person, besides foreign keys to users: named like an identity.
IDENTITY = re.compile(r"(^|_)(user_id|email|phone|name|address|visitor|ip|user_agent|account)$")
# Columns named so that are not about a person (names of things).
NOT_A_PERSON = {"name", "option_names", "label"}


# Anonymised tables whose rows keep pointing at the (empty) account row.
KEEP_ROWS = {"users", "orders", "order_events", "distributors", "withdrawals", "order_facts"}


def _leads_to_users(column, seen=()) -> bool:
    for fk in column.foreign_keys:
        target = fk.column
        if target.table.name == "users" or (target not in seen and _leads_to_users(target, (*seen, column))):
            return True
    return False


def _personal_tables() -> dict[str, list[str]]:
    """table -> its columns that name a person (a key to a user, or an identity)."""
    found = {}
    for table in db.metadata.sorted_tables:
        columns = [c.name for c in table.columns
                   if _leads_to_users(c) or (IDENTITY.search(c.name) and c.name not in NOT_A_PERSON
                                             and not (table.name != "users" and c.name == "id"))]
        if columns:
            found[table.name] = columns
    return found


def _user_columns(table) -> list:
    """Columns of `table` that hold a user id (the users table: its own)."""
    if table.name == "users":
        return [table.c.id]
    return [c for c in table.columns if _leads_to_users(c) or c.name == "user_id"]


def _rows_of(table, user_id: int) -> int:
    columns = _user_columns(table)
    if not columns:
        return 0
    return db.session.scalar(select(func.count()).select_from(table).where(
        or_(*(c == user_id for c in columns))))


def _text_values(table) -> list[str]:
    columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
    if not columns:
        return []
    return [str(value) for row in db.session.execute(select(*columns)) for value in row
            if value is not None]


def test_every_table_with_a_person_in_it_is_listed(app):
    """A new table (or column) that holds a person makes this fail until FATE says what
    closing an account does to it."""
    with app.app_context():
        found = set(_personal_tables())
    assert found - set(FATE) == set(), "tables with personal data that FATE does not list"
    assert set(FATE) - found == set(), "FATE lists tables that hold no personal data"


def _one_of_everything(app):
    """A shopper with a row in every table FATE erases or anonymises, and orders, ledgers
    and bindings kept for the books; another shopper beside them. Returns (user, other,
    the person's values that must be gone, their order's id)."""
    person = {"email": "close-me@example.com", "nickname": "关闭者Zhou",
              "signin_phone": "+8613912345678", "phone": "139 1234 5678"}
    user = UserFactory(**person)
    other, third = UserFactory(), UserFactory()
    visitor = "c1" * 16
    secret = {"name": "周关闭", "detail": "注销路 99 号", "real_name": "周真名",
              "pitch": "我的推广理由XYZ", "account": "6222000011112222", "reason": "退款理由ABC",
              "tag": "爱买鞋QQ", "passkey": "周的手机", "visitor": visitor, **person}
    _product, (sku, _blue) = product_with_skus(skus=(("红", 9900, 10), ("蓝", 9900, 0)))
    AddressFactory(user_id=user.id, name=secret["name"], phone="13912345678",
                   detail=secret["detail"], is_default=False)
    with app.app_context():
        order = bought(user.id, sku.id, "k1")  # address, wallet in and out, payment, points...
        db.session.execute(update(Order).where(Order.id == order.id).values(
            status="completed", ship_name=secret["name"],
            ship_address="浙江省杭州市西湖区" + secret["detail"]))
        db.session.add(OrderEvent(order_id=order.id, from_status="completed",
                                  to_status="refund_requested", actor_id=user.id,
                                  reason=secret["reason"]))
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
        db.session.add(Favourite(user_id=user.id, product_id=_product.id))
        db.session.commit()
        order_id = order.id
    PhoneCodeFactory(phone=person["signin_phone"])
    PasskeyFactory(user_id=user.id, name="周的手机")
    CustomerTagFactory(user_id=user.id, name=secret["tag"])
    BindingFactory(user_id=user.id, referrer_id=other.id)
    BindingFactory(user_id=third.id, referrer_id=user.id)
    LinkOpenFactory(sharer_id=user.id)
    LinkOpenFactory(sharer_id=other.id, visitor=visitor)
    SigninFactory(user_id=user.id)
    TaskCompletionFactory(user_id=user.id, code="share_link", period="2026-12-01")
    HitFactory(user_id=user.id, visitor=visitor)
    VisitorNumberFactory(visitor=visitor)
    ArticleEventFactory(visitor=visitor)
    with app.app_context():
        db.session.execute(update(OrderFact).values(visitor=visitor))
        db.session.commit()
    DistributorFactory(user_id=user.id, real_name=secret["real_name"], phone="13912345678",
                       pitch=secret["pitch"])
    CommissionEntryFactory(user_id=user.id, amount_minor=1000, balance_after_minor=1000)
    withdrawal = WithdrawalFactory(user_id=user.id, status="paid", method="bank",
                                   account=secret["account"])
    CommissionEntryFactory(user_id=user.id, amount_minor=-1000, balance_after_minor=0,
                           reason="withdrawal", ref_type="withdrawal", ref_id=str(withdrawal.id))
    AuditEntryFactory(target=f"user_id={user.id}")
    # the other shopper's own rows, which closing must not touch
    AddressFactory(user_id=other.id)
    return user, other, secret, order_id


def _close(app, user_id: int, **confirm) -> None:
    with app.app_context():
        closure.close_account(db.session.get(User, user_id), **(confirm or {"password": PASSWORD}))
        db.session.commit()


def test_closing_erases_the_person_from_every_table_and_the_books_still_balance(app):
    user, other, secret, order_id = _one_of_everything(app)
    with app.app_context():
        tables = {t.name: t for t in db.metadata.sorted_tables}
        fates = {name: FATE[name].split(":")[0] for name in _personal_tables()}
        before = {name: _rows_of(tables[name], user.id) for name in fates}
        for name, fate in fates.items():  # the person is in every table closing changes
            if fate in ("erased", "anonymised") and name != "phone_codes":
                assert before[name] or name in ("visitor_numbers", "article_events"), name
        values_before = " ".join(" ".join(_text_values(t)) for t in tables.values())
        for value in secret.values():
            assert value in values_before, value
    _close(app, user.id)
    with app.app_context():
        assert ledgers.check() == []
        for name, fate in fates.items():
            table = tables[name]
            after = _rows_of(table, user.id)
            if fate.startswith("kept") or name in KEEP_ROWS:
                assert after == before[name], name
            else:  # erased, or no longer linked to the account (hits)
                assert after == 0, name
        # nothing of the person is left in any column of any table but the staff's log
        # (whose rows here say nothing of them)
        for name, table in tables.items():
            left = " ".join(_text_values(table))
            for key, value in secret.items():
                assert value not in left, (name, key)
        closed = db.session.get(User, user.id)
        assert (closed.email, closed.email_verified_at, closed.phone, closed.signin_phone,
                closed.avatar_key, closed.password_hash, closed.active) == (
            None, None, None, None, None, "", False)
        with app.test_request_context(), force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            assert closed.nickname == gettext("Closed account") and closed.closed_at is not None
        assert db.session.scalar(select(func.count()).select_from(PhoneCode)) == 0
        # the other shopper's rows are theirs still
        assert db.session.scalar(text("SELECT count(*) FROM addresses WHERE user_id = :u"),
                                 {"u": other.id}) == 1
        assert db.session.get(Order, order_id).total_minor > 0


@pytest.mark.parametrize("what, why", [
    ("order", "not finished"), ("wallet", "wallet still holds"),
    ("commission", "commissions still pending"), ("withdrawal", "withdrawal of yours"),
    ("staff", "backoffice account")])
def test_closing_is_refused_while_something_still_needs_the_person(app, what, why):
    user = UserFactory(role="staff" if what == "staff" else "shopper")
    with app.app_context():
        if what == "order":
            _product, (sku, _blue) = product_with_skus()
            bought(user.id, sku.id, "k1")  # paid, not delivered
        elif what == "wallet":
            wallet.move(user.id, 500, reason="t", ref_type="test", ref_id="1")
        elif what == "commission":
            referrals.account(user.id)
            referrals._entry(user.id, "pending", 300, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
    if what == "withdrawal":
        DistributorFactory(user_id=user.id)
        WithdrawalFactory(user_id=user.id, status="approved")
    with app.app_context():
        with force_locale("en"), pytest.raises(AccountError, match=why):
            closure.close_account(db.session.get(User, user.id), password=PASSWORD)
        db.session.rollback()
        kept = db.session.get(User, user.id)
        assert (kept.email, kept.active, kept.closed_at) == (user.email, True, None)


def test_a_closed_account_can_not_sign_in_nor_be_enabled_again(app):
    client, user = signed_in(app)
    other_device = app.test_client()
    other_device.signin(user.email)
    response = client.post_form("/me/close", {"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # every session ended: this one, and the other device's
    for c in (client, other_device):
        assert c.get("/me").status_code == 302
    # by password: the email is free, so it is refused like any unknown one
    response = client.post_form("/signin", {"email": user.email, "password": PASSWORD},
                                headers=EN)
    assert response.status_code == 422
    assert "The email or password is wrong." in response.get_data(as_text=True)
    with app.app_context():
        assert authenticate(user.email, PASSWORD) is None
        closed = db.session.get(User, user.id)
        with force_locale("en"), pytest.raises(AccountError, match="closed by its owner"):
            set_active(closed, True)
        db.session.rollback()
    # nor can an admin open it again from the backoffice
    admin, _admin = signed_in(app, "admin")
    refused = admin.post_form(f"/admin/customers/{user.id}/enable", headers=EN)
    assert refused.status_code == 409 and "closed by its owner" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).active is False


def test_the_number_of_a_closed_account_makes_a_new_account(app):
    """Its number was erased: a code sent to it signs up a new, empty account (intended:
    the number is free again), never the closed one."""
    from shop.accounts import phone

    user = UserFactory(password_hash="", email=None, signin_phone="+8613912345678")
    _close(app, user.id, word="CLOSE")
    PhoneCodeFactory(phone="+8613912345678")
    with app.app_context():
        signed = phone.verify_code("13912345678", "123456")
        assert signed.created and signed.user.id != user.id
        db.session.rollback()


def test_a_closed_sharers_link_binds_no_one(app):
    sharer = UserFactory()
    _close(app, sharer.id)
    visitor = UserFactory()
    with app.app_context():
        code = db.session.get(User, sharer.id).referral_code
        with force_locale("en"), pytest.raises(referrals.ReferralError, match="no longer active"):
            referrals.bind(visitor.id, code, via="link")
        assert referrals.sharer_of(code) is None
        db.session.rollback()
    client = app.test_client()
    client.signin(visitor.email)
    client.get(f"/?ref={code}")
    with app.app_context():
        assert referrals.referrer_of(visitor.id) is None


def test_a_wrong_confirmation_changes_nothing(app):
    client, user = signed_in(app)
    response = client.post_form("/me/close", {"password": "not-it"}, headers=EN)
    assert response.status_code == 422
    assert "The password is wrong." in response.get_data(as_text=True)
    assert client.get("/me").status_code == 200
    with app.app_context():
        kept = db.session.get(User, user.id)
        assert (kept.email, kept.active, kept.closed_at) == (user.email, True, None)


def test_a_passwordless_account_types_the_word(app):
    user = UserFactory(password_hash="", email=None, signin_phone="+8613912345670")
    with app.app_context():
        with pytest.raises(closure.WrongConfirmation):
            closure.close_account(db.session.get(User, user.id), word="close it")
        db.session.rollback()
    _close(app, user.id, word=" close ")
    with app.app_context():
        assert db.session.get(User, user.id).closed_at is not None


def test_closing_needs_the_csrf_token(app):
    client, user = signed_in(app)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/me/close", data={"password": PASSWORD})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).closed_at is None


def test_the_close_page_says_why_a_backoffice_account_can_not(app):
    client, _staff = signed_in(app, "staff")
    html = client.get("/me/close", headers=EN).get_data(as_text=True)
    assert "A backoffice account can not be closed here" in html


def test_wrong_confirmations_are_limited(app):
    app.config["SIGNIN_RATE_LIMIT"] = "2 per minute"
    client, user = signed_in(app)
    assert [client.post_form("/me/close", {"password": "nope"}).status_code
            for _ in range(3)] == [422, 422, 429]
    refused = client.post_form("/me/close", {"password": PASSWORD}, headers=EN)  # right, too
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong tries" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).closed_at is None


@pytest.mark.pages
@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_the_privacy_page_and_the_account_pages_link_to_each_other(app, lang):
    client, _user = signed_in(app)
    client.post_form("/language", {"lang": lang})
    me = client.get("/me").get_data(as_text=True)
    assert 'href="/me/data"' in me and 'href="/me/close"' in me and 'href="/privacy"' in me
    for url in ("/privacy", "/me/data", "/me/close"):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get("/privacy").get_data(as_text=True)
    assert 'id="closing"' in page and 'href="/me/data"' in page


def test_an_order_partly_refunded_after_delivery_is_finished_one_on_its_way_is_not(app):
    user = UserFactory()
    _product, (sku, _blue) = product_with_skus()
    with app.app_context():
        order = bought(user.id, sku.id, "k1")
        db.session.execute(update(Order).where(Order.id == order.id)
                           .values(status="partly_refunded"))
        db.session.commit()
        with pytest.raises(AccountError, match="not finished"), force_locale("en"):
            closure.close_account(db.session.get(User, user.id), password=PASSWORD)
        db.session.rollback()
        db.session.add(OrderEvent(order_id=order.id, from_status="shipped", to_status="completed"))
        db.session.commit()
    _close(app, user.id)


def test_the_close_page_lists_what_blocks_closing_before_its_form(app):
    client, user = signed_in(app)
    _product, (sku, _blue) = product_with_skus()
    with app.app_context():
        order = bought(user.id, sku.id, "k1")  # paid, not delivered
        wallet.move(user.id, 500, reason="t", ref_type="test", ref_id="1")
        db.session.commit()
        number = order.number
    page = client.get("/me/close", headers=EN).get_data(as_text=True)
    blockers = page[page.index('data-testid="close-blockers"'):]
    assert "not finished yet" in blockers and "wallet still holds" in blockers
    assert f'href="/orders/{order.id}"' in blockers and number in blockers
    assert 'href="/wallet"' in blockers
    assert 'data-testid="close-account"' not in page  # no form to type into for nothing
    # closing asks again (the same rules): refused, the blockers shown, nothing changed
    refused = client.post_form("/me/close", {"password": PASSWORD}, headers=EN)
    assert refused.status_code == 422 and 'data-testid="close-blockers"' in refused.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).closed_at is None
        assert [b.message for b in closure.blockers(db.session.get(User, user.id))] != []
    free, _other = signed_in(app)
    page = free.get("/me/close", headers=EN).get_data(as_text=True)
    assert 'data-testid="close-account"' in page and "close-blockers" not in page


@pytest.mark.pages
def test_the_privacy_page_says_the_email_and_the_number_are_free_again(app):
    page = app.test_client().get("/privacy", headers=EN).get_data(as_text=True)
    assert "Your email address and mobile number are free again" in page
