"""An account made by email adds a phone number for sign-in (/me/phone), so signing in by
phone later finds it instead of making a second account; the phone pages point email
shoppers to their way in; a phone account cannot add another account's email."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shop.accounts import phone as service
from shop.accounts.models import PhoneCode, User
from shop.db import db
from tests.accounts.mailbox import ask, mails, text
from tests.conftest import signed_in
from tests.factories import UserFactory

NUMBER = "+8613700006064"
EN = {"Accept-Language": "en"}


def _last_code(app) -> str:
    sms = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*-sms-*.txt"))
    return re.search(r"\b(\d{6})\b", sms[-1].read_text(encoding="utf-8")).group(1)


def _row(app, column, **where):
    with app.test_request_context(headers=EN):
        return db.session.scalar(select(column).filter_by(**where))


def _add(client, number="137 0000 6064"):
    return client.post_form("/me/phone", {"phone": number}, headers=EN)


def _enter(client, code, number=NUMBER):
    return client.post_form("/me/phone/code", {"phone": number, "code": code}, headers=EN)


def test_an_email_account_adds_a_number_and_signs_in_with_it_later(app):
    client, user = signed_in(app)
    assert 'href="/me/phone"' in text(client.get("/me", headers=EN))
    assert 'name="phone"' in text(client.get("/me/phone", headers=EN))
    sent = _add(client)
    assert sent.status_code == 200 and "sent a 6-digit code to 137 0000 6064" in text(sent)
    assert 'action="/me/phone/code"' in text(sent) and "One is made" not in text(sent)
    added = _enter(client, _last_code(app))
    assert added.status_code == 303 and added.headers["Location"] == "/me"
    me = text(client.get("/me", headers=EN))  # the session goes on
    assert "You can now sign in with 137 0000 6064" in me and 'href="/me/phone"' not in me
    assert _row(app, User.signin_phone, id=user.id) == NUMBER
    assert client.get("/me/phone").status_code == 302  # one number an account
    other = app.test_client()  # later, on another phone: the same account
    app.config["PHONE_CODE_RATE_LIMIT"] = "2 per minute"
    other.post_form("/signin/phone", {"phone": "13700006064"}, headers=EN)
    assert other.post_form("/signin/phone/code", {"phone": NUMBER, "code": _last_code(app)}
                           ).status_code == 302
    assert _row(app, func.count(User.id)) == 1


def test_the_page_comes_in_both_languages(app):
    client, _user = signed_in(app)
    zh = text(client.get("/me/phone", headers={"Accept-Language": "zh-CN"}))
    en = text(client.get("/me/phone", headers=EN))
    assert '<html lang="zh-Hans"' in zh and '<html lang="en"' in en
    assert "Add a phone number for sign-in" in en


def test_a_number_of_another_account_is_refused_once_its_code_proves_it(app):
    UserFactory(signin_phone=NUMBER)
    client, user = signed_in(app)
    assert _add(client).status_code == 200  # asking says nothing of the number
    code = _last_code(app)
    wrong = _enter(client, f"{(int(code) + 1) % 10 ** 6:06d}")
    assert wrong.status_code == 422 and "wrong or has expired" in text(wrong)
    refused = _enter(client, code)
    assert refused.status_code == 422 and "already signs in to another account" in text(refused)
    assert _row(app, User.signin_phone, id=user.id) is None
    assert _row(app, PhoneCode.used_at) is None


def test_the_unique_number_settles_a_race_between_two_accounts(app, monkeypatch):
    """The account that took the number while this one's code was checked keeps it."""
    client, user = signed_in(app)
    _add(client)
    code = _last_code(app)
    UserFactory(signin_phone=NUMBER)  # added meanwhile, after the look-up below
    monkeypatch.setattr(service, "_signs_in", lambda phone: False)
    refused = _enter(client, code)
    assert refused.status_code == 422 and "already signs in to another account" in text(refused)
    assert _row(app, User.signin_phone, id=user.id) is None
    assert _row(app, PhoneCode.used_at) is None


def test_the_phone_pages_point_email_shoppers_to_their_way_in(client):
    for headers in (EN, {**EN, "HX-Request": "true"}):  # the page, and the sheet
        html = text(client.get("/signin/phone?next=/cart", headers=headers))
        assert "Already have an account with an email?" in html
        assert 'href="/signin?next=/cart"' in html and 'href="/signin/email?next=/cart"' in html


def _phone_account(app, client, number="+8613800138000", email=None) -> User:
    """A client signed in by phone to an account without a password."""
    user = UserFactory(email=email, password_hash="", signin_phone=number)
    client.post_form("/signin/phone", {"phone": number}, headers=EN)
    assert client.post_form("/signin/phone/code", {"phone": number, "code": _last_code(app)}
                            ).status_code == 302
    return user


def test_a_phone_account_cannot_add_another_accounts_email(app, client):
    UserFactory(email="taken@example.com")
    user = _phone_account(app, client)
    response = ask(client, "/me/email", "Taken@Example.com")
    assert response.status_code == 409
    assert "Another account signs in with this email" in text(response)
    assert mails(app) == [] and _row(app, User.email, id=user.id) is None


def test_the_password_page_of_an_account_without_one_goes_where_one_is_set(app, client):
    _phone_account(app, client)
    assert client.get("/me/password").headers["Location"] == "/me/email"
    other = app.test_client()
    _phone_account(app, other, "+8613800138009", email="p@example.com")
    assert other.get("/me/password").headers["Location"] == "/me/password/set"
    assert other.post_form("/me/password", {"current": "x", "password": "a-new-password",
                                            "confirm": "a-new-password"}).status_code == 302


@pytest.mark.parametrize("typed", ["+86 10 6552 9988", "010 6552 9988", "13800138000x",
                                   "13800138000 ext. 5", "138 0013 8000#", "1380013800O"])
def test_numbers_that_cannot_receive_a_text_are_refused(app, typed):
    from shop.orders import addresses

    with app.test_request_context(headers=EN):
        with pytest.raises(service.PhoneError, match="valid mobile number"):
            service.normalise_phone(typed)
        with pytest.raises(addresses.AddressError):  # the address book reads them alike
            addresses.normalise_mobile(typed)
