"""The shopper cancels an unpaid order (the sweeper's path: stock, coupon, points, the
wallet part and a group seat back once) or buys an order again (what is still on sale,
into the cart at today's prices); another shopper's order is a 404, a POST without its
CSRF token a 400, a paid order is not cancelled."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shop.cart.models import CartItem
from shop.catalog.models import Product, Sku, StockMovement
from shop.db import db, utcnow
from shop.orders import placement
from shop.orders import services as orders
from shop.orders.models import Order, OrderEvent
from shop.promotions.models import UserCoupon
from shop.wallet import services as wallet
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import product_with_skus
from tests.groups.helpers import balances, campaign, group_of, group_state, order_id_of, seat_form
from tests.payments.helpers import bought, saved_address
from tests.points.helpers import give, points_of
from tests.promotions import helpers as promotions

EN = {"Accept-Language": "en"}


def _held(app, order_id: int) -> dict:
    """Everything a cancel gives back, read in a context of its own."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        sku_id = order.lines[0].sku_id
        return {"status": order.status, "stock": db.session.get(Sku, sku_id).stock,
                "coupons": db.session.execute(select(UserCoupon.status, UserCoupon.order_id)
                                              .where(UserCoupon.user_id == order.user_id)).all(),
                "wallet": wallet.balance(order.user_id),
                "moves": db.session.scalar(select(func.count()).select_from(StockMovement)),
                "events": [(e.to_status, e.actor_id, e.reason) for e in order.events]}


