"""Signing in (or up) by a link sent by email (shop.accounts.email_links), and a phone
account adding an email and a password from its page."""

import re
import time
from pathlib import Path

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from shop.accounts import email_links, services
from shop.accounts.models import User
from shop.db import db, utcnow
from tests.accounts.mailbox import EN, ask, mails, text
from tests.conftest import signed_in
from tests.factories import PASSWORD, UserFactory


def _user(app, **where) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).filter_by(**where))


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def _later(monkeypatch, minutes: int) -> None:
    """Tokens are read `minutes` from now (itsdangerous reads its clock here)."""
    now = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(now()) + minutes * 60)


def _link_for(app, client, address: str, **extra) -> str:
    response = ask(client, "/signin/email", address, **extra)
    assert response.status_code == 200, text(response)
    (mail,) = [m for m in mails(app) if m.to == address][-1:]
    return mail.link


@pytest.mark.pages
def test_the_sign_in_page_offers_the_link_and_the_reset(client):
    html = text(client.get("/signin?next=/cart", headers=EN))
    assert 'href="/signin/email?next=/cart"' in html and "Email me a sign-in link" in html
    assert 'href="/password/forgot"' in html and "Forgot password?" in html
    page = text(client.get("/signin/email?next=/cart", headers=EN))
    assert 'name="email"' in page and 'value="/cart"' in page


