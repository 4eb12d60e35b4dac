"""On a phone (390x844), Chromium with a virtual authenticator (the DevTools protocol's
WebAuthn domain: CTAP2, built in, holding resident keys, verifying its user): a signed-in
shopper adds a passkey from the account page, signs out, and signs back in with it, no
email, number or password typed. The shop is opened as http://localhost:<port>: WebAuthn
refuses an IP address as the relying party, and counts localhost as a secure context."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from shop.accounts.models import Passkey
from shop.db import db
from tests.conftest import PHONE, assert_accessible
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e


def test_a_shopper_adds_a_passkey_then_signs_in_with_it(app, live_server, phone):
    user = UserFactory(nickname="小王")
    shop = live_server.url.replace("127.0.0.1", "localhost")
    page = phone(locale="en")
    assert page.viewport_size == PHONE["viewport"]
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})["authenticatorId"]

    page.goto(f"{shop}/signin?next=/me")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/me")
    page.get_by_role("link", name="Passkeys").click()
    page.get_by_label("Name (optional)").fill("My phone")
    assert_accessible(page)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_test_id("passkeys")).to_contain_text("My phone")
    (held,) = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert held["isResidentCredential"]
    with app.app_context():
        (kept,) = db.session.scalars(select(Passkey)).all()
    assert kept.user_id == user.id and kept.name == "My phone"

    page.goto(f"{shop}/me")
    page.get_by_test_id("signout-everywhere").click()
    page.goto(f"{shop}/signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url("**/me")
    expect(page.get_by_role("heading", name="小王")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Passkey.last_used_at)) is not None
