import re
"""Signing in or up with a phone number and a one-time code (shop.accounts.phone, sms)."""

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from shop.accounts import phone as service
from shop.accounts import services, sms
from shop.accounts.models import PhoneCode, User
from shop.db import db, utcnow
from tests.factories import PhoneCodeFactory, UserFactory

NUMBER = "+8613800138000"

EN = {"Accept-Language": "en"}


def _sms(app) -> list[str]:
    """The text messages in the outbox, oldest first."""
    return [p.read_text(encoding="utf-8")
            for p in sorted(Path(app.config["MAIL_OUTBOX"]).glob("*-sms-*.txt"))]


def _scalar(app, statement):
    with app.test_request_context(headers=EN):  # messages read in English
        return db.session.scalar(statement)


def _code_in(message: str) -> str:
    import re

    return re.search(r"\b(\d{6})\b", message).group(1)


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+86 138-0013-8000",
                                   "+8613800138000", "８６１３８００１３８０００"[2:],
                                   "＋８６ １３８００１３８０００", " 0086 13800138000 "])
def test_mainland_numbers_are_kept_in_e164(app, typed):
    with app.test_request_context(headers=EN):  # messages read in English
        assert service.normalise_phone(typed) == NUMBER


def test_an_international_number_keeps_its_country(app):
    with app.test_request_context(headers=EN):  # messages read in English
        assert service.normalise_phone("+44 7911 123456") == "+447911123456"
        assert service.normalise_phone("+1 (415) 555-2671") == "+14155552671"


@pytest.mark.parametrize("typed", ["", "12345", "1380013800", "138001380001", "abc",
                                   "+999 123456", "4412345678"])
def test_a_malformed_number_is_refused(app, typed):
    with app.test_request_context(headers=EN):  # messages read in English
        with pytest.raises(service.PhoneError) as refused:
            service.normalise_phone(typed)
    assert refused.value.field == "phone"


# --- codes ------------------------------------------------------------------------------


def test_a_code_is_stored_hashed_and_sent_after_the_commit(app):
    with app.test_request_context(headers=EN):  # messages read in English
        assert service.request_code("138 0013 8000", "10.0.0.1") == NUMBER
        assert _sms(app) == []  # nothing sent inside the transaction
        db.session.commit()
        from shop.jobs import run_inline
        run_inline()
    with app.test_request_context(headers=EN):  # messages read in English
        (row,) = db.session.scalars(select(PhoneCode)).all()
    (message,) = _sms(app)
    code = _code_in(message)
    assert message.startswith(f"To: {NUMBER}")
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=5) and row.used_at is None


def _issue(app, phone=NUMBER, address="10.0.0.1") -> str:
    """A code requested, committed and sent; the code read from the outbox."""
    from shop.jobs import run_inline

    with app.test_request_context(headers=EN):  # messages read in English
        service.request_code(phone, address)
        db.session.commit()
        run_inline()
    return _code_in(_sms(app)[-1])


def test_the_right_code_makes_an_account_without_password_or_email(app):
    code = _issue(app)
    with app.test_request_context(headers=EN):  # messages read in English
        signed = service.verify_code("13800138000", code)
        db.session.commit()
        user = db.session.get(User, signed.user.id)
        assert signed.created and user.signin_phone == NUMBER and user.email is None
        assert user.password_hash == "" and not user.has_password
        assert re.fullmatch(r"用户\d{4}", user.nickname) and user.active  # not the number's
        assert db.session.scalar(select(PhoneCode.used_at)) is not None


def test_the_right_code_signs_in_the_account_of_the_number(app):
    user = UserFactory(signin_phone=NUMBER)
    code = _issue(app)
    with app.test_request_context(headers=EN):  # messages read in English
        signed = service.verify_code(NUMBER, code)
        assert (signed.user.id, signed.created) == (user.id, False)
        assert db.session.scalar(select(func.count(User.id))) == 1


def _refused(app, phone, code, expected):
    with app.test_request_context(headers=EN):  # messages read in English
        with pytest.raises(service.PhoneError, match=expected):
            service.verify_code(phone, code)
        db.session.rollback()


