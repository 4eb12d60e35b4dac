"""A group buy at its deadline and around it: failed groups refund every paid member the
way they paid (once), auto-complete, payments that land too late, a leader who never
pays, and the rules that hold a group's orders (no refund while open, no shipping until
complete, new customers only, per-shopper limit, the campaign's stock cap)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.db import db, utcnow
from shop.groups.models import GroupMember
from shop.orders.models import Order, OrderEvent
from shop.payments.models import Payment, Refund
from shop.wallet import services as wallet
from tests.conftest import form_token, signed_in
from tests.groups.helpers import (balances, campaign, confirm_card, fund, group_of, group_state,
                                  join, join_held, join_paid, open_paid_group, order_id_of,
                                  pay_card, seat_form, set_deadline, settle_now,
                                  start_card_payment, sweep_now)
from tests.payments.helpers import EN, stripe_api

CLOSED = "This group has closed, so the payment was not taken."


def _refunds(app, order_id: int) -> list[tuple]:
    """(method, amount, status, gateway id present, key) of the order's refunds."""
    with app.app_context():
        rows = db.session.execute(
            select(Payment.method, Refund.amount_minor, Refund.status, Refund.gateway_id, Refund.key)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.order_id == order_id).order_by(Refund.id)).all()
        return [(m, a, s, bool(g and g.startswith("re_")), k) for m, a, s, g, k in rows]


def _intent(app, payment_id: int) -> str:
    with app.app_context():
        return db.session.get(Payment, payment_id).intent_id


def _events(app, order_id: int) -> list[tuple]:
    with app.app_context():
        return [tuple(e) for e in db.session.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.reason)
            .where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))]


def _order(app, order_id: int) -> tuple:
    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.status, order.hold


def _leader_order(app, group_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(GroupMember.order_id).where(
            GroupMember.group_id == group_id, GroupMember.leader.is_(True)))


# --- a failed group ---------------------------------------------------------------------


@pytest.mark.parametrize("via", ["settle", "sweeper"])
def test_a_failed_group_refunds_each_paid_member_once_the_way_they_paid(stripe_app, localstripe_url, via):
    app = stripe_app
    campaign_id, sku_id = campaign(size=3, price=990, stock=50)
    _leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)  # wallet: 9.90 in, 9.90 out
    card_client, card_user, card_order = join_held(app, group_id, sku_id)
    payment_id = pay_card(card_client, card_order, localstripe_url)
    _held, held_user, held_order = join_held(app, group_id, sku_id)
    lead_order = _leader_order(app, group_id)
    users = [lead_user.id, card_user.id, held_user.id]
    before = balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=users)
    assert (before["units_left"], before["stock"], before["refunds"]) == (17, 47, 0)
    assert before["wallets"] == {lead_user.id: 0, card_user.id: 0, held_user.id: 0}
    state = group_state(app, group_id)
    assert (state["status"], state["paid_count"], state["seats_left"]) == ("open", 2, 0)

    set_deadline(app, group_id, -1)
    if via == "settle":
        assert settle_now(app, group_id) is True
    else:
        assert sweep_now(app)["groups_settled"] == 1

    state = group_state(app, group_id)
    assert (state["status"], state["paid_count"], state["seats_left"]) == ("failed", 2, 3)
    assert [m[:3] for m in state["members"]] == [
        (lead_user.id, "refunded", "refunded"), (card_user.id, "refunded", "refunded"),
        (held_user.id, "released", "cancelled")]
    # the wallet leader: back to the wallet, in full; the card member: one refund at Stripe
    assert _refunds(app, lead_order) == [("wallet", 990, "succeeded", False, f"group-{group_id}-failed-"
                                          + str(_payment_of(app, lead_order)))]
    assert [r[:4] for r in _refunds(app, card_order)] == [("card", 990, "succeeded", True)]
    at_stripe = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={_intent(app, payment_id)}")["data"]
    assert [(r["amount"], r["status"]) for r in at_stripe] == [(990, "succeeded")]
    assert _refunds(app, held_order) == []
    assert _events(app, held_order)[-1] == ("awaiting_payment", "cancelled", "group closed")
    after = balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=users)
    assert after["wallets"] == {lead_user.id: 990, card_user.id: 0, held_user.id: 0}
    assert (after["units_left"], after["stock"], after["refunds"]) == (20, 50, 2)

    # settling again (the job, then the sweeper) changes nothing
    assert settle_now(app, group_id) is False
    assert sweep_now(app)["groups_settled"] == 0
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=users) == after
    assert group_state(app, group_id) == state
    at_stripe = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={_intent(app, payment_id)}")["data"]
    assert len(at_stripe) == 1


