"""An address typed at /register is proven by a link sent to it (users.email_verified_at);
proving it removes the ways in set before, so registering someone else's address first
(an account pre-hijacking) gives no way into the account its owner then uses."""

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text as sql, update
from werkzeug.security import check_password_hash

from shop.accounts import passkeys, services
from shop.accounts.models import Passkey, User
from shop.db import db
from tests.accounts.mailbox import EN, ask, mails, text
from tests.factories import PASSWORD, PasskeyFactory, UserFactory

VICTIM = "victim@example.com"


def _user(app, user_id: int) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def _register(client, address: str = VICTIM, password: str = "attackers-pass"):
    response = client.post_form("/register", {"email": address, "nickname": "注册者",
                                              "password": password, "confirm": password},
                                headers=EN)
    assert response.status_code == 302, text(response)
    return response


def _registered(app, address: str = VICTIM) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == address))


def test_a_pre_registered_password_and_passkey_go_once_the_owner_signs_in_by_link(app):
    attacker, victim = app.test_client(), app.test_client()
    _register(attacker)
    user = _registered(app)
    assert user.email_verified_at is None
    PasskeyFactory(user_id=user.id)
    (confirm,) = mails(app)  # the confirmation went to the address's owner
    assert confirm.to == VICTIM and confirm.subject == "Confirm your email address"
    assert "Did someone else make this account with your address?" in confirm.body
    # its owner cannot confirm the registrant's account without signing in to it
    page = victim.get(confirm.link, headers=EN)
    assert page.status_code == 200 and "sign in to its account on this device first" in text(page)
    assert f'href="/signin?next={confirm.link}"' in text(page)
    refused = victim.post_form(confirm.link, headers=EN)
    assert refused.status_code == 403 and "Sign in to confirm" in text(refused)
    assert _user(app, user.id).email_verified_at is None
    # the owner signs in by a link: the address is proven, the registrant's ways in gone
    app.config["EMAIL_LINK_RATE_LIMIT"] = "2 per minute"  # the confirmation was one
    assert ask(victim, "/signin/email", VICTIM).status_code == 200
    response = victim.post_form(mails(app)[-1].link, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    me = text(victim.get("/me", headers=EN))
    assert ("Your email is confirmed. A password set before you confirmed it has been removed; "
            "set a new one from your account page.") in me
    assert "1 passkey added before you confirmed your email has been removed." in me
    assert "unconfirmed" not in me and 'href="/me/password/set"' in me
    owned = _user(app, user.id)
    assert owned.email_verified_at is not None and owned.password_hash == ""
    with app.app_context():
        assert db.session.scalar(select(func.count(Passkey.id))) == 0
    assert attacker.get("/me").status_code == 302  # the registrant's session ended
    wrong = attacker.post_form("/signin", {"email": VICTIM, "password": "attackers-pass"},
                               headers=EN)
    assert wrong.status_code == 422 and "The email or password is wrong." in text(wrong)
    assert victim.post_form(confirm.link, headers=EN).status_code == 410  # proven already


def test_a_reset_link_on_an_unproven_account_replaces_its_password_and_ends_sessions(app):
    user = UserFactory(email=VICTIM, email_verified_at=None)
    registrant, owner = app.test_client(), app.test_client()
    registrant.signin(VICTIM)
    ask(owner, "/password/forgot", VICTIM)
    response = owner.post_form(mails(app)[-1].link, {"password": "owners-own-pass",
                                                     "confirm": "owners-own-pass"}, headers=EN)
    assert response.status_code == 302
    assert "Your new password replaces the one set before you confirmed it" in text(
        owner.get("/me", headers=EN))
    reset = _user(app, user.id)
    assert reset.email_verified_at is not None
    assert check_password_hash(reset.password_hash, "owners-own-pass")
    assert registrant.get("/me").status_code == 302
    assert registrant.post_form("/signin", {"email": VICTIM, "password": PASSWORD}
                                ).status_code == 422


def test_a_request_begun_before_the_address_was_proven_adds_no_way_in_after(app):
    """The registrant's new password or passkey racing the owner's link: a way in is
    added only while the session asking for it is still the account's."""
    user = UserFactory(email=VICTIM, email_verified_at=None)
    with app.test_request_context(), force_locale("en"):
        stale = db.session.get(User, user.id)  # as the registrant's request loaded it
        db.session.execute(update(User).where(User.id == user.id)  # the owner's link, meanwhile
                           .values(session_version=User.session_version + 1)
                           .execution_options(synchronize_session=False))
        with pytest.raises(services.AccountError, match="changed meanwhile"):
            services.change_password(stale, PASSWORD, "registrants-new")
        with pytest.raises(passkeys.PasskeyError, match="changed meanwhile"):
            passkeys.register(stale, None, {}, "{}")
        db.session.rollback()
        assert check_password_hash(db.session.get(User, user.id).password_hash, PASSWORD)


def test_the_registrant_confirms_signed_in_and_a_link_then_leaves_the_password(app, client):
    _register(client, "ann@example.com", "anns-password")
    user = _registered(app, "ann@example.com")
    me = text(client.get("/me", headers=EN))
    assert "We sent a link to ann@example.com. Open it within 24 hours to confirm your email." in me
    assert 'data-testid="email-unconfirmed"' in me and "Send the confirmation again" in me
    link = mails(app)[-1].link
    page = client.get(link, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and '<html lang="zh-Hans">' in text(page)
    assert "Confirm ann@example.com as your account's email?" in text(client.get(link, headers=EN))
    response = client.post_form(link, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    confirmed = _user(app, user.id)
    assert confirmed.email_verified_at is not None
    assert "unconfirmed" not in text(client.get("/me", headers=EN))
    # a proven address: a sign-in link leaves the password and the session alone
    other = app.test_client()
    app.config["EMAIL_LINK_RATE_LIMIT"] = "2 per minute"  # the confirmation was one
    assert ask(other, "/signin/email", "ann@example.com").status_code == 200
    assert other.post_form(mails(app)[-1].link, headers=EN).status_code == 302
    assert _user(app, user.id).password_hash == confirmed.password_hash
    assert client.get("/me").status_code == 200
    app.test_client().signin("ann@example.com", "anns-password")


def test_sending_the_confirmation_again_is_limited(app, client):
    app.config["EMAIL_LINK_RATE_LIMIT"] = "2 per minute"
    _register(client, "ann@example.com")  # the first mail
    again = client.post_form("/me/email/confirm", headers=EN)
    assert again.status_code == 302 and len(mails(app)) == 2
    refused = client.post_form("/me/email/confirm", headers=EN)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many emails asked for. Try again in 1 min." in text(refused)
    zh = client.get("/me", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200 and 'data-testid="resend-confirmation"' in text(zh)
    assert len(mails(app)) == 2
    assert client.post("/me/email/confirm").status_code == 400  # CSRF
    UserFactory(email="bob@example.com")  # proven
    proven = app.test_client()
    proven.signin("bob@example.com")
    assert proven.post_form("/me/email/confirm").headers["Location"] == "/me"
    assert len(mails(app)) == 2


def test_the_migration_proves_only_addresses_that_only_a_link_could_have_put_there(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="e3c7a1b5d9f4")
        for n, (email, password_hash, phone) in enumerate((
                ("link@example.com", "", None),  # made by a sign-in link
                ("typed@example.com", "x", None),  # registered
                ("added@example.com", "x", "+8613800138000"),  # by phone, email confirmed
                (None, "", "+8613800138001")), start=1):
            db.session.execute(sql(
                "INSERT INTO users (id, email, password_hash, signin_phone, nickname, role, "
                "active, created_at, updated_at, can_publish, referral_code) VALUES (:id, "
                ":email, :hash, :phone, 'n', 'shopper', true, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, false, :code)"),
                {"id": n, "email": email, "hash": password_hash, "phone": phone,
                 "code": f"ABCDEFG{n}"})
        db.session.commit()
        upgrade()
        proven = {user.id: user.email_verified_at is not None
                  for user in db.session.scalars(select(User))}
        db.session.rollback()
    assert proven == {1: True, 2: False, 3: True, 4: False}