def test_cancelling_gives_back_stock_coupon_points_and_the_wallet_part_once(app):
    client, user = signed_in(app)
    _product, (sku, _blue) = product_with_skus(skus=(("红", 10_000, 5), ("蓝", 10_000, 0)))
    give(app, user.id, 5_000)
    with app.app_context():
        held = promotions.hold(user.id, promotions.coupon(amount_minor=500, returns=True)).id
        promotions.in_cart(user.id, sku.id, 2)
        wallet.move(user.id, 3_000, reason="t", ref_type="test", ref_id="cancel")
        db.session.commit()
    response = client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout"),
                                                  coupon=str(held), use_points="y"))
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():  # the wallet pays a part; the card was to pay the rest
        assert orders.pay_with_wallet(db.session.get(Order, order_id), user.id, partial=True) > 0
        db.session.commit()
    before = _held(app, order_id)
    assert (before["stock"], before["coupons"], before["wallet"]) == (3, [("used", order_id)], 0)
    assert points_of(app, user.id) < 5_000
    answer = client.post_form(f"/orders/{order_id}/cancel", {"next": "/orders?tab=unpaid"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/orders?tab=unpaid")
    after = _held(app, order_id)
    assert (after["status"], after["stock"], after["coupons"], after["wallet"]) == (
        "cancelled", 5, [("available", None)], 3_000)
    assert points_of(app, user.id) == 5_000
    assert after["events"][-1] == ("cancelled", user.id, "cancelled by shopper")
    again = client.post_form(f"/orders/{order_id}/cancel", headers=EN)
    assert again.status_code == 409 and "This order is already cancelled." in again.get_data(as_text=True)
    assert _held(app, order_id) == after and points_of(app, user.id) == 5_000
    # the sweeper finds nothing left to release
    with app.app_context():
        db.session.get(Order, order_id).expires_at = utcnow()
        db.session.commit()
        assert orders.release_unpaid(order_id, actor_id=None, reason="expired") is False
        db.session.rollback()


def test_a_paid_order_is_not_cancelled_but_pointed_to_a_refund(app):
    client, user = signed_in(app)
    _product, (sku, _blue) = product_with_skus()
    with app.app_context():
        order_id = bought(user.id, sku.id, "paid-1").id
        db.session.commit()
    before = _held(app, order_id)
    answer = client.post_form(f"/orders/{order_id}/cancel", headers=EN)
    assert answer.status_code == 409
    assert "This order is paid, so it can no longer be cancelled" in answer.get_data(as_text=True)
    assert _held(app, order_id) == before and before["status"] == "paid"


def test_only_the_owner_may_cancel_or_buy_again_and_only_with_the_csrf_token(app):
    owner, user = signed_in(app)
    _product, (sku, _blue) = product_with_skus()
    with app.app_context():
        order_id = bought(user.id, sku.id, "unpaid-1", pay=False).id
        db.session.commit()
    before = _held(app, order_id)
    stranger, other = signed_in(app)
    for action in ("cancel", "buy-again"):
        assert stranger.post_form(f"/orders/{order_id}/{action}").status_code == 404
        assert owner.post(f"/orders/{order_id}/{action}").status_code == 400  # no token
    assert _held(app, order_id) == before
    assert promotions.cart_of(app, other.id) == promotions.cart_of(app, user.id) == []
    page = owner.get(f"/orders/{order_id}")  # the order page offers the cancel too
    assert page.status_code == 200 and f'action="/orders/{order_id}/cancel"' in page.get_data(as_text=True)
    assert stranger.get(f"/orders/{order_id}").status_code == 404


def test_a_group_leaders_cancel_gives_the_seat_and_the_unit_back_as_expiry_does(app):
    campaign_id, sku_id = campaign(size=3, stock=50)
    leader, _user = signed_in(app)
    url = f"/group-buys/{campaign_id}"
    order_id = order_id_of(leader.post_form(f"{url}/open", seat_form(leader, url, sku_id)))
    group_id = group_of(app, order_id)
    assert balances(app, campaign_id=campaign_id, sku_id=sku_id)["units_left"] == 19
    assert leader.post_form(f"/orders/{order_id}/cancel").status_code == 303
    state = group_state(app, group_id)
    assert (state["status"], state["seats_left"], state["members"][0][1:3]) == (
        "cancelled", 3, ("released", "cancelled"))
    after = balances(app, campaign_id=campaign_id, sku_id=sku_id)
    assert (after["units_left"], after["stock"]) == (20, 50)


def test_buying_again_adds_what_is_still_on_sale_capped_by_stock(app):
    client, user = signed_in(app)
    made = {name: product_with_skus(title=name, skus=(("红", price, stock),))
            for name, price, stock in (("苹果", 1_000, 10), ("梨", 2_000, 3), ("桃", 3_000, 5),
                                       ("杏", 4_000, 5))}
    skus = {name: skus[0] for name, (_product, skus) in made.items()}
    with app.app_context():
        for name, quantity in (("苹果", 2), ("梨", 3), ("桃", 1), ("杏", 3)):
            db.session.add(CartItem(user_id=user.id, sku_id=skus[name].id, quantity=quantity))
        order = placement.place_from_cart(user.id, saved_address(user.id), "again-1", None)
        order_id = order.id
        db.session.get(Product, made["桃"][0].id).archived_at = utcnow()   # archived since
        db.session.get(Sku, skus["苹果"].id).price_minor = 1_200          # dearer today
        db.session.commit()
    assert promotions.cart_of(app, user.id) == []
    answer = client.post_form(f"/orders/{order_id}/buy-again", headers=EN)  # flashed in English
    assert (answer.status_code, answer.headers["Location"]) == (303, "/cart")
    assert promotions.cart_of(app, user.id) == [(skus["苹果"].id, 2), (skus["杏"].id, 2)]
    page = client.get("/cart", headers=EN).get_data(as_text=True)
    assert "2 items added to your cart." in page
    assert "杏: only 2 of 3 added" in page
    assert "梨 was not added: sold out." in page and "桃 was not added: no longer on sale." in page
    assert re.search(r'data-testid="subtotal">[^<]*104\.00<', page)  # 2 x 12.00 today + 2 x 40.00
    assert re.search(r'<span id="cart-badge" class="badge"[^>]*>4', page)
    with app.app_context():  # the order itself is as it was
        assert db.session.get(Order, order_id).status == "awaiting_payment"
        assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == 1