def _payment_of(app, order_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Payment.id).where(Payment.order_id == order_id,
                                                          Payment.status == "succeeded"))


def test_settle_before_the_deadline_does_nothing(app):
    campaign_id, sku_id = campaign(size=2)
    _leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    before = group_state(app, group_id)
    assert settle_now(app, group_id) is False
    assert sweep_now(app)["groups_settled"] == 0
    assert group_state(app, group_id) == before
    with app.app_context():
        assert wallet.balance(lead_user.id) == 0


# --- auto-complete ----------------------------------------------------------------------


def test_auto_complete_with_enough_seats_paid_completes_and_the_shop_carries_the_rest(app):
    campaign_id, sku_id = campaign(size=3, auto_complete_bp=6000)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    _member, _user, member_order = join_paid(app, group_id, sku_id)
    _held, _held_user, held_order = join_held(app, group_id, sku_id)
    lead_order = _leader_order(app, group_id)
    assert _order(app, lead_order) == _order(app, member_order) == ("paid", "group")

    set_deadline(app, group_id, -1)
    assert settle_now(app, group_id) is True

    state = group_state(app, group_id)
    assert (state["status"], state["auto_completed"], state["paid_count"]) == ("complete", True, 2)
    assert _order(app, lead_order) == _order(app, member_order) == ("paid", None)
    for order_id in (lead_order, member_order):
        assert _events(app, order_id)[-1] == ("paid", "paid", "group completed by the shop")
    assert _order(app, held_order) == ("cancelled", "group")  # the unpaid seat is not invented
    after = balances(app, campaign_id=campaign_id, sku_id=sku_id)
    assert (after["refunds"], after["units_left"]) == (0, 18)
    page = _leader.get(f"/groups/{group_id}", headers=EN).get_data(as_text=True)
    assert "2 of 3 seats were paid at the deadline, and the shop carries the rest" in page
    assert page.count('class="seat shop"') == 1 and 'hx-trigger="every 3s"' not in page
    assert settle_now(app, group_id) is False
    assert group_state(app, group_id) == state


def test_auto_complete_with_too_few_seats_paid_fails_and_refunds(app):
    campaign_id, sku_id = campaign(size=3, auto_complete_bp=6000)
    _leader, lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    _held, _held_user, held_order = join_held(app, group_id, sku_id)
    lead_order = _leader_order(app, group_id)
    set_deadline(app, group_id, -1)
    assert settle_now(app, group_id) is True
    state = group_state(app, group_id)
    assert (state["status"], state["auto_completed"]) == ("failed", False)
    assert _order(app, lead_order)[0] == "refunded" and _order(app, held_order)[0] == "cancelled"
    assert [r[:3] for r in _refunds(app, lead_order)] == [("wallet", 990, "succeeded")]
    with app.app_context():
        assert wallet.balance(lead_user.id) == 990


# --- a payment after the deadline, before settle -----------------------------------------


def test_a_wallet_payment_after_the_deadline_is_refused_and_takes_nothing(app):
    campaign_id, sku_id = campaign(size=2)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    member, member_user, order_id = join_held(app, group_id, sku_id)
    fund(app, member_user.id, 990, "late")
    set_deadline(app, group_id, -1)
    before = balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=[member_user.id])
    response = member.post_form(f"/orders/{order_id}/pay/wallet", headers=EN)
    assert response.status_code == 409 and CLOSED in response.get_data(as_text=True)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=[member_user.id]) == before
    assert before["wallets"] == {member_user.id: 990}
    assert _order(app, order_id) == ("awaiting_payment", "group")
    state = group_state(app, group_id)
    assert (state["status"], state["paid_count"]) == ("open", 1)
    # then settle: failed, the seat cancelled, nothing taken from the member
    assert settle_now(app, group_id) is True
    assert _order(app, order_id)[0] == "cancelled"
    with app.app_context():
        assert wallet.balance(member_user.id) == 990


