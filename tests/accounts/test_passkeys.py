"""Passkeys (shop.accounts.passkeys): added on the account page, signing in without an
email, a number or a password; every refusal leaves everything as it was. The answers
come from a software authenticator (tests/accounts/soft_authenticator.py); the browser
test (tests/e2e/test_passkey_browser.py) uses Chromium's virtual one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from webauthn import base64url_to_bytes

from shop.accounts import passkeys as service
from shop.accounts import services
from shop.accounts.models import Passkey, User
from shop.db import db, utcnow
from shop.signals import account_closing
from tests.accounts.soft_authenticator import UP, Credential, SoftAuthenticator
from tests.conftest import signed_in
from tests.factories import PasskeyFactory

EN = {"Accept-Language": "en"}
ORIGIN = "http://localhost"  # the test client's host: an RP ID WebAuthn accepts


def _options(client, url: str, data: dict | None = None) -> dict:
    response = client.post(url, data=data or {}, headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def _add(client, phone: SoftAuthenticator, name: str = "", **forge):
    options = _options(client, "/me/passkeys/options", {"name": name})
    return client.post_form("/me/passkeys", {"credential": phone.create(options, ORIGIN, **forge)},
                            headers=EN)


def _sign_in(client, phone: SoftAuthenticator, next_url: str = "", origin: str = ORIGIN, **forge):
    options = _options(client, "/signin/passkey/options")
    return client.post_form("/signin/passkey", {"credential": phone.get(options, origin, **forge),
                                                "next": next_url}, headers=EN)


def _who(client) -> int | None:
    """The id of the account the client is signed in to, or None."""
    with client.session_transaction() as session:
        user = session.get("_user_id")
    return int(user.split(".")[0]) if user else None


def _passkeys(app) -> list[tuple]:
    with app.app_context():
        return [(p.user_id, p.credential_id, p.sign_count, p.last_used_at, p.name)
                for p in db.session.scalars(select(Passkey).order_by(Passkey.id))]


def _with_passkey(app, phone: SoftAuthenticator | None = None):
    """A signed-in shopper who has added a passkey held by `phone`."""
    phone = phone or SoftAuthenticator()
    client, account = signed_in(app)
    assert _add(client, phone).status_code == 302
    return client, account, phone


# --- adding one, signing in with it -------------------------------------------------------


def test_a_passkey_added_on_the_account_page_signs_in_without_email_or_password(app):
    client, user = signed_in(app)
    assert 'href="/me/passkeys"' in client.get("/me").get_data(as_text=True)
    phone = SoftAuthenticator()
    options = _options(client, "/me/passkeys/options", {"name": "我的手机"})
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    # the handle the phone keeps is 32 random bytes, not the account's id or email
    assert len(base64url_to_bytes(options["user"]["id"])) == 32 and options["user"]["name"] == user.email
    added = client.post_form("/me/passkeys", {"credential": phone.create(options, ORIGIN)},
                             headers=EN)
    assert added.status_code == 302 and added.location == "/me/passkeys"
    page = client.get("/me/passkeys", headers=EN).get_data(as_text=True)
    assert "我的手机" in page and "Passkey added" in page and "not used yet" in page
    ((owner, credential_id, count, used, name),) = _passkeys(app)
    assert (owner, count, used, name) == (user.id, 0, None, "我的手机")
    # a second one goes under the same user handle, and not on the same phone again
    options = _options(client, "/me/passkeys/options")
    assert base64url_to_bytes(options["user"]["id"]) == phone.credentials[0].user_handle
    assert options["excludeCredentials"] == [{"id": credential_id, "type": "public-key",
                                              "transports": ["internal"]}]

    visitor = app.test_client()
    signed = _sign_in(visitor, phone, next_url="/cart")
    assert signed.status_code == 302 and signed.location == "/cart"
    assert _who(visitor) == user.id
    (row,) = _passkeys(app)
    assert row[3] is not None  # last used
    with app.app_context():
        assert db.session.get(User, user.id).last_signin_at is not None
    assert _sign_in(app.test_client(), phone).location == "/me"  # no page to go back to


@pytest.mark.pages
def test_the_sign_in_pages_offer_a_passkey_only_where_webauthn_can_work(app, client):
    for url in ("/signin", "/signin/phone"):
        html = client.get(url).get_data(as_text=True)
        # hidden until static/js/passkeys.js finds WebAuthn in the browser
        assert 'data-passkey="signin"' in html and "js/passkeys.js" in html
        assert 'action="/signin/passkey"' in html
    # WebAuthn refuses an IP address as RP ID: no passkey button at 127.0.0.1
    html = client.get("/signin", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    assert 'data-passkey' not in html and 'name="password"' in html
    app.config["WEBAUTHN_RP_ID"] = "shop.example.com"
    html = client.get("/signin", base_url="http://127.0.0.1:5000").get_data(as_text=True)
    assert 'data-passkey="signin"' in html


@pytest.mark.pages
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_passkeys_page_in_both_languages(app, lang):
    client, user = signed_in(app)
    PasskeyFactory(user_id=user.id, name="我的手机")
    html = client.get("/me/passkeys", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert "我的手机" in html and 'data-passkey="register"' in html
    assert ("通行密钥" in html) == (lang == "zh-CN")


# --- refusals -----------------------------------------------------------------------------


def test_a_passkey_of_another_account_signs_nobody_in(app):
    client_a, user_a, phone_a = _with_passkey(app)
    client_b, user_b, phone_b = _with_passkey(app)
    before = _passkeys(app)
    credential_a, credential_b = phone_a.credentials[0], phone_b.credentials[0]
    visitor = app.test_client()
    # B's passkey presenting A's user handle (a swapped handle)
    refused = _sign_in(visitor, phone_b, user_handle=credential_a.user_handle)
    assert refused.status_code == 422 and "could not be checked" in refused.get_data(as_text=True)
    # B's passkey id signed with A's key
    forged = Credential(credential_b.id, credential_a.key, "localhost", credential_b.user_handle)
    refused = _sign_in(visitor, phone_a, credential=forged)
    assert refused.status_code == 422 and _who(visitor) is None
    # adding B's passkey id to A's account
    refused = _add(client_a, SoftAuthenticator(), credential_id=credential_b.id)
    assert refused.status_code == 422 and "added already" in refused.get_data(as_text=True)
    # removing B's passkey from A's account
    b_id = next(i for i, row in enumerate(before, 1) if row[0] == user_b.id)
    assert client_a.post_form(f"/me/passkeys/{b_id}/remove").status_code == 404
    assert _passkeys(app) == before


def test_an_unknown_passkey_is_refused_with_a_way_out(app):
    _with_passkey(app)
    before = _passkeys(app)
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"}, ORIGIN)
    visitor = app.test_client()
    refused = _sign_in(visitor, stranger)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "not in use here any more" in html
    assert 'name="password"' in html and _who(visitor) is None and _passkeys(app) == before


def test_a_challenge_is_used_once_and_expires(app):
    _client, user, phone = _with_passkey(app)
    visitor = app.test_client()
    options = _options(visitor, "/signin/passkey/options")
    answer = phone.get(options, ORIGIN)
    session_cookie = visitor.get_cookie("session").value
    assert visitor.post_form("/signin/passkey", {"credential": answer}).status_code == 302
    used = _passkeys(app)
    # the same answer again in the session it was made in (its challenge is gone)...
    visitor.post_form("/signout")
    again = visitor.post_form("/signin/passkey", {"credential": answer}, headers=EN)
    assert again.status_code == 422 and "not found" in again.get_data(as_text=True)
    # ...and with the cookie saved before it was used, challenge and all
    replay = app.test_client()
    replay.set_cookie("session", session_cookie)
    refused = replay.post("/signin/passkey", data={"credential": answer,
                                                   "csrf_token": replay.csrf_token()}, headers=EN)
    assert refused.status_code == 422 and _who(replay) is None
    assert _passkeys(app) == used
    # no challenge asked for; a challenge for adding a passkey; one past its time
    assert visitor.post_form("/signin/passkey", {"credential": answer}).status_code == 422
    late = app.test_client()
    options = _options(late, "/signin/passkey/options")
    with late.session_transaction() as session:
        issued = session[service.SESSION_KEY]
        issued["issued_at"] = (utcnow() - timedelta(seconds=service.CHALLENGE_SECONDS + 1)).isoformat()
        session[service.SESSION_KEY] = issued
    refused = late.post_form("/signin/passkey", {"credential": phone.get(options, ORIGIN)}, headers=EN)
    assert refused.status_code == 422 and "expired" in refused.get_data(as_text=True)
    assert _passkeys(app) == used and _who(late) is None


def test_a_disabled_account_is_refused(app):
    _client, user, phone = _with_passkey(app)
    with app.test_request_context():
        services.set_active(db.session.get(User, user.id), False)
        db.session.commit()
    before = _passkeys(app)
    visitor = app.test_client()
    refused = _sign_in(visitor, phone)
    assert refused.status_code == 422 and "disabled" in refused.get_data(as_text=True)
    assert _who(visitor) is None and _passkeys(app) == before


@pytest.mark.parametrize("forge, origin", [({"flags": UP}, ORIGIN),  # the user not verified
                                           ({}, "http://evil.example")])  # another site's page
def test_an_answer_that_does_not_check_out_is_refused(app, forge, origin):
    _client, _user, phone = _with_passkey(app)
    before = _passkeys(app)
    visitor = app.test_client()
    refused = _sign_in(visitor, phone, origin=origin, **forge)
    assert refused.status_code == 422 and "could not be checked" in refused.get_data(as_text=True)
    assert _who(visitor) is None and _passkeys(app) == before


def test_a_sign_count_that_goes_back_is_refused(app):
    """An authenticator that counts must count up (else it may be a clone): refused, as
    py_webauthn does and the spec advises; the count kept is the last good one."""
    _client, _user, phone = _with_passkey(app, SoftAuthenticator(counting=True))
    for _ in range(2):
        assert _sign_in(app.test_client(), phone).status_code == 302
    assert _passkeys(app)[0][2] == 2
    visitor = app.test_client()
    assert _sign_in(visitor, phone, count=2).status_code == 422
    assert _sign_in(visitor, phone, count=1).status_code == 422
    assert _who(visitor) is None and _passkeys(app)[0][2] == 2


def test_a_name_is_checked_before_anything_is_made(app):
    client, _user = signed_in(app)
    refused = client.post("/me/passkeys/options", data={"name": "手机\u202egnp"},
                          headers={"X-CSRFToken": client.csrf_token(), **EN})
    assert refused.status_code == 422 and "invisible" in refused.get_json()["error"]
    with client.session_transaction() as session:
        assert service.SESSION_KEY not in session  # no challenge: nothing can be added
    assert client.post_form("/me/passkeys", {"credential": "{}"}).status_code == 422
    assert client.post("/me/passkeys/options").status_code == 400  # no CSRF token
    assert _passkeys(app) == []


# --- removing one; closing the account ----------------------------------------------------


def test_only_the_owner_removes_a_passkey_and_it_no_longer_signs_in(app):
    owner, user, phone = _with_passkey(app)
    other = PasskeyFactory()
    with app.app_context():
        mine_id = db.session.scalar(select(Passkey.id).where(Passkey.user_id == user.id))
    stranger, _stranger_user = signed_in(app)
    assert stranger.post_form(f"/me/passkeys/{mine_id}/remove").status_code == 404
    assert app.test_client().post_form(f"/me/passkeys/{mine_id}/remove").status_code == 302  # to sign in
    assert owner.post_form(f"/me/passkeys/{other.id}/remove").status_code == 404
    assert len(_passkeys(app)) == 2
    removed = owner.post_form(f"/me/passkeys/{mine_id}/remove", headers=EN)
    assert removed.status_code == 302
    assert "Passkey removed" in owner.get("/me/passkeys", headers=EN).get_data(as_text=True)
    assert [p[0] for p in _passkeys(app)] == [other.user_id]
    refused = _sign_in(app.test_client(), phone)
    assert refused.status_code == 422 and "not in use here any more" in refused.get_data(as_text=True)


def test_a_closing_account_loses_its_passkeys(app):
    _client, user, _phone = _with_passkey(app)
    other = PasskeyFactory()
    with app.test_request_context():
        account_closing.send(db.session.get(User, user.id))
        db.session.commit()
    assert [p[0] for p in _passkeys(app)] == [other.user_id]
