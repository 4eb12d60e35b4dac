"""The shopper flow of a group buy through its pages: open and pay, join through the
group page and pay, complete; refusals that change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.db import db
from shop.groups.models import CampaignUnitEntry, GroupCampaign, GroupSeatEntry
from shop.orders.models import Order
from tests.conftest import signed_in
from tests.groups.helpers import (campaign, fund, group_state, join, open_paid_group,
                                  order_id_of, pay_wallet, seat_form)


def test_open_join_and_complete(app):
    campaign_id, sku_id = campaign(size=2, price=990, leader_price=890)
    leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id, price=890)
    state = group_state(app, group_id)
    assert state["status"] == "open" and state["paid_count"] == 1 and state["seats_left"] == 1
    assert state["members"] == [(lead_user.id, "paid", "paid", "group")]  # held from shipping

    friend, friend_user = signed_in(app)
    page = friend.get(f"/groups/{group_id}").get_data(as_text=True)
    assert "1 of 2 seats paid" in page or "2 个名额已付 1 个" in page or 'data-testid="join-group"' in page
    order_id = order_id_of(join(friend, group_id, sku_id))
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.kind, order.total_minor, order.status) == ("group", 990, "awaiting_payment")
    fund(app, friend_user.id, 990, "friend")
    assert pay_wallet(friend, order_id).status_code == 302

    state = group_state(app, group_id)
    assert state["status"] == "complete" and state["paid_count"] == 2 and state["seats_left"] == 0
    assert [m[1:] for m in state["members"]] == [("paid", "paid", None), ("paid", "paid", None)]
    with app.app_context():
        units = db.session.scalar(select(GroupCampaign.units_left).where(GroupCampaign.id == campaign_id))
        assert units == 18  # two of 20 taken, each with a ledger row
        assert db.session.scalar(select(func.count(CampaignUnitEntry.id))) == 2
        assert db.session.scalar(select(func.count(GroupSeatEntry.id))) == 2


def test_refusals_change_nothing(app):
    campaign_id, sku_id = campaign(size=2)
    leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    before = group_state(app, group_id)

    # the leader joining their own group
    response = join(leader, group_id, sku_id)
    assert response.status_code == 409
    assert group_state(app, group_id) == before

    # a forged group id
    other, _user = signed_in(app)
    assert other.get("/groups/999999").status_code == 404
    assert other.post_form("/groups/999999/join", {}).status_code == 404

    # an option that is not in the campaign
    url = f"/groups/{group_id}"
    response = other.post_form(f"{url}/join", seat_form(other, url, sku_id + 1000))
    assert response.status_code == 422
    assert group_state(app, group_id) == before

    # the group fills; a third shopper is refused
    order_id = order_id_of(join(other, group_id, sku_id))
    third, _third = signed_in(app)
    response = join(third, group_id, sku_id)
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 2

    # another user's group order is not theirs to see or pay
    assert third.get(f"/orders/{order_id}").status_code == 404
    assert pay_wallet(third, order_id).status_code == 404
