"""Bargains under parallel requests on PostgreSQL, as real HTTP: twenty friends cutting
a bargain that needs five make exactly five cuts down to the floor; one friend's six
cuts at once make one; a shopper's five starts at once make one bargain."""

import pytest
from sqlalchemy import func, select

from shop.bargains.models import Bargain, BargainHelp
from shop.db import db
from tests.bargains.helpers import state
from tests.concurrency.http import form_fields, post_together, request, session_cookie
from tests.factories import BargainCampaignFactory, BargainFactory, UserFactory

pytestmark = pytest.mark.postgres


def _cut_form(app, live_server, bargain_id: int, user_id: int) -> tuple[str, str, dict]:
    """(url, cookie, form) of the cut button as the friend's page shows it."""
    status, html, cookie = request(f"{live_server.url}/bargains/{bargain_id}", session_cookie(app, user_id))
    assert status == 200 and 'data-testid="bargain-cut"' in html
    return f"{live_server.url}/bargains/{bargain_id}/cut", cookie, form_fields(html, "csrf_token")


def test_twenty_friends_at_once_cut_a_bargain_for_five_exactly_five_times(app, live_server):
    bargain = BargainFactory()
    posts = [_cut_form(app, live_server, bargain.id, UserFactory().id) for _ in range(20)]
    codes = post_together(posts)
    assert sorted(codes) == [200] * 5 + [409] * 15  # a cut redirects to the page
    assert state(app, bargain.id)[:3] == ("complete", 5, 1000)  # state() checks seq 1..5 and the plan
    with app.app_context():
        assert db.session.scalars(select(BargainHelp.seq).where(BargainHelp.bargain_id == bargain.id)
                                  .order_by(BargainHelp.seq)).all() == [1, 2, 3, 4, 5]
        assert db.session.get(Bargain, bargain.id).version == 6


def test_one_friend_cutting_six_times_at_once_cuts_once(app, live_server):
    bargain = BargainFactory()
    post = _cut_form(app, live_server, bargain.id, UserFactory().id)
    codes = post_together([post] * 6)
    assert sorted(codes) == [200] + [409] * 5
    assert state(app, bargain.id)[:2] == ("active", 1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BargainHelp)) == 1


def test_five_starts_at_once_make_one_bargain(app, live_server):
    campaign = BargainCampaignFactory()
    user = UserFactory()
    url = f"{live_server.url}/bargains/campaign/{campaign.id}"
    status, html, cookie = request(url, session_cookie(app, user.id))
    assert status == 200
    codes = post_together([(f"{url}/start", cookie, form_fields(html, "csrf_token"))] * 5)
    assert codes == [200] * 5  # each lands on the one bargain
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bargain)) == 1