def test_a_link_signs_in_a_known_account_once_the_button_is_pressed(app, client):
    user = UserFactory(email="ann@example.com")
    response = ask(client, "/signin/email", "Ann@Example.com", next="/cart")
    assert "If ann@example.com can receive mail, a sign-in link is on its way" in text(response)
    (mail,) = mails(app)
    assert mail.to == "ann@example.com" and mail.subject == "Your sign-in link"
    assert "within 15 minutes" in mail.body and mail.link.startswith("/signin/email/")
    page = client.get(mail.link, headers=EN)  # opening it (or a mail scanner) changes nothing
    assert page.status_code == 200 and "Sign in as ann@example.com" in text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert _user(app, id=user.id).last_signin_at is None and client.get("/me").status_code == 302
    response = client.post_form(mail.link, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/cart"
    assert client.get("/me").status_code == 200
    assert _user(app, id=user.id).last_signin_at is not None


def test_a_link_for_an_unknown_address_makes_the_account_once(app, client):
    UserFactory(email="known@example.com")
    known = text(ask(client, "/signin/email", "known@example.com"))
    unknown = text(ask(client, "/signin/email", "new@example.com"))
    token = re.compile(r'"[\w.-]{40,}"')  # CSRF tokens, in fields and hx-headers (signed with their second)
    assert token.sub("", known.replace("known@", "X@")) == token.sub("", unknown.replace("new@", "X@"))
    mail = mails(app)[-1]
    assert mail.to == "new@example.com" and "an account is made for this address" in mail.body
    assert "No account for this address yet" in text(client.get(mail.link, headers=EN))
    assert _count(app) == 1  # nothing made by opening it
    response = client.post_form(mail.link, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    made = _user(app, email="new@example.com")
    assert made.password_hash == "" and made.signin_phone is None and made.active
    assert re.fullmatch(r"\D+ ?\d{4}", made.nickname)  # "用户1234": not the address
    client.post_form("/signout")
    again = client.post_form(mail.link, headers=EN)  # the account exists now: no longer fits
    assert again.status_code == 410 and "has been used already" in text(again)
    assert _count(app) == 2 and client.get("/me").status_code == 302


def test_a_link_used_twice_is_refused_the_second_time(app, client):
    UserFactory(email="ann@example.com")
    link = _link_for(app, client, "ann@example.com")
    assert client.post_form(link).status_code == 302
    client.post_form("/signout")
    for answer in (client.get(link, headers=EN), client.post_form(link, headers=EN)):
        assert answer.status_code == 410 and "Ask for a new one" in text(answer)
        assert 'href="/signin/email"' in text(answer)
    assert client.get("/me").status_code == 302


def test_a_link_after_a_password_change_is_refused(app, client):
    user = UserFactory(email="ann@example.com")
    link = _link_for(app, client, "ann@example.com")
    with app.test_request_context():
        services.change_password(db.session.get(User, user.id), PASSWORD, "another-password")
        db.session.commit()
    response = client.post_form(link, headers=EN)
    assert response.status_code == 410 and client.get("/me").status_code == 302


def test_an_expired_link_is_refused_and_changes_nothing(app, client, monkeypatch):
    user = UserFactory(email="ann@example.com")
    link = _link_for(app, client, "ann@example.com")
    _later(monkeypatch, 16)
    for answer in (client.get(link, headers=EN), client.post_form(link, headers=EN)):
        assert answer.status_code == 410 and "This link has expired" in text(answer)
    assert _user(app, id=user.id).last_signin_at is None and client.get("/me").status_code == 302


def test_a_tampered_link_or_one_of_another_kind_is_refused(app, client):
    user = UserFactory(email="ann@example.com")
    link = _link_for(app, client, "ann@example.com")
    token = link.rsplit("/", 1)[1]
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    with app.test_request_context():
        reset = email_links.make_token(email_links.RESET, db.session.get(User, user.id),
                                       "ann@example.com")
    for url in (forged, f"/signin/email/{reset}", f"/password/reset/{token}", "/signin/email/x"):
        answer = client.post_form(url, {"password": "a-new-password", "confirm": "a-new-password"},
                                  headers=EN)
        assert answer.status_code == 400 and "This link is not valid" in text(answer), url
    assert _user(app, id=user.id).last_signin_at is None and client.get("/me").status_code == 302


def test_a_disabled_account_gets_no_link_and_cannot_use_one(app, client):
    user = UserFactory(email="ann@example.com")
    link = _link_for(app, client, "ann@example.com")
    with app.test_request_context():
        services.set_active(db.session.get(User, user.id), False)
        db.session.commit()
    answer = client.post_form(link, headers=EN)
    assert answer.status_code == 403 and "This account is disabled" in text(answer)
    app.config["EMAIL_LINK_RATE_LIMIT"] = "10 per minute"
    assert "a sign-in link is on its way" in text(ask(client, "/signin/email", "ann@example.com"))
    assert len(mails(app)) == 1 and client.get("/me").status_code == 302


def test_a_link_of_an_account_closed_since_is_refused(app, client):
    user = UserFactory(email="ann@example.com")
    with app.test_request_context():
        token = email_links.make_token(email_links.SIGNIN, db.session.get(User, user.id),
                                       "ann@example.com")
        closed = db.session.get(User, user.id)
        closed.email, closed.active, closed.closed_at = None, False, utcnow()
        db.session.commit()
    answer = client.post_form(f"/signin/email/{token}", headers=EN)
    assert answer.status_code == 403 and "This account is closed" in text(answer)
    assert _count(app) == 1 and client.get("/me").status_code == 302


def test_links_per_address_are_limited(app, client):
    UserFactory(email="ann@example.com")
    _link_for(app, client, "ann@example.com")
    refused = ask(client, "/signin/email", "ann@example.com")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many emails asked for. Try again in 1 min." in text(refused)
    assert ask(client, "/password/forgot", "ann@example.com").status_code == 429  # one count
    assert len(mails(app)) == 1


def test_links_per_network_address_and_in_all_are_limited(app, client):
    app.config["EMAIL_LINK_DAILY_CAP"] = "6 per day"
    for n in range(5):
        assert ask(client, "/signin/email", f"u{n}@example.com").status_code == 200
    assert ask(client, "/signin/email", "u5@example.com").status_code == 429
    other = app.test_client()
    assert ask(other, "/signin/email", "u6@example.com",
               environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert ask(other, "/signin/email", "u7@example.com",
               environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 429
    assert len(mails(app)) == 6


def test_a_malformed_address_is_a_form_error_and_sends_nothing(app, client):
    response = ask(client, "/signin/email", "not-an-address")
    assert response.status_code == 422 and "Enter a valid email address" in text(response)
    assert mails(app) == []


def test_using_a_link_needs_the_csrf_token(app, client):
    UserFactory(email="ann@example.com")
    link = _link_for(app, client, "ann@example.com")
    assert client.post(link).status_code == 400 and client.get("/me").status_code == 302
    assert client.post_form(link).status_code == 302


# --- a phone account adds an email and a password -----------------------------------------


def _phone_signed_in(app, client) -> User:
    """A client signed in to an account made by phone (no email, no password)."""
    user = UserFactory(email=None, password_hash="", signin_phone="+8613800138000")
    client.post_form("/signin/phone", {"phone": "13800138000"}, headers=EN)
    sms = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*-sms-*.txt"))
    code = re.search(r"\b(\d{6})\b", sms[-1].read_text()).group(1)
    assert client.post_form("/signin/phone/code", {"phone": "+8613800138000", "code": code}
                            ).status_code == 302
    return user


def test_a_phone_account_adds_an_email_sets_a_password_and_signs_in_with_them(app, client):
    user = _phone_signed_in(app, client)
    me = text(client.get("/me", headers=EN))
    assert 'href="/me/email"' in me and "/me/password" not in me
    response = ask(client, "/me/email", "Ann@Example.com")
    assert "We sent a link to ann@example.com" in text(response)
    (mail,) = mails(app)
    assert mail.to == "ann@example.com" and "within 24 hours" in mail.body
    assert "Add ann@example.com to your account?" in text(client.get(mail.link, headers=EN))
    assert _user(app, id=user.id).email is None  # not before the button
    response = client.post_form(mail.link, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert _user(app, id=user.id).email == "ann@example.com"
    assert client.post_form(mail.link, headers=EN).status_code == 410  # once
    me = text(client.get("/me", headers=EN))
    assert 'href="/me/password/set"' in me and 'href="/me/email"' not in me
    short = client.post_form("/me/password/set", {"password": "short", "confirm": "short"},
                             headers=EN)
    assert short.status_code == 422 and _user(app, id=user.id).password_hash == ""
    assert client.post_form("/me/password/set", {"password": "my-new-password",
                                                 "confirm": "my-new-password"}).status_code == 302
    assert client.get("/me/password/set").headers["Location"] == "/me/password"
    client.post_form("/signout")
    client.signin("ann@example.com", "my-new-password")
    assert client.get("/me").status_code == 200


def test_a_password_needs_an_email_first(app, client):
    user = _phone_signed_in(app, client)
    page = text(client.get("/me/password/set", headers=EN))
    assert "add an email first" in page and 'name="password"' not in page
    response = client.post_form("/me/password/set", {"password": "my-new-password",
                                                     "confirm": "my-new-password"}, headers=EN)
    assert response.status_code == 422 and _user(app, id=user.id).password_hash == ""


def test_an_email_taken_meanwhile_is_refused(app, client):
    user = _phone_signed_in(app, client)
    ask(client, "/me/email", "ann@example.com")
    UserFactory(email="ann@example.com")
    response = client.post_form(mails(app)[-1].link, headers=EN)
    assert response.status_code == 409 and "belongs to another account" in text(response)
    assert _user(app, id=user.id).email is None


def test_an_account_with_an_email_cannot_add_another(app):
    client, user = signed_in(app)
    assert client.get("/me/email").headers["Location"] == "/me"
    with app.test_request_context():
        token = email_links.make_token(email_links.CONFIRM, db.session.get(User, user.id),
                                       "other@example.com")
    assert client.post_form(f"/me/email/confirm/{token}").status_code == 410
    assert _user(app, id=user.id).email == user.email


@pytest.mark.postgres
def test_parallel_uses_of_one_link_sign_in_once(app, live_server):
    from tests.concurrency.http import form_fields, post_answer, request, together

    user = UserFactory(email="ann@example.com")
    with app.test_request_context():
        token = email_links.make_token(email_links.SIGNIN, db.session.get(User, user.id),
                                       "ann@example.com")
    url = f"{live_server.url}/signin/email/{token}"
    status, html, cookie = request(url, "")
    assert status == 200
    form = form_fields(html, "csrf_token")
    answers = together([lambda: post_answer(url, cookie, form)] * 8)
    assert sorted(code for code, _body in answers) == [302] + [410] * 7


def test_every_page_of_the_links_renders_in_both_languages(app, client):
    user = UserFactory(email=None, password_hash="", signin_phone="+8613800138001")
    known = UserFactory(email="ann@example.com")
    with app.test_request_context():
        tokens = {kind: email_links.make_token(kind, db.session.get(User, who.id), address)
                  for kind, who, address in ((email_links.SIGNIN, known, "ann@example.com"),
                                             (email_links.RESET, known, "ann@example.com"),
                                             (email_links.CONFIRM, user, "new@example.com"))}
    urls = ["/signin/email", "/password/forgot", f"/signin/email/{tokens[email_links.SIGNIN]}",
            f"/password/reset/{tokens[email_links.RESET]}", "/signin/email/x",
            f"/me/email/confirm/{tokens[email_links.CONFIRM]}"]
    for language, mark in (("zh-CN", '<html lang="zh-Hans">'), ("en", '<html lang="en">')):
        for url in urls:
            response = client.get(url, headers={"Accept-Language": language})
            assert response.status_code in (200, 400) and mark in text(response), url
