"""The live progress fragment: a weak ETag per bargain version, 304 while it holds, the
fragment once it changed, 286 for htmx once the bargain is settled; cheap to ask."""

import re
from datetime import timedelta

from sqlalchemy import update

from shop.bargains.models import Bargain
from shop.db import db, utcnow
from shop.extensions import cache
from shop.money import format_minor
from tests.bargains.helpers import EN, cut_by_new_helpers
from tests.conftest import counted_queries, signed_in
from tests.factories import BargainFactory

HX = {"HX-Request": "true"}


def test_the_fragment_answers_304_until_a_cut_then_286_once_complete(app, client):
    bargain = BargainFactory(campaign__helpers_needed=2)
    url = f"/bargains/{bargain.id}/progress"
    first = client.get(url, headers=HX)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"b') and first.headers["Cache-Control"] == "no-cache"
    assert "HX-Request" in first.headers["Vary"]
    html = first.get_data(as_text=True)
    assert 'id="bargain-progress"' in html and 'hx-trigger="every 3s"' in html
    assert 'id="bargain-helpers" aria-labelledby="bargain-helpers-h" hx-swap-oob="true"' in html
    assert 'id="bargain-price" hx-swap-oob="true"' in html and "<html" not in html

    same = client.get(url, headers={**HX, "If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b""

    cut_by_new_helpers(app, bargain.id, 1)
    changed = client.get(url, headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200  # still active: htmx keeps polling
    assert changed.headers["ETag"] != etag and changed.get_data(as_text=True).count("<li><span>") == 1

    cut_by_new_helpers(app, bargain.id, 1)
    settled = client.get(url, headers={**HX, "If-None-Match": changed.headers["ETag"]})
    assert settled.status_code == 286  # htmx stops polling
    body = settled.get_data(as_text=True)
    assert "hx-trigger" not in body and 'data-testid="bargain-progress"' in body
    plain = client.get(url, headers=EN)
    assert plain.status_code == 200 and "the floor price is reached" in plain.get_data(as_text=True)


def test_a_bargain_past_its_time_settles_before_the_sweeper_comes(app, client):
    bargain = BargainFactory()
    url = f"/bargains/{bargain.id}/progress"
    etag = client.get(url, headers=HX).headers["ETag"]
    with app.app_context():
        db.session.execute(update(Bargain).where(Bargain.id == bargain.id)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        cache.clear()  # moved by hand: no service dropped the cached state (shop.live)
    late = client.get(url, headers={**HX, "If-None-Match": etag, **EN})
    assert late.status_code == 286 and late.headers["ETag"] != etag
    assert "The time ran out" in late.get_data(as_text=True)


def test_a_304_costs_one_small_query_at_most(app, client, monkeypatch):
    """The version a poll compares comes from the cache (shop.live); without it, from
    one small query."""
    monkeypatch.setattr("shop.live.VERSION_SECONDS", 300)  # not to run out mid-test
    bargain = BargainFactory()
    url = f"/bargains/{bargain.id}/progress"
    etag = client.get(url, headers=HX).headers["ETag"]

    def queries_of_a_304():
        with counted_queries(app) as statements:
            assert client.get(url, headers={**HX, "If-None-Match": etag}).status_code == 304
        return [s for s in statements if s.split()[0] not in ("BEGIN", "COMMIT", "ROLLBACK")]

    assert queries_of_a_304() == []
    with app.app_context():
        cache.clear()
    queries = queries_of_a_304()
    assert len(queries) == 1, queries
    assert "bargains.version" in queries[0] and "bargain_helps" not in queries[0]


def test_the_owners_fragment_relabels_the_buy_button_with_the_live_price(app, client):
    """The buy button's "Buy at ¥x" follows the price a cut moved (out of band, for the
    owner only: nobody else has the button); the order is priced by the server anyway."""
    owner_client, user = signed_in(app)
    bargain = BargainFactory(user_id=user.id, campaign__helpers_needed=3)
    url = f"/bargains/{bargain.id}/progress"
    cut_by_new_helpers(app, bargain.id, 1)
    with app.app_context():
        cut = db.session.get(Bargain, bargain.id)
        assert cut.price_minor < cut.start_price_minor
        price = format_minor(cut.price_minor, cut.currency, "en")
    mine = owner_client.get(url, headers={**HX, **EN}).get_data(as_text=True)
    button = re.search(r'<button[^>]*id="bargain-buy"[^>]*>([^<]*)</button>', mine)
    assert button and 'hx-swap-oob="true"' in button.group(0) and button.group(1) == f"Buy at {price}"
    theirs = client.get(url, headers={**HX, **EN})
    assert 'id="bargain-buy"' not in theirs.get_data(as_text=True)
