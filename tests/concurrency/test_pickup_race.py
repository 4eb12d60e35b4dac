"""Pickup verification (核销) under real parallel requests on PostgreSQL: ten staff
members of the store confirming one code at once, one staff member confirming it from
ten tabs at once (the refusals are 409s, which the guess limit, per staff member and
store, does not count, and a code of the store is never refused by it), and an admin's
full refund racing the confirmation. Exact counts."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.orders.models import Order, OrderEvent
from shop.payments.models import Refund
from shop.stores import PICKUP_REASON
from shop.stores.models import PickupCode
from shop.wallet import services as wallet
from tests.concurrency.http import form_fields, post_answer, request, session_cookie, together
from tests.factories import StoreFactory, UserFactory
from tests.stores.helpers import paid_pickup, pickup_product, staff_at, verify_form

pytestmark = pytest.mark.postgres

STAFF = 10


def _pickup_page(app, live_server, user_id: int) -> tuple[str, str]:
    """The staff member opens /admin/pickup: (their session cookie, CSRF token)."""
    status, html, cookie = request(f"{live_server.url}/admin/pickup", session_cookie(app, user_id))
    assert status == 200 and 'data-testid="code"' in html, html[:300]
    return cookie, form_fields(html, "csrf_token")["csrf_token"]


def _message(body: str) -> str:
    """The refusal the result block shows (data-testid="pickup-error")."""
    match = re.search(r'data-testid="pickup-error">([^<]*)<', body)
    return match.group(1) if match else body[:600]


def _state(app, order_id: int) -> dict:
    """The order, its code and its events, read in a context of its own."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        code = db.session.get(PickupCode, order_id)
        events = db.session.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.reason, OrderEvent.actor_id)
            .where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)).all()
        return {"status": order.status, "picked_up_at": code.picked_up_at,
                "picked_up_by": code.picked_up_by_id, "events": [tuple(e) for e in events]}


def _completions(state: dict) -> list[tuple]:
    return [e for e in state["events"] if e[1] == "completed"]


def _check_one_winner(results, state, staff_ids: list[int]) -> int:
    """Exactly one 200 that says handed over, the rest 409 saying the code is used; the
    order completed once, by the winner. The winner's user id."""
    codes = sorted(code for code, _body in results)
    assert codes == [200] + [409] * (len(results) - 1), codes
    (winner,) = [i for i, (code, _body) in enumerate(results) if code == 200]
    assert 'data-testid="pickup-done"' in results[winner][1]
    for code, body in results:
        if code == 409:
            assert 'data-testid="pickup-done"' not in body
            assert 'data-testid="pickup-error"' in body
            # every loser is told the code is used (just now, or when it was read)
            message = _message(body)
            assert message.startswith(("This code was just used.", "This code was already used")), message
    assert state["status"] == "completed"
    assert state["picked_up_at"] is not None
    assert state["picked_up_by"] == staff_ids[winner]
    assert _completions(state) == [("paid", "completed", PICKUP_REASON, staff_ids[winner])]
    return staff_ids[winner]


def test_ten_staff_members_confirming_one_code_at_once_hand_it_over_once(app, live_server):
    store = StoreFactory()
    _client, _shopper, order_id, code = paid_pickup(app, store)
    assert code is not None and len(code) == 10
    staff = [staff_at(store) for _ in range(STAFF)]
    pages = [_pickup_page(app, live_server, s.id) for s in staff]
    before = _state(app, order_id)
    assert (before["status"], before["picked_up_at"], _completions(before)) == ("paid", None, [])

    url = f"{live_server.url}/admin/pickup/confirm"
    form = verify_form(store.id, code)
    started = time.monotonic()
    results = together([lambda c=cookie, t=csrf: post_answer(url, c, dict(form, csrf_token=t))
                        for cookie, csrf in pages])
    elapsed = time.monotonic() - started
    assert not [r for r in results if isinstance(r, Exception)], results

    state = _state(app, order_id)
    _check_one_winner(results, state, [s.id for s in staff])
    assert len(state["events"]) == len(before["events"]) + 1
    # the code stays used: one more try changes nothing
    cookie, token = pages[0]
    status, body = post_answer(url, cookie, dict(form, csrf_token=token))
    assert status == 409 and "This code was already used" in body
    assert _state(app, order_id) == state
    print(f"\n{STAFF} staff members confirming one code: {elapsed:.2f}s")


