"""The member card on the Me page and the member page."""

import re

from shop.db import db
from shop.members import services
from tests.conftest import counted_queries, signed_in
from tests.members.helpers import give, ladder
from tests.payments.helpers import EN


def _card(html: str) -> str:
    match = re.search(r'<section class="member-card".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_the_me_page_shows_the_level_the_progress_and_the_benefits(app):
    ladder("普通会员", "银卡会员", "金卡会员")
    client, user = signed_in(app)
    give(app, user.id, 1250)
    card = _card(client.get("/me", headers=EN).get_data(as_text=True))
    assert 'data-testid="member-level">银卡会员<' in card and 'data-testid="growth">1250<' in card
    # (1250 - 500) of the way from 500 to 2000: half
    assert '<progress id="member-progress" max="10000" value="5000">' in card
    assert '<label for="member-progress">Progress to 金卡会员</label>' in card
    assert "750 more growth to reach 金卡会员" in card and "2% off your purchases" in card
    assert "Free shipping" not in card


def test_at_the_top_the_card_says_so_and_lists_every_benefit(app):
    ladder("普通会员", "金卡会员")
    client, user = signed_in(app)
    give(app, user.id, 2600)
    card = _card(client.get("/me", headers=EN).get_data(as_text=True))
    assert "金卡会员" in card and "You have reached the highest level." in card and "<progress" not in card
    assert "5% off your purchases" in card and "Points ×1.5" in card and "Free shipping" in card


def test_below_the_lowest_level_the_card_shows_the_way_to_it(app):
    ladder("银卡会员")
    client, user = signed_in(app)
    card = _card(client.get("/me", headers=EN).get_data(as_text=True))
    assert "No level yet" in card and 'data-testid="growth">0<' in card
    assert 'value="0"' in card and "500 more growth to reach 银卡会员" in card
    assert "No benefits at this level" in card


def test_without_levels_the_me_page_has_no_card(app):
    client, user = signed_in(app)
    give(app, user.id, 300)
    html = client.get("/me", headers=EN).get_data(as_text=True)
    assert client.get("/me").status_code == 200 and "My orders" in html and _card(html) == ""


def test_the_card_costs_two_queries(app):
    ladder()
    _client, user = signed_in(app)
    give(app, user.id, 700)
    with app.app_context():
        db.session.execute(db.select(1))  # connect first: only the card's queries count
        with counted_queries(app) as statements:
            standing = services.standing(user.id)
        assert len(statements) == 2, statements
        assert (standing.growth, standing.level.name, standing.next_level.name) == (700, "银卡会员", "金卡会员")
        assert (standing.needed, standing.progress_bp) == (1300, 200 * 10_000 // 1500)


def test_the_member_page_lists_the_levels_and_the_growth_history(app, client):
    from tests.referrals.helpers import order_paid_by, refund

    ladder("普通会员", "银卡会员")
    shopper, user = signed_in(app)
    order_id = order_paid_by(app, user.id, price=60000)
    refund(app, order_id, 30000, "half")
    html = shopper.get("/me/level", headers=EN).get_data(as_text=True)
    assert "普通会员" in html and "银卡会员" in html and "from 500 growth" in html
    assert "Order paid" in html and "+600" in html and "Refund: growth taken back" in html and "-300" in html
    assert 'aria-current="true" class="current"' in html and 'data-testid="growth">300<' in html
    assert client.get("/me/level").status_code == 302  # signed out: to sign in


def test_a_new_shopper_stands_on_a_level_that_starts_at_zero(app):
    ladder()
    client, user = signed_in(app)
    card = _card(client.get("/me", headers=EN).get_data(as_text=True))
    assert 'data-testid="member-level">普通会员<' in card and 'data-testid="growth">0<' in card
    assert 'value="0"' in card and "500 more growth to reach 银卡会员" in card
