"""Coupons through the pages: the claim centre and its htmx claim, the limits, coupons
granted at registration, the coupon checkout picks and the shopper's choice, coupons
refused at checkout, and a coupon used by an order and given back when the order is
cancelled or refunded in full."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from shop.db import db, utcnow
from shop.orders import placement
from shop.orders import services as orders
from shop.orders.models import Order, OrderAdjustment
from shop.promotions import services
from shop.promotions.models import Coupon, CouponEntry, UserCoupon
from shop.wallet import services as wallet
from tests.conftest import signed_in
from tests.factories import UserFactory, product_with_skus
from tests.promotions import helpers as h
from tests.promotions.helpers import EN, HX


def _coupon(app, **values) -> int:
    with app.app_context():
        made = h.coupon(**values)
        db.session.commit()
        return made.id


def _held(app, user_id: int, coupon_id: int, **values) -> int:
    with app.app_context():
        held = h.hold(user_id, db.session.get(Coupon, coupon_id), **values)
        db.session.commit()
        return held.id


def _in_cart(app, user_id: int, price: int = 5000, quantity: int = 1):
    """A new product's SKU in the shopper's cart: (product, sku)."""
    product, (sku, _other) = product_with_skus(skus=(("红", price, 10), ("蓝", price, 0)))
    with app.app_context():
        h.in_cart(user_id, sku.id, quantity)
        db.session.commit()
    return product, sku


def _held_state(app, held_id: int) -> tuple:
    with app.app_context():
        held = db.session.get(UserCoupon, held_id)
        return held.status, held.order_id, held.discount_minor


def _claims(app, coupon_id: int) -> tuple[int, int | None, int]:
    """Claims made, the quantity left, the claim rows of the ledger."""
    with app.app_context():
        return (h.rows(UserCoupon, UserCoupon.coupon_id == coupon_id),
                db.session.get(Coupon, coupon_id).remaining,
                h.rows(CouponEntry, CouponEntry.coupon_id == coupon_id, CouponEntry.action == "claim"))


def _place(client, **values):
    return client.post_form("/checkout", h.order_form(**values), headers=EN)


def _order_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    return int(re.search(r"/orders/(\d+)$", response.headers["Location"]).group(1))


def _steps(app, order_id: int) -> tuple[int, list[tuple[str, int]]]:
    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.total_minor, [(a.kind, a.amount_minor) for a in order.adjustments]


# --- the claim centre ---------------------------------------------------------------------


def test_the_claim_centre_lists_the_coupons_on_offer(app, client):
    now = utcnow()
    _coupon(app, name="满100减10")
    _coupon(app, name="七天券", valid_days=7, valid_until=None)
    _coupon(app, name="内部券", claimable=False)
    _coupon(app, name="停用券", active=False)
    _coupon(app, name="过期券", valid_from=now - 3 * h.DAY, valid_until=now - h.DAY)
    page = client.get("/coupons", headers=EN).get_data(as_text=True)
    assert "满100减10" in page and "七天券" in page
    assert "内部券" not in page and "停用券" not in page and "过期券" not in page
    # signing in to claim opens the phone sign-in sheet in place (the plain page without JS)
    assert ('<a href="/signin/phone?next=/coupons" hx-get="/signin/phone?next=/coupons">'
            'Sign in to claim coupons</a>') in page


def test_an_htmx_claim_swaps_the_card_to_claimed(app):
    client, user = signed_in(app)
    coupon_id = _coupon(app, name="领我", total_quantity=5)
    assert f'hx-post="/coupons/{coupon_id}/claim"' in client.get("/coupons").get_data(as_text=True)
    response = client.post_form(f"/coupons/{coupon_id}/claim", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="coupon-{coupon_id}"' in body and "Claimed" in body and "<html" not in body
    assert "4 left" in body
    assert _claims(app, coupon_id) == (1, 4, 1)
    with app.app_context():
        held = db.session.scalar(select(UserCoupon).where(UserCoupon.coupon_id == coupon_id))
        coupon = db.session.get(Coupon, coupon_id)
        assert (held.user_id, held.source, held.status, held.claim_no) == (user.id, "claim", "available", 1)
        assert held.expires_at == coupon.valid_until


def test_a_claim_past_the_per_user_limit_is_refused_and_adds_nothing(app):
    client, _user = signed_in(app)
    coupon_id = _coupon(app, per_user_limit=2, total_quantity=10)
    first = client.post_form(f"/coupons/{coupon_id}/claim", headers=HX).get_data(as_text=True)
    assert "Claim another" in first
    assert client.post_form(f"/coupons/{coupon_id}/claim", headers=HX).status_code == 200
    before = _claims(app, coupon_id)
    assert before == (2, 8, 2)
    third = client.post_form(f"/coupons/{coupon_id}/claim", headers=HX)
    assert third.status_code == 409
    assert "You can claim at most 2 of this coupon." in third.get_data(as_text=True)
    assert _claims(app, coupon_id) == before
    # without htmx, the page comes back with the reason
    page = client.post_form(f"/coupons/{coupon_id}/claim", headers=EN)
    assert page.status_code == 409 and "You can claim at most 2 of this coupon." in page.get_data(as_text=True)
    assert _claims(app, coupon_id) == before


def test_a_coupon_claimed_once_per_shopper_says_so(app):
    client, _user = signed_in(app)
    coupon_id = _coupon(app)
    assert client.post_form(f"/coupons/{coupon_id}/claim", headers=HX).status_code == 200
    again = client.post_form(f"/coupons/{coupon_id}/claim", headers=HX)
    assert again.status_code == 409 and "You have already claimed this coupon." in again.get_data(as_text=True)
    assert _claims(app, coupon_id) == (1, None, 1)


def test_a_sold_out_coupon_is_refused(app):
    first, _ = signed_in(app)
    second, other = signed_in(app)
    coupon_id = _coupon(app, total_quantity=1)
    assert first.post_form(f"/coupons/{coupon_id}/claim", headers=HX).status_code == 200
    assert _claims(app, coupon_id) == (1, 0, 1)
    response = second.post_form(f"/coupons/{coupon_id}/claim", headers=HX)
    assert response.status_code == 409
    assert "All of this coupon have been claimed." in response.get_data(as_text=True)
    assert _claims(app, coupon_id) == (1, 0, 1)
    assert h.count(app, UserCoupon, UserCoupon.user_id == other.id) == 0


def test_claiming_needs_a_signed_in_shopper(app, client):
    coupon_id = _coupon(app)
    response = client.post_form(f"/coupons/{coupon_id}/claim", headers=HX)
    assert response.status_code == 200 and "<dialog" in response.get_data(as_text=True)  # the sign-in sheet
    assert _claims(app, coupon_id) == (0, None, 0)


def test_registration_grants_the_newcomer_coupons(app, client):
    welcome = _coupon(app, name="新人券", newcomer=True, claimable=False, valid_days=7, valid_until=None)
    gone = _coupon(app, name="抢光的新人券", newcomer=True, total_quantity=1)
    earlier = UserFactory()
    with app.app_context():  # the only one went to an earlier newcomer
        services.claim(earlier.id, gone, source="newcomer")
        db.session.commit()
    _coupon(app, name="普通券")
    response = client.post_form("/register", {"email": "new@example.com", "nickname": "小新",
                                              "password": "longenough1", "confirm": "longenough1"})
    assert response.status_code == 302
    with app.app_context():
        held = db.session.scalars(select(UserCoupon).where(UserCoupon.user_id != earlier.id)).all()
        assert [(c.coupon_id, c.source, c.status) for c in held] == [(welcome, "newcomer", "available")]
        days = (held[0].expires_at - held[0].starts_at).days
        assert days == 7 and abs((held[0].starts_at - utcnow()).total_seconds()) < 60
    page = client.get("/me/coupons", headers=EN).get_data(as_text=True)
    assert "新人券" in page and "Welcome gift" in page and "普通券" not in page


# --- at checkout --------------------------------------------------------------------------


def _selected(page: str) -> str:
    return re.search(r'<option value="([^"]+)" selected>', page).group(1)


def test_checkout_picks_the_best_coupon_and_the_shopper_can_change_it(app):
    client, user = signed_in(app)
    _in_cart(app, user.id, 5000)
    five = _held(app, user.id, _coupon(app, name="省五元", amount_minor=500))
    eight = _held(app, user.id, _coupon(app, name="省八元", amount_minor=800))

    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    assert _selected(page) == str(eight)
    assert "Coupon: 省八元" in page and "-CN¥8.00" in page and "CN¥52.00" in page

    none = client.get("/checkout?coupon=none", headers=HX).get_data(as_text=True)
    assert "<html" not in none and _selected(none) == "none"
    assert "Coupon: " not in none and "CN¥60.00" in none

    other = client.get(f"/checkout?coupon={five}", headers=HX).get_data(as_text=True)
    assert _selected(other) == str(five) and "Coupon: 省五元" in other and "CN¥55.00" in other

    order_id = _order_id(_place(client, coupon=str(five)))
    assert _steps(app, order_id) == (5500, [("coupon", -500), ("shipping", 1000)])
    assert _held_state(app, five) == ("used", order_id, 500)
    assert _held_state(app, eight) == ("available", None, 0)
    with app.app_context():
        step = db.session.scalar(select(OrderAdjustment).where(OrderAdjustment.order_id == order_id,
                                                               OrderAdjustment.kind == "coupon"))
        coupon_id = db.session.get(UserCoupon, five).coupon_id
        assert (step.detail, step.ref_id) == ("省五元", coupon_id)
        assert h.rows(CouponEntry, CouponEntry.action == "use", CouponEntry.ref_id == str(order_id)) == 1
    assert h.cart_of(app, user.id) == []


def test_checkout_without_a_coupon_keeps_it(app):
    client, user = signed_in(app)
    _in_cart(app, user.id, 5000)
    held = _held(app, user.id, _coupon(app, amount_minor=500))
    order_id = _order_id(_place(client, coupon="none"))
    assert _steps(app, order_id) == (6000, [("shipping", 1000)])
    assert _held_state(app, held) == ("available", None, 0)


@pytest.mark.parametrize("case, reason", [
    ("scope", "This coupon does not apply to these items."),
    ("min_spend", "more on the items it applies to."),
    ("expired", "This coupon has expired."),
    ("not_yet", "This coupon can be used from"),
    ("someone_elses", "That coupon is not yours."),
    ("unknown", "That coupon is not yours."),
])
def test_a_coupon_that_can_not_be_used_is_refused_and_nothing_is_placed(app, case, reason):
    client, user = signed_in(app)
    product, sku = _in_cart(app, user.id, 5000, quantity=2)
    other_product, _other_sku = product_with_skus()
    values = {"scope": {"scope": "products", "scope_ids": [other_product.id]},
              "min_spend": {"min_spend_minor": 10001}}.get(case, {})
    holder = UserFactory().id if case == "someone_elses" else user.id
    now = utcnow()
    timing = {"expired": {"expires_at": now - h.HOUR, "starts_at": now - h.DAY},
              "not_yet": {"starts_at": now + h.DAY}}.get(case, {})
    held = _held(app, holder, _coupon(app, amount_minor=500, **values), **timing)
    choice = "9999999" if case == "unknown" else str(held)
    response = _place(client, coupon=choice)
    assert response.status_code == 409, response.get_data(as_text=True)[:600]
    assert reason in response.get_data(as_text=True)
    assert h.count(app, Order) == 0
    assert h.cart_of(app, user.id) == [(sku.id, 2)]
    assert _held_state(app, held) == ("available", None, 0)
    # the same cart with no coupon is placed
    assert _steps(app, _order_id(_place(client, coupon="none"))) == (10000, [])


def test_prices_and_discounts_posted_by_the_client_are_ignored(app):
    client, user = signed_in(app)
    _in_cart(app, user.id, 5000)
    held = _held(app, user.id, _coupon(app, amount_minor=500))
    order_id = _order_id(_place(client, coupon=str(held), total_minor="1", subtotal_minor="1",
                                discount="99999", discount_minor="99999", amount_minor="99999",
                                price="1", unit_price_minor="1", shipping="0"))
    assert _steps(app, order_id) == (5500, [("coupon", -500), ("shipping", 1000)])
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.subtotal_minor == 5000 and [l.unit_price_minor for l in order.lines] == [5000]
    assert _held_state(app, held) == ("used", order_id, 500)


# --- given back ---------------------------------------------------------------------------


def _placed_with_coupon(app, *, returns: bool = True):
    client, user = signed_in(app)
    _in_cart(app, user.id, 5000, quantity=2)
    held = _held(app, user.id, _coupon(app, amount_minor=500, returns=returns))
    order_id = _order_id(_place(client, coupon=str(held)))
    assert _held_state(app, held) == ("used", order_id, 500)
    return user, held, order_id


@pytest.mark.parametrize("returns", [True, False])
def test_cancelling_the_unpaid_order_gives_the_coupon_back_if_it_returns(app, returns):
    user, held, order_id = _placed_with_coupon(app, returns=returns)
    with app.app_context():
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="test")
        db.session.commit()
        back = h.rows(CouponEntry, CouponEntry.action == "return")
    if returns:
        assert _held_state(app, held) == ("available", None, 0) and back == 1
        with app.app_context():  # and the next checkout can use it again
            h.in_cart(user.id, product_with_skus()[1][0].id)
            assert placement.cart_quote(user.id)[1].priced.offers["coupon_chosen"] == held
    else:
        assert _held_state(app, held) == ("used", order_id, 500) and back == 0


def _pay_from_wallet(app, user_id: int, order_id: int) -> int:
    with app.app_context():
        order = db.session.get(Order, order_id)
        wallet.move(user_id, order.total_minor, reason="t", ref_type="test", ref_id=f"o{order_id}")
        orders.pay_with_wallet(order, user_id)
        db.session.commit()
        return order.total_minor


def _refund(app, order_id: int, amount: int) -> None:
    admin = UserFactory(role="admin")
    with app.app_context():
        orders.refund(db.session.get(Order, order_id), amount, key=uuid.uuid4().hex,
                      reason="test", actor_id=admin.id, restock=False)
        db.session.commit()


def test_a_full_refund_gives_the_coupon_back(app):
    user, held, order_id = _placed_with_coupon(app)
    total = _pay_from_wallet(app, user.id, order_id)
    assert total == 10000 - 500 + 1000  # 95.00 is below free shipping from 99.00
    _refund(app, order_id, total)
    assert _held_state(app, held) == ("available", None, 0)


def test_a_partial_refund_keeps_the_coupon_used_until_the_rest_is_refunded(app):
    user, held, order_id = _placed_with_coupon(app)
    total = _pay_from_wallet(app, user.id, order_id)
    _refund(app, order_id, 1000)
    assert _held_state(app, held) == ("used", order_id, 500)
    _refund(app, order_id, total - 1000)  # all of it refunded now, in two parts
    assert _held_state(app, held) == ("available", None, 0)


def test_my_coupons_lists_the_shoppers_coupons_by_state(app):
    client, user = signed_in(app)
    _held(app, user.id, _coupon(app, name="能用的券"))
    now = utcnow()
    _held(app, user.id, _coupon(app, name="过期的券"), expires_at=now - h.HOUR, starts_at=now - h.DAY)
    _held(app, UserFactory().id, _coupon(app, name="别人的券"))
    _in_cart(app, user.id, 5000)
    used = _held(app, user.id, _coupon(app, name="用过的券", amount_minor=9000))
    order_id = _order_id(_place(client, coupon=str(used)))
    page = client.get("/me/coupons", headers=EN).get_data(as_text=True)
    assert page.count('data-testid="my-coupon"') == 3 and "别人的券" not in page
    for name, state in [("能用的券", "Ready to use at checkout"), ("过期的券", "Expired"),
                        ("用过的券", "Used")]:
        card = page[page.index(name):]
        card = card[:card.index("</li>")]
        assert state in card, (name, card)
    assert f"/orders/{order_id}" in page
