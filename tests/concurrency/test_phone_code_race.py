"""Sign-in codes asked for in parallel against a live server: the per-number and
per-address limits are counted atomically, so exactly the limit is sent."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from shop.accounts.models import PhoneCode
from shop.db import db
from tests.concurrency.http import form_fields, post_answer, request, together

pytestmark = pytest.mark.postgres


def _page(live_server):
    status, html, cookie = request(f"{live_server.url}/signin/phone", "")
    assert status == 200
    return cookie, form_fields(html, "csrf_token")


def _sent(app) -> int:
    return len(list(Path(app.config["MAIL_OUTBOX"]).glob("*-sms-*.txt")))


def test_twelve_parallel_requests_for_one_number_send_exactly_one_code(app, live_server):
    app.config["PHONE_CODE_IP_RATE_LIMIT"] = "100 per minute"
    cookie, form = _page(live_server)
    answers = together([lambda: post_answer(f"{live_server.url}/signin/phone", cookie,
                                            dict(form, phone="13800138000"))] * 12)
    codes = sorted(code for code, _body in answers)
    assert codes == [200] + [429] * 11, codes
    with app.app_context():
        assert db.session.scalar(select(func.count(PhoneCode.id))) == 1
    assert _sent(app) == 1


def test_twelve_parallel_requests_from_one_address_send_exactly_its_limit(app, live_server):
    app.config["PHONE_CODE_IP_RATE_LIMIT"] = "5 per minute"
    cookie, form = _page(live_server)
    answers = together([lambda n=n: post_answer(f"{live_server.url}/signin/phone", cookie,
                                                dict(form, phone=f"1380013{n:04d}"))
                        for n in range(12)])
    codes = sorted(code for code, _body in answers)
    assert codes == [200] * 5 + [429] * 7, codes
    with app.app_context():
        assert db.session.scalar(select(func.count(PhoneCode.id))) == 5
    assert _sent(app) == 5
