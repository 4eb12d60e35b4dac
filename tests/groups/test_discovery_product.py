"""The product page as a way into the social offers: the headline price with no option
chosen, the action bar's ways to buy (server priced, only those that apply), the group
section under the price rendered with the page (no request of its own), recent buyers
from paid orders only."""

from __future__ import annotations

import re
from datetime import timedelta

from shop.db import db, utcnow
from shop.groups.models import GroupCampaign
from tests.factories import (BargainCampaignFactory, FlashItemFactory, FlashSessionFactory,
                             product_with_skus)
from tests.groups.helpers import campaign, join_held, open_paid_group

EN = {"Accept-Language": "en"}


def _bar(html: str) -> dict[str, str]:
    """{kind: the price it shows} of the action bar."""
    bar = re.search(r'<nav id="buybar".*?</nav>', html, re.S).group(0)
    return dict(re.findall(r'data-testid="bar-(\w+)"[^>]*><b>([^<]+)</b>', bar))


def _price(html: str) -> str:
    return re.search(r'data-testid="price">([^<]+)<', html).group(1)


def test_the_headline_is_the_cheapest_option_in_stock(app, client):
    product, (red, blue, _green) = product_with_skus(skus=(("红", 990, 0), ("蓝", 2590, 4),
                                                           ("绿", 3590, 2)))
    html = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert _price(html) == "CN¥25.90 and up"  # not the sold-out ¥9.90
    assert f'name="sku_id" value="{blue.id}"' in html and _bar(html) == {"solo": "CN¥25.90"}
    chosen = client.get(f"/p/{product.id}?o0=绿", headers=EN).get_data(as_text=True)
    assert _price(chosen) == "CN¥35.90" and _bar(chosen) == {"solo": "CN¥35.90"}
    swap = client.get(f"/p/{product.id}?o0=绿", headers=dict(EN, **{"HX-Request": "true"})).get_data(as_text=True)
    assert "<html" not in swap and _price(swap) == "CN¥35.90" and _bar(swap) == {"solo": "CN¥35.90"}
    assert 'id="buybar" class="buybar" ' in swap and swap.count('hx-swap-oob="true"') == 2  # bar, buy box
    single, _ = product_with_skus(skus=(("红", 1990, 0), ("蓝", 1290, 3)))
    assert _price(client.get(f"/p/{single.id}", headers=EN).get_data(as_text=True)) == "CN¥12.90"
    gone, _ = product_with_skus(skus=(("红", 1990, 0), ("蓝", 990, 0)))
    html = client.get(f"/p/{gone.id}", headers=EN).get_data(as_text=True)
    assert _price(html) == "CN¥9.90" and _bar(html) == {"solo": "Sold out"}  # nothing "and up" on offer


def test_a_card_shows_the_price_its_product_page_leads_with(app, client):
    """The cards of the listings (and of search, the home page, collections) price a
    product as its page does: not by a sold-out option cheaper than those in stock."""
    product, _skus = product_with_skus(skus=(("红", 990, 0), ("蓝", 2590, 4)))
    gone, _ = product_with_skus(skus=(("红", 1990, 0), ("蓝", 990, 0)))
    cards = {}
    for category_id in {product.category_id, gone.category_id}:
        listing = client.get(f"/c/{category_id}", headers=EN).get_data(as_text=True)
        cards.update(re.findall(r'href="/p/(\d+)".*?class="price">([^<]+)<', listing, re.S))
    assert cards[str(product.id)] == "CN¥25.90" and cards[str(gone.id)] == "CN¥9.90"


def test_the_bar_offers_only_the_ways_that_apply_at_their_prices(app, client):
    plain, _ = product_with_skus()
    assert _bar(client.get(f"/p/{plain.id}", headers=EN).get_data(as_text=True)) == {"solo": "CN¥19.90"}

    campaign_id, sku_id = campaign(size=3, price=990)
    with app.app_context():
        product_id = db.session.get(GroupCampaign, campaign_id).product_id
    FlashItemFactory(sku_id=sku_id, price_minor=1490)
    html = client.get(f"/p/{product_id}", headers=EN).get_data(as_text=True)
    assert _bar(html) == {"solo": "CN¥19.90", "group": "CN¥9.90", "flash": "CN¥14.90"}
    assert f'href="/group-buys/{campaign_id}" class="button primary" data-testid="bar-group"' in html
    # a bargain running is a way to buy; a flash session not on yet is not
    bargain = BargainCampaignFactory()
    html = client.get(f"/p/{bargain.product_id}", headers=EN).get_data(as_text=True)
    assert _bar(html) == {"solo": "CN¥100.00", "bargain": "CN¥10.00"}
    later, (sku,) = product_with_skus(skus=(("红", 5000, 5),))
    FlashItemFactory(sku_id=sku.id, session_id=FlashSessionFactory(
        starts_at=utcnow() + timedelta(hours=3), ends_at=utcnow() + timedelta(hours=5)).id)
    assert _bar(client.get(f"/p/{later.id}", headers=EN).get_data(as_text=True)) == {"solo": "CN¥50.00"}


def test_open_groups_and_recent_buyers_come_with_the_page(app, client):
    """No request of its own for the group section (issue 27): the page draws it, the
    groups open to join right under the price, before the title; buyers from paid orders."""
    campaign_id, sku_id = campaign(size=3)
    with app.app_context():
        product_id = db.session.get(GroupCampaign, campaign_id).product_id
    fresh = client.get(f"/p/{product_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="recent-proof"' not in fresh and 'data-testid="join-open-group"' not in fresh
    assert f'/p/{product_id}/groups' not in fresh
    _leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    join_held(app, group_id, sku_id)  # unpaid: neither a buyer nor counted
    from shop.extensions import cache
    with app.app_context():
        cache.clear()
    html = client.get(f"/p/{product_id}", headers=EN).get_data(as_text=True)
    # price, name, then the groups to join, before the options and the buy box
    assert html.index('data-testid="price"') < html.index('class="product-title"') \
        < html.index(f'href="/groups/{group_id}"') < html.index('class="sku-form"')
    assert "1 seat left" in html and html.count("joined a group") == 1
    assert '<span data-testid="joined">1 joined</span>' in html