def test_a_card_payment_after_the_deadline_is_rejected_and_refunded_in_full(stripe_app, localstripe_url):
    app = stripe_app
    campaign_id, sku_id = campaign(size=2)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    member, _member_user, order_id = join_held(app, group_id, sku_id)
    payment_id = start_card_payment(member, order_id)  # the card page opened in time...
    set_deadline(app, group_id, -1)
    response = confirm_card(member, payment_id, localstripe_url)  # ...and confirmed too late
    assert response.status_code == 302
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.refundable_minor) == ("rejected", 0)
        assert payment.last_error == "这个团已经结束，本次付款未被收取。"  # CLOSED, in the request's language
    assert [r[:4] for r in _refunds(app, order_id)] == [("card", 990, "succeeded", True)]
    at_stripe = stripe_api(localstripe_url, f"/v1/refunds?payment_intent={_intent(app, payment_id)}")["data"]
    assert [(r["amount"], r["status"]) for r in at_stripe] == [(990, "succeeded")]
    assert _order(app, order_id) == ("awaiting_payment", "group")
    state = group_state(app, group_id)
    assert (state["status"], state["paid_count"]) == ("open", 1)
    assert settle_now(app, group_id) is True  # the seat is cancelled; no second refund for it
    assert _order(app, order_id)[0] == "cancelled"
    assert len(_refunds(app, order_id)) == 1
    assert len(stripe_api(localstripe_url, f"/v1/refunds?payment_intent={_intent(app, payment_id)}")["data"]) == 1


# --- a leader who never pays -------------------------------------------------------------


def test_a_leader_who_never_pays_has_the_group_cancelled_by_the_sweeper(app):
    campaign_id, sku_id = campaign(size=3, stock=50)
    leader, _user = signed_in(app)
    url = f"/group-buys/{campaign_id}"
    order_id = order_id_of(leader.post_form(f"{url}/open", seat_form(leader, url, sku_id)))
    group_id = group_of(app, order_id)
    state = group_state(app, group_id)
    assert (state["status"], state["seats_left"]) == ("pending", 2)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id)["units_left"] == 19
    assert sweep_now(app)["orders_cancelled"] == 0  # not yet
    with app.app_context():
        db.session.get(Order, order_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert sweep_now(app)["orders_cancelled"] == 1
    state = group_state(app, group_id)
    assert (state["status"], state["seats_left"], state["members"][0][1:3]) == (
        "cancelled", 3, ("released", "cancelled"))
    after = balances(app, campaign_id=campaign_id, sku_id=sku_id)
    assert (after["units_left"], after["stock"]) == (20, 50)
    assert sweep_now(app)["orders_cancelled"] == 0
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id) == after


# --- the orders of a group that is still open ----------------------------------------------


def _admin_refund(admin, order_id: int, amount: str = "9.90"):
    token = form_token(admin, f"/admin/orders/{order_id}")
    return admin.post_form(f"/admin/orders/{order_id}/refund",
                           {"amount": amount, "reason": "顾客要求", "token": token}, headers=EN)


def test_a_member_order_is_not_refunded_by_hand_while_the_group_is_open(app):
    campaign_id, sku_id = campaign(size=3)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    _member, member_user, member_order = join_paid(app, group_id, sku_id)
    admin, _ = signed_in(app, "admin")
    before = balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=[member_user.id])
    state = group_state(app, group_id)
    response = _admin_refund(admin, member_order)
    assert response.status_code == 409
    assert "belongs to a group buy that is still open" in response.get_data(as_text=True)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id, user_ids=[member_user.id]) == before
    assert group_state(app, group_id) == state and _order(app, member_order) == ("paid", "group")

    join_paid(app, group_id, sku_id)  # the last seat: complete
    assert group_state(app, group_id)["status"] == "complete"
    response = _admin_refund(admin, member_order)
    assert response.status_code == 302
    assert _order(app, member_order)[0] == "refunded"
    assert [r[:3] for r in _refunds(app, member_order)] == [("wallet", 990, "succeeded")]
    with app.app_context():
        assert wallet.balance(member_user.id) == 990