def test_a_wrong_code_is_refused_and_the_right_one_still_works(app):
    code = _issue(app)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    _refused(app, NUMBER, wrong, "wrong or has expired")
    assert _scalar(app, select(func.count(User.id))) == 0
    assert _scalar(app, select(PhoneCode.used_at)) is None
    with app.test_request_context(headers=EN):  # messages read in English
        assert service.verify_code(NUMBER, code).created


def test_a_few_wrong_tries_burn_the_code(app):
    code = _issue(app)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for _ in range(5):
        _refused(app, NUMBER, wrong, "wrong or has expired")
    _refused(app, NUMBER, code, "Too many wrong codes")
    assert _scalar(app, select(func.count(User.id))) == 0


def test_an_expired_code_is_refused(app):
    PhoneCodeFactory(code="654321", created_at=utcnow() - timedelta(minutes=6))
    _refused(app, NUMBER, "654321", "wrong or has expired")
    assert _scalar(app, select(func.count(User.id))) == 0


def test_a_used_code_is_refused_the_second_time(app):
    code = _issue(app)
    with app.test_request_context(headers=EN):  # messages read in English
        service.verify_code(NUMBER, code)
        db.session.commit()
    _refused(app, NUMBER, code, "wrong or has expired")
    assert _scalar(app, select(func.count(User.id))) == 1


def test_a_new_code_replaces_the_earlier_one(app):
    PhoneCodeFactory(code="654321")
    _issue(app)
    _refused(app, NUMBER, "654321", "wrong or has expired")


def test_a_code_for_another_number_does_not_work(app):
    code = _issue(app)
    _refused(app, "+8613900139000", code, "wrong or has expired")


def test_a_disabled_account_cannot_sign_in_by_code(app):
    UserFactory(signin_phone=NUMBER, active=False)
    code = _issue(app)
    _refused(app, NUMBER, code, "disabled")
    assert _scalar(app, select(PhoneCode.used_at)) is None


def test_an_account_without_password_cannot_sign_in_by_password(app):
    user = UserFactory(password_hash="", signin_phone=NUMBER)
    with app.test_request_context(headers=EN):  # messages read in English
        for password in ("", "x", "not-a-password"):
            assert services.authenticate(user.email, password) is None
        with pytest.raises(services.AccountError, match="no password"):
            services.change_password(user, "", "a-new-password")


# --- limits -----------------------------------------------------------------------------


def test_codes_per_number_are_limited(app):
    _issue(app)
    with app.test_request_context(headers=EN):  # messages read in English
        with pytest.raises(service.PhoneError, match="Too many codes") as refused:
            service.request_code(NUMBER, "10.0.0.2")
        db.session.rollback()
    assert 0 < refused.value.retry_after <= 60
    assert _scalar(app, select(func.count(PhoneCode.id))) == 1 and len(_sms(app)) == 1


def test_codes_per_address_are_limited(app):
    for n in range(5):
        _issue(app, phone=f"+861380013800{n}")
    with app.test_request_context(headers=EN):  # messages read in English
        with pytest.raises(service.PhoneError, match="Too many codes"):
            service.request_code("+8613800138009", "10.0.0.1")
        db.session.rollback()
        service.request_code("+8613800138008", "10.0.0.2")  # another address may
    assert len(_sms(app)) == 5


def test_an_address_past_its_limit_uses_nothing_of_the_numbers(app):
    """Refused for its address, a request leaves the number's count alone: its owner,
    elsewhere, still gets a code."""
    for n in range(5):
        _issue(app, phone=f"+861380013800{n}", address="10.0.0.1")
    with app.test_request_context(headers=EN):
        for _ in range(3):
            with pytest.raises(service.PhoneError, match="Too many codes"):
                service.request_code("+8613900139000", "10.0.0.1")
            db.session.rollback()
    _issue(app, phone="+8613900139000", address="10.0.0.2")
    assert len(_sms(app)) == 6