def test_one_staff_member_confirming_from_ten_tabs_is_not_rate_limited(app, live_server):
    """The refusals of a valid code (409) are not guesses: with a guess limit of 2, the
    nine 409s leave the staff member both of their wrong-code look-ups, and the third
    wrong code is the one refused with 429."""
    app.config["PICKUP_GUESS_LIMIT"] = "2 per 10 minutes"
    store = StoreFactory()
    _client, _shopper, order_id, code = paid_pickup(app, store)
    member = staff_at(store)
    cookie, token = _pickup_page(app, live_server, member.id)

    url = f"{live_server.url}/admin/pickup/confirm"
    form = dict(verify_form(store.id, code), csrf_token=token)
    started = time.monotonic()
    results = together([lambda: post_answer(url, cookie, form)] * STAFF)
    elapsed = time.monotonic() - started
    assert not [r for r in results if isinstance(r, Exception)], results
    state = _state(app, order_id)
    _check_one_winner(results, state, [member.id] * STAFF)

    look_up = f"{live_server.url}/admin/pickup/look-up"
    assert post_answer(url, cookie, form)[0] == 409  # the used code again: still not counted
    wrong = dict(verify_form(store.id, "ZZZZZZZZZZ"), csrf_token=token)
    assert [post_answer(look_up, cookie, wrong)[0] for _ in range(3)] == [404, 404, 429]
    # throttled now, yet a code of this store is still answered (used: 409, not 429)
    status, body = post_answer(look_up, cookie, form)
    assert status == 409 and "This code was already used" in body
    assert _state(app, order_id) == state
    print(f"\none staff member, {STAFF} tabs: {elapsed:.2f}s")


ROUNDS = 6


def test_a_refund_racing_the_confirmation_ends_in_one_consistent_state(app, live_server):
    """An admin refunds the whole order while the staff member confirms its code. Either
    the order was picked up and then refunded (completed -> refunded), or it was refunded
    and the code refused (409, the code unused); the money comes back once either way."""
    store = StoreFactory()
    _product, sku = pickup_product(price=5000, stock=50)
    member, admin = staff_at(store), UserFactory(role="admin")
    staff_cookie, staff_token = _pickup_page(app, live_server, member.id)
    admin_cookie = session_cookie(app, admin.id)
    outcomes, timings = [], []
    for round_ in range(ROUNDS):
        _client, shopper, order_id, code = paid_pickup(app, store, sku)
        status, html, admin_cookie = request(f"{live_server.url}/admin/orders/{order_id}", admin_cookie)
        assert status == 200 and 'data-testid="refund-form"' in html, html[:300]
        refund_form = dict(form_fields(html, "csrf_token", "token"), amount="50.00",
                           reason="顾客不要了")
        with app.app_context():
            assert wallet.balance(shopper.id) == 0

        def confirm():
            return post_answer(f"{live_server.url}/admin/pickup/confirm", staff_cookie,
                         dict(verify_form(store.id, code), csrf_token=staff_token))

        def refund():
            time.sleep(0.002 * round_)  # from refund-first towards confirm-first
            return post_answer(f"{live_server.url}/admin/orders/{order_id}/refund", admin_cookie, refund_form)

        started = time.monotonic()
        (confirm_code, confirm_body), (refund_code, refund_body) = together([confirm, refund])
        timings.append(time.monotonic() - started)
        assert refund_code == 302, (round_, refund_code, refund_body[:600])

        state = _state(app, order_id)
        moves = [(e[0], e[1]) for e in state["events"] if e[0] != e[1]]
        assert state["status"] == "refunded", (round_, state)
        with app.app_context():
            refunds = db.session.execute(select(Refund.amount_minor, Refund.status)
                                         .where(Refund.order_id == order_id)).all()
            assert [tuple(r) for r in refunds] == [(5000, "succeeded")]
            assert wallet.balance(shopper.id) == 5000
        if confirm_code == 200:
            assert 'data-testid="pickup-done"' in confirm_body
            assert state["picked_up_at"] is not None and state["picked_up_by"] == member.id
            assert moves[-2:] == [("paid", "completed"), ("completed", "refunded")], moves
            outcomes.append("picked up, then refunded")
        else:
            assert confirm_code == 409, (round_, confirm_code, confirm_body[:600])
            assert "This order is refunded" in confirm_body and 'data-testid="pickup-done"' not in confirm_body
            assert (state["picked_up_at"], state["picked_up_by"]) == (None, None)
            assert moves[-1] == ("paid", "refunded") and _completions(state) == [], moves
            outcomes.append("refunded, code refused")
        with app.app_context():  # the event rows are one per move, never twice
            assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.to_status == "refunded")) == 1
    print(f"\nrefund vs confirmation: {outcomes} in {', '.join(f'{t:.2f}s' for t in timings)}")
