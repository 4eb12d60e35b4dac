"""Daily sign-in: one reward a day in the shop's time zone (Asia/Shanghai), streak
bonuses in a cycle, the calendar swapped by htmx."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.points import services
from shop.points.models import Signin
from tests.conftest import signed_in
from tests.factories import SigninBonusFactory, UserFactory
from tests.payments.helpers import EN
from tests.points.helpers import entries, points_of

UTC = timezone.utc


def _sign(app, user_id, moment):
    with app.app_context():
        row = services.sign_in(user_id, moment)
        db.session.commit()
        return row.day, row.streak, row.points


def test_a_day_is_the_shops_day_around_midnight(app):
    user = UserFactory()
    # 15:59 UTC is 23:59 in Shanghai; 16:01 UTC is 00:01 the next day there
    assert _sign(app, user.id, datetime(2026, 11, 21, 15, 59, tzinfo=UTC))[:2] == (datetime(2026, 11, 21).date(), 1)
    assert _sign(app, user.id, datetime(2026, 11, 21, 16, 1, tzinfo=UTC))[:2] == (datetime(2026, 11, 22).date(), 2)
    with app.app_context():  # 23:00 UTC is still 22 November in Shanghai
        with pytest.raises(services.PointsError, match="今天已经签到过了"):
            services.sign_in(user.id, datetime(2026, 11, 22, 15, 59, tzinfo=UTC))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Signin)) == 2
    assert points_of(app, user.id) == 10


def test_a_missed_day_starts_the_streak_again(app):
    user = UserFactory()
    start = datetime(2026, 3, 1, 4, tzinfo=UTC)
    _sign(app, user.id, start)
    _sign(app, user.id, start + timedelta(days=1))
    assert _sign(app, user.id, start + timedelta(days=3))[1] == 1


def test_streak_bonuses_come_round_in_a_cycle(app):
    SigninBonusFactory(day=3, points=10)
    SigninBonusFactory(day=4, points=20)
    user = UserFactory()
    start = datetime(2026, 3, 1, 4, tzinfo=UTC)
    got = [_sign(app, user.id, start + timedelta(days=n))[2] for n in range(9)]
    assert got == [5, 5, 15, 25, 5, 5, 15, 25, 5]  # the cycle is 4 days long
    assert points_of(app, user.id) == sum(got)


def test_signing_in_through_htmx_swaps_the_calendar(app):
    client, user = signed_in(app)
    page = client.get("/points/signin", headers=EN).get_data(as_text=True)
    assert 'data-testid="signin"' in page and "Sign in for 5 points" in page
    assert points_of(app, user.id) == 0  # opening the page changes nothing
    response = client.post_form("/points/signin", headers={**EN, "HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'class="calendar"' in html
    assert "Signed in: +5 points. Day 1 in a row." in html
    assert 'data-testid="points-balance">5<' in html and 'aria-current="date"' in html
    assert re.search(r'class="[^"]*\bsigned today"\s+aria-current="date"', html)  # today's cell
    assert "Signed in today" in html and 'data-testid="signin"' not in html


def test_a_second_sign_in_is_refused_with_a_message_and_changes_nothing(app):
    client, user = signed_in(app)
    assert client.post_form("/points/signin").status_code == 303
    response = client.post_form("/points/signin", headers={**EN, "HX-Request": "true"})
    assert response.status_code == 409
    assert "You have already signed in today" in response.get_data(as_text=True)
    assert entries(app, user.id) == [("signin", 5)]


def test_the_calendar_carries_the_streak_across_a_month_boundary(app):
    user = UserFactory()
    for day in (30, 31):
        _sign(app, user.id, datetime(2026, 3, day, 4, tzinfo=UTC))
    april_first = datetime(2026, 4, 1, 4, tzinfo=UTC)
    with app.app_context():
        month = services.month(user.id, april_first)
        assert (month.streak, month.signed_today) == (2, False)  # yesterday's, in March
    assert _sign(app, user.id, april_first)[1] == 3
    with app.app_context():
        month = services.month(user.id, april_first)
        assert (month.streak, month.signed_today, month.weeks[0][0].month) == (3, True, 3)
        assert month.signed[datetime(2026, 3, 31).date()] == 5  # shown in the first week