def test_a_held_group_order_can_not_ship_until_the_group_completes(app):
    campaign_id, sku_id = campaign(size=2)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    lead_order = _leader_order(app, group_id)
    staff, _ = signed_in(app, "admin")  # delivery orders are the admins' (store staff: pickups)
    form = {"carrier": "顺丰", "tracking_number": "SF123"}
    response = staff.post_form(f"/admin/orders/{lead_order}/ship", form, headers=EN)
    assert response.status_code == 409
    assert "This order can not ship yet: waiting for its group buy to fill" in response.get_data(as_text=True)
    assert _order(app, lead_order) == ("paid", "group")
    join_paid(app, group_id, sku_id)
    assert _order(app, lead_order) == ("paid", None)
    assert _events(app, lead_order)[-1] == ("paid", "paid", "group complete")
    assert staff.post_form(f"/admin/orders/{lead_order}/ship", form).status_code == 302
    assert _order(app, lead_order) == ("shipped", None)


# --- who may take a seat -----------------------------------------------------------------


def test_new_customers_only_refuses_a_shopper_who_has_paid_before(app):
    from tests.factories import product_with_skus
    from tests.payments.helpers import bought

    campaign_id, sku_id = campaign(size=3, new_customers_only=True)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    veteran, veteran_user = signed_in(app)
    _product, (other_sku, _blue) = product_with_skus()
    with app.app_context():
        bought(veteran_user.id, other_sku.id, "earlier")
        db.session.commit()
    before = balances(app, campaign_id=campaign_id, sku_id=sku_id)
    state = group_state(app, group_id)
    url = f"/groups/{group_id}"
    response = veteran.post_form(f"{url}/join", seat_form(veteran, url, sku_id), headers=EN)
    assert response.status_code == 409
    assert "Only new customers can join this group." in response.get_data(as_text=True)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id) == before
    assert group_state(app, group_id) == state

    newcomer, newcomer_user = signed_in(app)
    order_id = order_id_of(join(newcomer, group_id, sku_id))
    assert group_state(app, group_id)["members"][-1] == (newcomer_user.id, "held", "awaiting_payment", "group")
    assert _order(app, order_id) == ("awaiting_payment", "group")


def test_the_per_shopper_limit_counts_seats_across_the_campaigns_groups(app):
    campaign_id, sku_id = campaign(size=3, per_user_limit=1)
    _a, _ua, group_a = open_paid_group(app, campaign_id, sku_id)
    leader_b, _ub, group_b = open_paid_group(app, campaign_id, sku_id)
    shopper, _user = signed_in(app)
    order_id_of(join(shopper, group_a, sku_id))
    before = balances(app, campaign_id=campaign_id, sku_id=sku_id)
    url = f"/groups/{group_b}"
    response = shopper.post_form(f"{url}/join", seat_form(shopper, url, sku_id), headers=EN)
    assert response.status_code == 409 and "You can take at most 1" in response.get_data(as_text=True)
    # a leader is counted too: opening a second group is refused
    url = f"/group-buys/{campaign_id}"
    response = leader_b.post_form(f"{url}/open", seat_form(leader_b, url, sku_id), headers=EN)
    assert response.status_code == 409 and "You can take at most 1" in response.get_data(as_text=True)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id) == before
    assert group_state(app, group_b)["seats_left"] == 2


def test_the_stock_cap_reached_refuses_a_seat_as_sold_out(app):
    campaign_id, sku_id = campaign(size=3, stock_cap=2)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    join_held(app, group_id, sku_id)
    before = balances(app, campaign_id=campaign_id, sku_id=sku_id)
    state = group_state(app, group_id)
    assert (before["units_left"], state["seats_left"]) == (0, 1)
    late, _user = signed_in(app)
    url = f"/groups/{group_id}"
    response = late.post_form(f"{url}/join", seat_form(late, url, sku_id), headers=EN)
    assert response.status_code == 409 and "This group buy has sold out." in response.get_data(as_text=True)
    url = f"/group-buys/{campaign_id}"
    response = late.post_form(f"{url}/open", seat_form(late, url, sku_id), headers=EN)
    assert response.status_code == 409 and "This group buy has sold out." in response.get_data(as_text=True)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id) == before
    assert group_state(app, group_id) == state