def test_codes_in_all_are_capped(app):
    app.config["PHONE_CODE_DAILY_CAP"] = "2 per day"
    _issue(app, phone="+8613800138001", address="10.0.0.1")
    _issue(app, phone="+8613800138002", address="10.0.0.2")
    with app.test_request_context(headers=EN):  # messages read in English
        with pytest.raises(service.PhoneError, match="Too many codes"):
            service.request_code("+8613800138003", "10.0.0.3")
    assert len(_sms(app)) == 2


# --- the SMS gateway --------------------------------------------------------------------


class _Gateway(BaseHTTPRequestHandler):
    seen: list = []
    status = 201

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, self.headers["Authorization"], parse_qs(body.decode())))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"sid": "SM123", "status": "queued"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.seen, _Gateway.status = [], 201
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_twilio_adapter_posts_the_message(app, gateway):
    app.config.update(SMS_PROVIDER="twilio", SMS_API_BASE=f"http://127.0.0.1:{gateway.server_port}",
                      SMS_ACCOUNT_SID="AC42", SMS_AUTH_TOKEN="tok", SMS_FROM="+15005550006")
    with app.test_request_context(headers=EN):  # messages read in English
        sms.send_code(NUMBER, "123456")
    ((path, auth, form),) = _Gateway.seen
    assert path == "/2010-04-01/Accounts/AC42/Messages.json"
    assert auth == "Basic " + base64.b64encode(b"AC42:tok").decode()
    assert form["To"] == [NUMBER] and form["From"] == ["+15005550006"]
    assert "123456" in form["Body"][0]
    assert _sms(app) == []


def test_twilio_adapter_fails_on_a_refusal(app, gateway):
    _Gateway.status = 401
    app.config.update(SMS_PROVIDER="twilio", SMS_API_BASE=f"http://127.0.0.1:{gateway.server_port}",
                      SMS_ACCOUNT_SID="AC42", SMS_AUTH_TOKEN="bad")
    with app.test_request_context(headers=EN):  # messages read in English
        with pytest.raises(sms.SmsError, match="401"):
            sms.send_code(NUMBER, "123456")


# --- the page ---------------------------------------------------------------------------



def _send(client, number="138 0013 8000", **extra):
    return client.post_form("/signin/phone", {"phone": number, **extra}, headers=EN)


def _enter(client, code, number=NUMBER, **extra):
    return client.post_form("/signin/phone/code", {"phone": number, "code": code, **extra},
                            headers=EN)


def test_the_sign_in_page_links_to_the_phone_page(client):
    html = client.get("/signin?next=/cart", headers=EN).get_data(as_text=True)
    assert 'href="/signin/phone?next=/cart"' in html
    page = client.get("/signin/phone?next=/cart", headers=EN).get_data(as_text=True)
    assert 'name="phone"' in page and 'value="/cart"' in page


def test_the_whole_flow_makes_an_account_and_lands_on_next(app, client):
    response = _send(client, next="/cart")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "We sent a 6-digit code to 138 0013 8000" in html
    assert f'name="phone" type="hidden" value="{NUMBER}"' in html and 'name="code"' in html
    code = _code_in(_sms(app)[-1])
    response = _enter(client, code, next="/cart")
    assert response.status_code == 302 and response.headers["Location"] == "/cart"
    me = client.get("/me", headers=EN).get_data(as_text=True)
    assert "8000" in me and 'data-testid="no-password"' in me and "/me/password" not in me
    assert _scalar(app, select(User.signin_phone)) == NUMBER


def test_a_known_number_lands_on_its_home_and_sessions_work(app, client):
    user = UserFactory(signin_phone=NUMBER)
    _send(client)
    response = _enter(client, _code_in(_sms(app)[-1]))
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    client.post_form("/signout")  # ends every session of the account, as for passwords
    assert client.get("/me").status_code == 302
    assert _scalar(app, select(func.count(User.id))) == 1
    assert _scalar(app, select(User.session_version).where(User.id == user.id)) == 1


