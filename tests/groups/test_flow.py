"""The shopper flow of a group buy through its pages: open and pay, join through the
group page and pay, complete; refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from shop.db import db, utcnow
from shop.groups.models import CampaignUnitEntry, Group, GroupCampaign, GroupSeatEntry
from shop.orders.models import Order
from tests.conftest import signed_in
from tests.groups.helpers import (campaign, fund, group_of, group_state, join,
                                  open_paid_group, order_id_of, pay_wallet, seat_form)


def test_open_join_and_complete(app):
    campaign_id, sku_id = campaign(size=2, price=990, leader_price=890)
    leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id, price=890)
    state = group_state(app, group_id)
    assert state["status"] == "open" and state["paid_count"] == 1 and state["seats_left"] == 1
    assert state["members"] == [(lead_user.id, "paid", "paid", "group")]  # held from shipping

    friend, friend_user = signed_in(app)
    page = friend.get(f"/groups/{group_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 of 2 seats paid" in page and 'data-testid="join-group"' in page
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
        assert db.session.execute(select(CampaignUnitEntry.delta, CampaignUnitEntry.reason)
                                  .order_by(CampaignUnitEntry.id)).all() == [
            (20, "stock cap"), (-1, "claimed"), (-1, "claimed")]  # the cap opened it
        # the group opened with its seats (the ledger's first row), then two were claimed
        assert db.session.execute(select(GroupSeatEntry.delta, GroupSeatEntry.reason)
                                  .order_by(GroupSeatEntry.id)).all() == [
            (2, "opened"), (-1, "claimed"), (-1, "claimed")]


def test_refusals_change_nothing(app):
    campaign_id, sku_id = campaign(size=2)
    leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    before = group_state(app, group_id)

    # the leader joining their own group
    url = f"/groups/{group_id}"
    response = leader.post_form(f"{url}/join", seat_form(leader, url, sku_id),
                                headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "You are already in this group." in response.get_data(as_text=True)
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

    # the group fills; a third shopper is refused with the reason, and nothing moves
    order_id = order_id_of(join(other, group_id, sku_id))
    full = group_state(app, group_id)
    third, _third = signed_in(app)
    response = join(third, group_id, sku_id)
    assert response.status_code == 409
    assert "This group is full." in third.post_form(
        f"/groups/{group_id}/join", seat_form(third, f"/groups/{group_id}", sku_id),
        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert group_state(app, group_id) == full
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 2

    # another user's group order is not theirs to see or pay
    assert third.get(f"/orders/{order_id}").status_code == 404
    assert pay_wallet(third, order_id).status_code == 404


def test_a_group_past_its_deadline_or_settled_refuses_joins(app):
    campaign_id, sku_id = campaign(size=3)
    _leader, _user, group_id = open_paid_group(app, campaign_id, sku_id)
    with app.app_context():
        db.session.execute(update(Group).where(Group.id == group_id)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    before = group_state(app, group_id)
    friend, _friend = signed_in(app)
    page = friend.get(f"/groups/{group_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="join-group"' not in page  # no form to join
    response = friend.post_form(f"/groups/{group_id}/join",
                                seat_form(friend, f"/groups/{group_id}", sku_id),
                                headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "This group has closed." in response.get_data(as_text=True)
    assert group_state(app, group_id) == before


def test_a_pending_group_is_its_leaders_only_and_does_not_poll(app):
    campaign_id, sku_id = campaign(size=2)
    leader, _user = signed_in(app)
    url = f"/group-buys/{campaign_id}"
    order_id = order_id_of(leader.post_form(f"{url}/open", seat_form(leader, url, sku_id)))
    group_id = group_of(app, order_id)
    page = leader.get(f"/groups/{group_id}").get_data(as_text=True)
    assert 'id="group-progress"' in page and "hx-trigger" not in page.split('id="group-progress"')[1].split(">")[0]
    other, _other = signed_in(app)
    assert other.get(f"/groups/{group_id}").status_code == 404
    assert other.get(f"/groups/{group_id}/progress").status_code == 404
