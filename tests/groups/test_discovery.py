"""Finding group buys: the list page, "x 人已拼" and recent joins counted from paid orders
only, names masked (shop.groups.discovery)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from shop.db import db
from shop.extensions import cache
from shop.groups import discovery
from shop.orders.models import Order
from tests.groups.helpers import campaign, join_held, join_paid, open_paid_group


@pytest.mark.pages
@pytest.mark.parametrize("name, shown", [("小明", "小*"), ("用户4812", "用户**12"),
                                         ("Alexander", "Al**er"), ("", "*")])
def test_names_are_masked(name, shown):
    assert discovery.mask_name(name) == shown


def test_a_fresh_shop_shows_no_social_proof(app, client):
    campaign_id, _sku = campaign(size=3)
    html = client.get("/group-buys", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-testid="group-buy"' in html
    assert 'data-testid="joined"' not in html and 'data-testid="recent-proof"' not in html
    assert "人已拼" not in html
    html = client.get(f"/group-buys/{campaign_id}").get_data(as_text=True)
    assert 'data-testid="joined"' not in html and 'data-testid="recent-proof"' not in html


def test_only_paid_orders_count(app, client):
    campaign_id, sku_id = campaign(size=4)
    _leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    join_held(app, group_id, sku_id)  # awaiting payment: not counted
    _c, _u, refunded = join_paid(app, group_id, sku_id)
    with app.app_context():  # paid, then refunded in full: not counted
        db.session.execute(update(Order).where(Order.id == refunded).values(status="refunded"))
        db.session.commit()
        cache.clear()  # the proof is kept PROOF_SECONDS: the pages seen while joining cached none
    html = client.get("/group-buys", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<span data-testid="joined">1 joined</span>' in html
    assert html.count("joined a group") == 1 and discovery.mask_name(lead_user.nickname) in html
    assert 'data-testid="list-join-group"' in html
    for url in (f"/groups/{group_id}", f"/group-buys/{campaign_id}"):  # the group pages too
        html = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert html.count("joined a group") == 1 and discovery.mask_name(lead_user.nickname) in html
        proof = html.split('data-testid="recent-proof"')[1].split("</ul>")[0]
        assert discovery.mask_name(lead_user.nickname) in proof and lead_user.nickname not in proof
        assert " ago joined a group" in proof
