"""A shopper starts a bargain, friends cut it once each down to the floor, the shopper
buys at the price reached; refused actions say why and change nothing."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shop.bargains import services
from shop.bargains.models import Bargain, BargainHelp
from shop.catalog.models import Sku
from shop.catalog.services import move_stock
from shop.db import db, utcnow
from shop.orders import services as orders
from shop.orders.models import Order
from shop.sweeper import sweep
from tests.bargains.helpers import EN, HTMX, buy_form, cut_by_new_helpers, order_count, state
from tests.conftest import ADDRESS, counted_queries, signed_in
from tests.factories import BargainCampaignFactory, BargainFactory, UserFactory
from tests.payments.helpers import order_status, saved_address


def _mine(app):
    """A bargain owned by a signed-in shopper: (client, user, bargain)."""
    client, user = signed_in(app)
    return client, user, BargainFactory(user_id=user.id)


def _past_its_time(app, bargain_id):
    with app.app_context():
        db.session.execute(update(Bargain).where(Bargain.id == bargain_id)
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()


def _order_of(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return int(response.headers["Location"].rsplit("/", 1)[1])


# --- starting -----------------------------------------------------------------------------


def test_starting_a_bargain_draws_its_cuts_and_a_second_start_lands_on_it(app):
    campaign = BargainCampaignFactory()
    client, user = signed_in(app)
    page = client.get(f"/bargains/campaign/{campaign.id}", headers=EN).get_data(as_text=True)
    assert "Start a bargain" in page
    response = client.post_form(f"/bargains/campaign/{campaign.id}/start")
    assert response.status_code == 303
    bargain_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        bargain = db.session.get(Bargain, bargain_id)
        assert (bargain.user_id, bargain.status, bargain.price_minor, bargain.helps) == (user.id, "active", 10000, 0)
        assert len(bargain.plan) == 5 and sum(bargain.plan) == 9000 and min(bargain.plan) > 0
        assert abs(bargain.expires_at - (utcnow() + timedelta(hours=24))) < timedelta(minutes=1)
    again = client.post_form(f"/bargains/campaign/{campaign.id}/start")
    assert again.headers["Location"] == response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bargain)) == 1
    page = client.get(f"/bargains/campaign/{campaign.id}", headers=EN).get_data(as_text=True)
    assert "Continue your bargain" in page and f"/bargains/{bargain_id}" in page


def test_a_campaign_not_running_refuses_to_start_and_a_switched_off_one_is_not_found(app):
    ended = BargainCampaignFactory(starts_at=utcnow() - timedelta(days=2), ends_at=utcnow() - timedelta(days=1))
    off = BargainCampaignFactory(active=False)
    client, _user = signed_in(app)
    response = client.post_form(f"/bargains/campaign/{ended.id}/start", headers=EN)
    assert response.status_code == 409
    assert "not running now" in response.get_data(as_text=True)
    assert client.post_form(f"/bargains/campaign/{off.id}/start").status_code == 404
    assert client.post_form("/bargains/campaign/999999/start").status_code == 404
    assert client.get(f"/bargains/campaign/{off.id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bargain)) == 0


def test_a_live_bargain_past_its_time_gives_way_to_a_new_one(app):
    client, user, old = _mine(app)
    _past_its_time(app, old.id)
    response = client.post_form(f"/bargains/campaign/{old.campaign_id}/start")
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert new_id != old.id
    assert state(app, old.id)[0] == "expired"
    assert state(app, new_id)[:2] == ("active", 0)


# --- cutting ------------------------------------------------------------------------------


def test_five_friends_cut_it_to_the_floor_exactly_and_a_sixth_is_refused(app):
    bargain = BargainFactory()
    with app.app_context():
        plan = db.session.get(Bargain, bargain.id).plan
    for k in range(1, 6):
        client, _helper = signed_in(app)
        response = client.post_form(f"/bargains/{bargain.id}/cut", headers=EN)
        assert response.status_code == 303 and response.headers["Location"] == f"/bargains/{bargain.id}"
        page = client.get(f"/bargains/{bargain.id}", headers=EN).get_data(as_text=True)
        assert page.count("You cut") == 1  # the visitor's own cut, thanked once
        status, helps, price, version, _order = state(app, bargain.id)
        assert (helps, price, version) == (k, 10000 - sum(plan[:k]), 1 + k)
        assert status == ("complete" if k == 5 else "active")
    assert state(app, bargain.id)[2] == 1000  # the floor, reached at the last helper
    late, _helper = signed_in(app)
    response = late.post_form(f"/bargains/{bargain.id}/cut", headers=EN)
    assert response.status_code == 409
    assert "already reached its floor price" in response.get_data(as_text=True)
    assert state(app, bargain.id) == ("complete", 5, 1000, 6, None)


def test_cutting_twice_is_refused_and_changes_nothing(app):
    bargain = BargainFactory()
    client, _helper = signed_in(app)
    assert client.post_form(f"/bargains/{bargain.id}/cut").status_code == 303
    before = state(app, bargain.id)
    response = client.post_form(f"/bargains/{bargain.id}/cut", headers=EN)
    assert response.status_code == 409
    assert "You have already helped cut this price." in response.get_data(as_text=True)
    assert state(app, bargain.id) == before
    assert before[1] == 1


def test_the_owner_may_not_cut_their_own_bargain(app):
    client, _user, bargain = _mine(app)
    response = client.post_form(f"/bargains/{bargain.id}/cut", headers=EN)
    assert response.status_code == 409
    assert "You can not cut your own bargain" in response.get_data(as_text=True)
    assert state(app, bargain.id) == ("active", 0, 10000, 1, None)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BargainHelp)) == 0


def test_anonymous_visitors_see_the_button_and_are_sent_to_sign_in_by_it(app, client):
    bargain = BargainFactory()
    page = client.get(f"/bargains/{bargain.id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="bargain-cut"' in page  # it opens the sign-in (shop.accounts.sheet)
    response = client.post_form(f"/bargains/{bargain.id}/cut")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/signin/phone?next=/bargains/{bargain.id}%23bargain-help"
    assert state(app, bargain.id) == ("active", 0, 10000, 1, None)


def test_forged_ids_are_not_found(app):
    client, _user = signed_in(app)
    for url in ("/bargains/999999", "/bargains/999999/progress", "/bargains/campaign/999999"):
        assert client.get(url).status_code == 404, url
    for url in ("/bargains/999999/cut", "/bargains/999999/buy"):
        assert client.post_form(url, dict(ADDRESS, token="a" * 32)).status_code == 404, url
    assert client.post_form("/bargains/999999/cut", headers=HTMX).status_code == 404
    with app.app_context():
        with pytest.raises(LookupError):
            services.cut(999999, UserFactory().id)


def test_an_htmx_cut_answers_the_progress_with_the_result_out_of_band(app):
    bargain = BargainFactory()
    client, _helper = signed_in(app)
    response = client.post_form(f"/bargains/{bargain.id}/cut", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    with app.app_context():
        amount = db.session.get(Bargain, bargain.id).plan[0]
    assert html.lstrip().startswith('<div id="bargain-progress"')
    assert html.count("You cut") == 1 and f"You cut CN¥{amount // 100}.{amount % 100:02d} off this price" in html
    for oob in ("bargain-price", "bargain-time", "bargain-helpers", "bargain-result", "bargain-actions"):
        assert re.search(rf'<[a-z]+ id="{oob}"[^>]* hx-swap-oob="true"', html), oob
    assert "<html" not in html
    again = client.post_form(f"/bargains/{bargain.id}/cut", headers=HTMX)
    assert again.status_code == 409
    assert "You have already helped cut this price." in again.get_data(as_text=True)
    assert "<html" not in again.get_data(as_text=True)


def test_an_expired_bargain_refuses_cuts_and_purchases(app):
    client, _user, bargain = _mine(app)
    form = buy_form(client, bargain.id)
    _past_its_time(app, bargain.id)
    helper, _ = signed_in(app)
    response = helper.post_form(f"/bargains/{bargain.id}/cut", headers=EN)
    assert response.status_code == 409 and "This bargain has expired." in response.get_data(as_text=True)
    response = client.post_form(f"/bargains/{bargain.id}/buy", form, headers=EN)
    assert response.status_code == 409 and "This bargain has expired." in response.get_data(as_text=True)
    assert state(app, bargain.id) == ("active", 0, 10000, 1, None)  # the sweeper marks it
    assert order_count(app) == 0
    page = client.get(f"/bargains/{bargain.id}", headers=EN).get_data(as_text=True)
    assert "Expired" in page and 'data-testid="bargain-buy"' not in page


# --- buying -------------------------------------------------------------------------------


def test_buying_midway_orders_one_unit_at_the_price_reached(app):
    client, user, bargain = _mine(app)
    cut_by_new_helpers(app, bargain.id, 2)
    price = state(app, bargain.id)[2]
    assert 1000 < price < 10000
    form = buy_form(client, bargain.id)
    order_id = _order_of(client.post_form(f"/bargains/{bargain.id}/buy", form))
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.kind, order.user_id, order.status) == ("bargain", user.id, "awaiting_payment")
        assert (order.subtotal_minor, order.total_minor) == (price, price)  # shipping included
        assert [(line.sku_id, line.quantity, line.unit_price_minor) for line in order.lines] == \
            [(bargain.campaign.sku_id, 1, price)]
        assert db.session.get(Sku, bargain.campaign.sku_id).stock == 9
    assert state(app, bargain.id) == ("ordered", 2, price, 4, order_id)
    # the same form again (a double tap) lands on the same order
    assert _order_of(client.post_form(f"/bargains/{bargain.id}/buy", form)) == order_id
    assert order_count(app) == 1
    # a new form on a bought bargain is refused
    response = client.post_form(f"/bargains/{bargain.id}/buy", dict(ADDRESS, token="b" * 32), headers=EN)
    assert response.status_code == 409 and "already bought" in response.get_data(as_text=True)
    assert order_count(app) == 1
    helper, _ = signed_in(app)
    assert helper.post_form(f"/bargains/{bargain.id}/cut").status_code == 409
    assert state(app, bargain.id) == ("ordered", 2, price, 4, order_id)


def test_buying_at_the_floor_once_complete(app):
    client, _user, bargain = _mine(app)
    cut_by_new_helpers(app, bargain.id, 5)
    assert state(app, bargain.id)[:3] == ("complete", 5, 1000)
    order_id = _order_of(client.post_form(f"/bargains/{bargain.id}/buy", buy_form(client, bargain.id)))
    with app.app_context():
        assert db.session.get(Order, order_id).total_minor == 1000
    assert state(app, bargain.id)[0] == "ordered"


def test_someone_elses_bargain_can_not_be_bought(app):
    _owner_client, _owner, bargain = _mine(app)
    other, _user = signed_in(app)
    page = other.get(f"/bargains/{bargain.id}").get_data(as_text=True)
    assert 'data-testid="bargain-buy"' not in page
    response = other.post_form(f"/bargains/{bargain.id}/buy", dict(ADDRESS, token="c" * 32))
    assert response.status_code == 404
    assert order_count(app) == 0
    assert state(app, bargain.id) == ("active", 0, 10000, 1, None)
    with app.app_context():  # the service refuses too
        with pytest.raises(services.BargainError):
            services.buy(db.session.get(Bargain, bargain.id), _user.id, saved_address(_user.id), "d" * 32)


def test_a_bad_address_is_a_form_error_and_orders_nothing(app):
    client, _user, bargain = _mine(app)
    form = dict(buy_form(client, bargain.id), phone="12")
    response = client.post_form(f"/bargains/{bargain.id}/buy", form, headers=EN)
    assert response.status_code == 422
    assert "Enter an 11-digit mobile number." in response.get_data(as_text=True)
    assert order_count(app) == 0
    assert state(app, bargain.id) == ("active", 0, 10000, 1, None)


def test_a_sold_out_item_is_refused_with_the_reason(app):
    client, _user, bargain = _mine(app)
    form = buy_form(client, bargain.id)
    with app.app_context():  # sold meanwhile, through the stock ledger
        move_stock(bargain.campaign.sku_id, -10, reason="order", ref_type="test", ref_id="sold")
        db.session.commit()
    response = client.post_form(f"/bargains/{bargain.id}/buy", form, headers=EN)
    assert response.status_code == 409 and "has just sold out" in response.get_data(as_text=True)
    assert order_count(app) == 0
    assert state(app, bargain.id) == ("active", 0, 10000, 1, None)


def test_a_cancelled_unpaid_order_puts_the_bargain_back(app):
    client, _user, bargain = _mine(app)
    cut_by_new_helpers(app, bargain.id, 5)
    order_id = _order_of(client.post_form(f"/bargains/{bargain.id}/buy", buy_form(client, bargain.id)))
    with app.app_context():
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="expired")
        db.session.commit()
    assert order_status(app, order_id) == "cancelled"
    assert state(app, bargain.id) == ("complete", 5, 1000, 8, None)
    with app.app_context():
        assert db.session.get(Sku, bargain.campaign.sku_id).stock == 10
    # and it can be bought again
    again = _order_of(client.post_form(f"/bargains/{bargain.id}/buy", buy_form(client, bargain.id)))
    assert again != order_id and state(app, bargain.id)[0] == "ordered"


def test_a_cancelled_order_of_a_bargain_past_its_time_leaves_it_expired(app):
    client, _user, bargain = _mine(app)
    cut_by_new_helpers(app, bargain.id, 1)
    order_id = _order_of(client.post_form(f"/bargains/{bargain.id}/buy", buy_form(client, bargain.id)))
    _past_its_time(app, bargain.id)
    with app.app_context():
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="expired")
        db.session.commit()
    assert state(app, bargain.id)[0::3] == ("expired", 4)
    assert state(app, bargain.id)[4] is None


def test_the_sweeper_expires_a_due_bargain_exactly_once(app):
    due = BargainFactory()
    running = BargainFactory()
    client, _user, bought = _mine(app)
    _order_of(client.post_form(f"/bargains/{bought.id}/buy", buy_form(client, bought.id)))
    for bargain_id in (due.id, bought.id):
        _past_its_time(app, bargain_id)
    with app.app_context():
        assert sweep()["bargains_expired"] == 1
        assert sweep()["bargains_expired"] == 0
        assert services.expire(due.id) is False
    assert state(app, due.id)[0::3] == ("expired", 2)
    assert state(app, running.id)[0::3] == ("active", 1)
    assert state(app, bought.id)[0] == "ordered"


# --- pages --------------------------------------------------------------------------------


def test_the_page_shows_prices_helpers_and_what_each_visitor_may_do(app):
    owner_client, _owner, bargain = _mine(app)
    cut_by_new_helpers(app, bargain.id, 2)
    helper, _ = signed_in(app)
    html = helper.get(f"/bargains/{bargain.id}", headers=EN).get_data(as_text=True)
    assert "¥100.00" in html and "¥10.00" in html
    assert 'data-testid="bargain-cut"' in html and 'hx-post="/bargains/' in html
    assert html.count("<li><span>") == 2  # the two helpers
    assert 'hx-trigger="every 3s"' in html and "countdown.js" in html
    assert f'href="/share/b{bargain.id}"' in html
    mine = owner_client.get(f"/bargains/{bargain.id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="bargain-buy"' in mine and 'data-testid="bargain-cut"' not in mine


def test_the_page_costs_the_same_queries_however_many_friends_cut(app):
    few, many = BargainFactory(), BargainFactory(campaign__helpers_needed=20)
    cut_by_new_helpers(app, few.id, 1)
    cut_by_new_helpers(app, many.id, 12)
    client = app.test_client()
    counts = []
    for bargain in (few, many):
        with counted_queries(app) as statements:
            assert client.get(f"/bargains/{bargain.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_list_shows_campaigns_on_now_and_my_bargains(app):
    on = BargainCampaignFactory()
    off = BargainCampaignFactory(active=False)
    later = BargainCampaignFactory(starts_at=utcnow() + timedelta(days=1))
    client, _user, bargain = _mine(app)
    html = client.get("/bargains", headers=EN).get_data(as_text=True)
    assert f"/bargains/campaign/{on.id}" in html
    assert f"/bargains/campaign/{off.id}" not in html and f"/bargains/campaign/{later.id}" not in html
    assert f"/bargains/{bargain.id}" in html  # my bargain


def test_the_product_page_mentions_a_bargain_on_it(app, client):
    campaign = BargainCampaignFactory()
    other = BargainCampaignFactory(active=False)
    html = client.get(f"/p/{campaign.product_id}", headers=EN).get_data(as_text=True)
    assert f"/bargains/campaign/{campaign.id}" in html and "Bargain it down to CN¥10.00 with 5 friends" in html
    other_page = client.get(f"/p/{other.product_id}")
    assert other_page.status_code == 200 and 'data-testid="product-bargain"' not in other_page.get_data(as_text=True)


def test_a_bargain_is_shared_by_a_short_link(app):
    bargain = BargainFactory()
    client, user = signed_in(app)
    panel = client.get(f"/share/b{bargain.id}").get_data(as_text=True)
    assert f"/s/{user.referral_code}-b{bargain.id}" in panel
    assert f"/share/poster/{user.referral_code}-b{bargain.id}.png" in panel
    poster = client.get(f"/share/poster/{user.referral_code}-b{bargain.id}.png")
    assert poster.status_code == 200 and poster.data[:8] == b"\x89PNG\r\n\x1a\n"
    poster.close()
    assert client.get(f"/share/poster/{user.referral_code}-b999999.png").status_code == 404
    with app.test_request_context(headers=EN):
        from shop.bargains.views import _poster

        _image, title, price = _poster(bargain.id)
        assert title == f"Product {bargain.campaign.product.code}" and "CN¥100.00" in price
    friend, _friend = signed_in(app)
    response = friend.get(f"/s/{user.referral_code}-b{bargain.id}")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/bargains/{bargain.id}?shared=")
