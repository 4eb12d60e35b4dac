"""Resetting a forgotten password by a link sent by email (shop.accounts.email_links)."""

import time

from itsdangerous.timed import TimestampSigner
from sqlalchemy import select
from werkzeug.security import check_password_hash

from shop.accounts import services
from shop.accounts.models import User
from shop.db import db
from tests.accounts.mailbox import EN, ask, mails, text
from tests.conftest import signed_in
from tests.factories import PASSWORD, UserFactory

NEW = {"password": "a-brand-new-one", "confirm": "a-brand-new-one"}


def _hash(app, user_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.id == user_id))


def _reset_link(app, client, address: str) -> str:
    response = ask(client, "/password/forgot", address)
    assert response.status_code == 200
    assert f"If {address} belongs to an account with a password" in text(response)
    mail = mails(app)[-1]
    assert mail.to == address and mail.subject == "Reset your password"
    assert "within 60 minutes" in mail.body
    return mail.link


def test_a_reset_sets_the_password_ends_the_other_sessions_and_signs_in(app, client):
    other, user = signed_in(app)  # the same account on another device
    link = _reset_link(app, client, user.email)
    page = client.get(link, headers=EN)
    assert page.status_code == 200 and 'name="password"' in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    differ = client.post_form(link, {"password": "a-brand-new-one", "confirm": "another"},
                              headers=EN)
    assert differ.status_code == 422 and "The passwords differ" in text(differ)
    assert check_password_hash(_hash(app, user.id), PASSWORD)  # nothing changed yet
    response = client.post_form(link, NEW, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert check_password_hash(_hash(app, user.id), NEW["password"])
    assert client.get("/me").status_code == 200  # this one is signed in
    assert other.get("/me").status_code == 302  # the other device is not any more
    again = client.post_form(link, NEW, headers=EN)  # used once
    assert again.status_code == 410 and "has been used already" in text(again)
    fresh = app.test_client()
    assert fresh.post_form("/signin", {"email": user.email, "password": PASSWORD}).status_code == 422
    fresh.signin(user.email, NEW["password"])


def test_no_mail_for_an_unknown_address_or_an_account_without_password(app, client):
    UserFactory(email="nopass@example.com", password_hash="", signin_phone="+8613800138000")
    known = UserFactory(email="known@example.com")
    answers = [text(ask(client, "/password/forgot", f"{who}@example.com")).replace(who, "X")
               for who in ("nobody", "nopass")]
    assert answers[0] == answers[1] and "belongs to an account with a password" in answers[0]
    assert mails(app) == []
    _reset_link(app, client, known.email)
    assert len(mails(app)) == 1


def test_an_expired_reset_link_is_refused(app, client, monkeypatch):
    user = UserFactory()
    link = _reset_link(app, client, user.email)
    now = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(now()) + 61 * 60)
    response = client.post_form(link, NEW, headers=EN)
    assert response.status_code == 410 and "This link has expired" in text(response)
    assert 'href="/password/forgot"' in text(response)
    assert check_password_hash(_hash(app, user.id), PASSWORD)


def test_a_reset_link_dies_with_a_password_changed_meanwhile(app, client):
    user = UserFactory()
    link = _reset_link(app, client, user.email)
    signed = app.test_client()
    signed.signin(user.email)
    assert signed.post_form("/me/password", {"current": PASSWORD, "password": "changed-meanwhile",
                                             "confirm": "changed-meanwhile"}).status_code == 302
    response = client.post_form(link, NEW, headers=EN)
    assert response.status_code == 410
    assert check_password_hash(_hash(app, user.id), "changed-meanwhile")


def test_a_disabled_account_gets_no_reset_and_cannot_use_one(app, client):
    user = UserFactory()
    link = _reset_link(app, client, user.email)
    with app.test_request_context():
        services.set_active(db.session.get(User, user.id), False)
        db.session.commit()
    response = client.post_form(link, NEW, headers=EN)
    assert response.status_code == 403 and "This account is disabled" in text(response)
    assert check_password_hash(_hash(app, user.id), PASSWORD)
    app.config["EMAIL_LINK_RATE_LIMIT"] = "10 per minute"
    assert ask(client, "/password/forgot", user.email).status_code == 200
    assert len(mails(app)) == 1
