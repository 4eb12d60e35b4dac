"""The live progress of a group: the fragment htmx polls (ETag / 304, 286 once settled,
out-of-band seats and deadline), who may see it, what it costs in queries; and the
product page's list of group buys."""

from __future__ import annotations

import re

import pytest

from shop.db import db
from shop.extensions import cache
from shop.groups.models import GroupCampaign
from tests.conftest import counted_queries, signed_in
from tests.factories import product_with_skus
from tests.groups.helpers import (campaign, fund, group_of, join_held, join_paid, open_paid_group,
                                  order_id_of, pay_wallet, seat_form, set_deadline, settle_now)

HX = {"HX-Request": "true"}


def _poll(client, group_id: int, etag: str | None = None, **headers):
    if etag is not None:
        headers["If-None-Match"] = etag
    return client.get(f"/groups/{group_id}/progress", headers=headers)


def _statements(queries: list[str]) -> list[str]:
    """The SQL the request ran, without SQLite's explicit BEGIN (PostgreSQL has none)."""
    return [q for q in queries if q.strip().upper() != "BEGIN"]


def test_the_fragment_is_revalidated_with_its_etag_and_changes_with_the_group(app, client):
    campaign_id, sku_id = campaign(size=3)
    _leader, _user, group_id = open_paid_group(app, campaign_id, sku_id)
    first = _poll(client, group_id)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
    assert {"HX-Request", "Cookie"} <= {v.strip() for v in first.headers["Vary"].split(",")}
    body = first.get_data(as_text=True)
    assert 'id="group-progress"' in body and "<html" not in body
    assert re.search(r'<ul id="group-seats"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'<p id="group-deadline"[^>]*hx-swap-oob="true"', body)
    assert 'hx-trigger="every 3s"' in body and body.count('class="seat empty"') == 2

    same = _poll(client, group_id, etag, **HX)
    assert same.status_code == 304 and same.get_data() == b"" and same.headers["ETag"] == etag

    member, member_user, order_id = join_held(app, group_id, sku_id)  # a seat taken: new state
    after_join = _poll(client, group_id, etag)
    assert after_join.status_code == 200 and after_join.headers["ETag"] != etag
    assert after_join.get_data(as_text=True).count('class="seat held"') == 1
    etag = after_join.headers["ETag"]
    assert _poll(client, group_id, etag).status_code == 304

    fund(app, member_user.id, 990, "m")
    assert pay_wallet(member, order_id).status_code == 302  # a seat paid: new state again
    after_pay = _poll(client, group_id, etag, **HX)
    assert after_pay.status_code == 200 and after_pay.headers["ETag"] != etag
    assert after_pay.get_data(as_text=True).count('class="seat paid"') == 2

    # the page is the same for another language: its own ETag
    english = _poll(client, group_id, after_pay.headers["ETag"], **{"Accept-Language": "en"})
    assert english.status_code == 200 and "2 of 3 seats paid" in english.get_data(as_text=True)


@pytest.mark.parametrize("outcome", ["complete", "failed"])
def test_a_settled_group_stops_the_polling_with_286(app, client, outcome):
    campaign_id, sku_id = campaign(size=2)
    leader, _user, group_id = open_paid_group(app, campaign_id, sku_id)
    page = leader.get(f"/groups/{group_id}").get_data(as_text=True)
    assert 'hx-get="/groups/%d/progress" hx-trigger="every 3s"' % group_id in page
    assert '<p id="group-share" class="share-row">' in page
    open_poll = _poll(client, group_id)
    assert 'id="group-share"' not in open_poll.get_data(as_text=True)  # an open panel stays open
    open_etag = open_poll.headers["ETag"]
    if outcome == "complete":
        join_paid(app, group_id, sku_id)
    else:
        set_deadline(app, group_id, -1)
        assert settle_now(app, group_id) is True
    polled = _poll(client, group_id, open_etag, **HX)
    assert polled.status_code == 286
    body = polled.get_data(as_text=True)
    assert f'class="group-status {outcome}"' in body and 'hx-trigger' not in body
    assert re.search(r'<ul id="group-seats"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'<p id="group-deadline"[^>]*hx-swap-oob="true"', body)
    assert '<p id="group-share" hx-swap-oob="delete">' in body  # the share panel goes
    plain = _poll(client, group_id, open_etag)  # loaded directly (no htmx): a plain 200
    assert plain.status_code == 200 and plain.get_data(as_text=True) == body
    assert _poll(client, group_id, polled.headers["ETag"], **HX).status_code == 304
    page = leader.get(f"/groups/{group_id}").get_data(as_text=True)
    assert 'id="group-progress"' in page and 'hx-trigger="every 3s"' not in page
    assert 'hx-get="/groups/' not in page and 'id="group-share"' not in page


def test_a_deadline_days_away_counts_down_in_days_and_a_clock(app, client):
    campaign_id, sku_id = campaign(size=2)
    _leader, _user, group_id = open_paid_group(app, campaign_id, sku_id)
    set_deadline(app, group_id, 7 * 86400 - 20)
    def deadline() -> str:
        page = client.get(f"/groups/{group_id}", headers={"Accept-Language": "en"})
        return re.search(r'<p id="group-deadline".*?</p>', page.get_data(as_text=True), re.S)[0]

    assert re.search(r'data-day-one="{n} day {t}" data-day-other="{n} days {t}">6 days 23:59:[0-5]\d<',
                     deadline())
    set_deadline(app, group_id, 86400 + 5)
    assert re.search(r">1 day 00:00:0\d<", deadline())
    set_deadline(app, group_id, 3600)
    assert re.search(r">0:59:[0-5]\d<", deadline())  # under a day: the clock alone


def test_a_pending_group_is_only_for_its_leader_and_an_unknown_one_is_404(app, client):
    campaign_id, sku_id = campaign(size=2)
    leader, _user = signed_in(app)
    url = f"/group-buys/{campaign_id}"
    order_id = order_id_of(leader.post_form(f"{url}/open", seat_form(leader, url, sku_id)))
    group_id = group_of(app, order_id)
    assert leader.get(f"/groups/{group_id}").status_code == 200
    other, _other = signed_in(app)
    for who in (client, other):
        assert who.get(f"/groups/{group_id}").status_code == 404
        assert who.get(f"/groups/{group_id}/progress").status_code == 404
        assert who.get(f"/groups/{group_id}/progress", headers=HX).status_code == 404
    assert other.post_form(f"/groups/{group_id}/join", seat_form(other, f"/groups/{group_id}", sku_id)).status_code == 404
    assert client.get("/groups/987654").status_code == 404
    assert client.get("/groups/987654/progress").status_code == 404


def _cold(app) -> None:
    from shop.extensions import cache

    with app.app_context():
        cache.clear()


def _group_with(app, members: int) -> int:
    campaign_id, sku_id = campaign(size=members + 1)
    _leader, _user, group_id = open_paid_group(app, campaign_id, sku_id)
    for _ in range(members - 1):
        join_held(app, group_id, sku_id)
    return group_id


@pytest.mark.parametrize("signed", [False, True])
def test_the_fragment_costs_a_constant_number_of_queries(app, signed):
    small, large = _group_with(app, 2), _group_with(app, 6)
    client = signed_in(app)[0] if signed else app.test_client()
    costs = {}
    for group_id in (small, large):
        _cold(app)  # nothing cached: the fragment is rendered from the database
        with counted_queries(app) as queries:
            response = _poll(client, group_id, **HX)
        assert response.status_code == 200
        costs[group_id] = len(_statements(queries))
        etag = response.headers["ETag"]
        for cold in (False, True):
            if cold:
                _cold(app)
            with counted_queries(app) as queries:
                assert _poll(client, group_id, etag, **HX).status_code == 304
            assert len(_statements(queries)) <= 2, queries
    assert costs[small] == costs[large] > 1, costs
    body = _poll(client, large).get_data(as_text=True)
    assert body.count('class="seat paid"') == 1 and body.count('class="seat held"') == 5


def test_the_product_page_lists_its_group_buys_and_open_groups(app, client):
    campaign_id, sku_id = campaign(size=3)
    _leader, _user, group_id = open_paid_group(app, campaign_id, sku_id)
    with app.app_context():
        product_id = db.session.get(GroupCampaign, campaign_id).product_id
    html = client.get(f"/p/{product_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'href="/group-buys/{campaign_id}"' in html and 'data-testid="start-group"' in html
    assert f'href="/groups/{group_id}"' in html and "2 seats left" in html
    # a group past its deadline (not settled yet) is not offered
    set_deadline(app, group_id, -1)
    with app.app_context():
        cache.clear()  # the page keeps its offers OFFERS_SECONDS
    html = client.get(f"/p/{product_id}").get_data(as_text=True)
    assert f'href="/group-buys/{campaign_id}"' in html and f'href="/groups/{group_id}"' not in html

    plain, _skus = product_with_skus()
    assert 'data-testid="start-group"' not in client.get(f"/p/{plain.id}").get_data(as_text=True)