def test_the_send_step_says_the_same_for_known_and_unknown_numbers(app, client):
    UserFactory(signin_phone="+8613800138001")
    known = _send(client, "13800138001").get_data(as_text=True)
    unknown = _send(client, "13800138002").get_data(as_text=True)
    strip = lambda html, n: html.replace(n, "N").replace(  # noqa: E731
        "138 0013 800" + n[-1], "N")
    # CSRF tokens (in fields and in hx-headers) carry the second they were signed at
    token = re.compile(r'"[\w.-]{40,}"')
    assert token.sub("", strip(known, "+8613800138001")) == token.sub("", strip(unknown, "+8613800138002"))
    assert len(_sms(app)) == 2


def test_a_malformed_number_is_a_form_error_and_sends_nothing(app, client):
    response = _send(client, "12345")
    assert response.status_code == 422 and "Enter a valid mobile number" in response.get_data(as_text=True)
    assert _scalar(app, select(func.count(PhoneCode.id))) == 0 and _sms(app) == []


def test_a_wrong_code_on_the_page_changes_nothing(app, client):
    _send(client)
    code = _code_in(_sms(app)[-1])
    response = _enter(client, f"{(int(code) + 1) % 10 ** 6:06d}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "The code is wrong or has expired" in html
    assert 'name="code"' in html and f'value="{NUMBER}"' in html  # the number is kept
    assert "sent a 6-digit code to 138 0013 8000" in html  # as written at home
    assert _scalar(app, select(func.count(User.id))) == 0
    assert _scalar(app, select(PhoneCode.used_at)) is None
    assert client.get("/me").status_code == 302
    assert _enter(client, "12ab").status_code == 422


def test_a_reused_code_on_the_page_is_refused(app, client):
    _send(client)
    code = _code_in(_sms(app)[-1])
    assert _enter(client, code).status_code == 302
    client.post_form("/signout")
    response = _enter(client, code)
    assert response.status_code == 422 and "wrong or has expired" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_too_many_codes_for_a_number_is_429_saying_when(app, client):
    _send(client)
    response = _send(client)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60
    assert "Try again in 1 min" in response.get_data(as_text=True)
    assert len(_sms(app)) == 1 and _scalar(app, select(func.count(PhoneCode.id))) == 1


def test_a_new_code_asked_too_soon_keeps_the_code_already_sent(app, client):
    _send(client)
    for headers in (EN, {**EN, "HX-Request": "true"}):  # the page, and the sheet
        again = client.post_form("/signin/phone", {"phone": "13800138000"}, headers=headers)
        html = again.get_data(as_text=True)
        assert again.status_code == 429 and "Try again in 1 min" in html
        assert 'name="code"' in html and "sent a 6-digit code to 138 0013 8000" in html
    other = app.test_client()  # a visitor who did not ask: nothing of others' codes
    html = _send(other).get_data(as_text=True)
    assert "Try again in 1 min" in html and 'name="code"' not in html
    assert _enter(client, _code_in(_sms(app)[-1])).status_code == 302
    assert len(_sms(app)) == 1


def test_the_code_is_texted_in_the_language_of_the_page(app, client):
    _send(client)
    assert "is your sign-in code" in _sms(app)[-1]


def test_a_disabled_account_is_refused_on_the_page(app, client):
    UserFactory(signin_phone=NUMBER, active=False)
    _send(client)
    response = _enter(client, _code_in(_sms(app)[-1]))
    assert response.status_code == 422 and "disabled" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_posts_need_the_csrf_token(app, client):
    assert client.post("/signin/phone", data={"phone": "13800138000"}).status_code in (400, 422)
    assert _sms(app) == []


def test_an_account_without_password_is_refused_by_the_password_form(app, client):
    from tests.factories import PASSWORD

    user = UserFactory(password_hash="", signin_phone=NUMBER)
    for password in ("", PASSWORD):
        response = client.post_form("/signin", {"email": user.email, "password": password},
                                    headers=EN)
        assert response.status_code == 422
    assert client.get("/me").status_code == 302
