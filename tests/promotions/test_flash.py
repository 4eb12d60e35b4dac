"""Flash sales: stock set aside from the SKU, purchases through the item page (refused
before the start, after the end, above the per-user limit and when sold out, with nothing
changed), the units coming back on cancel, on release when the session ends, and on a
full refund with restock; the flash pages and the product page's offers."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from shop.catalog.models import StockMovement
from shop.db import db, utcnow
from shop.orders import services as orders
from shop.orders.models import Order
from shop.promotions import services
from shop.promotions.models import FlashItem, FlashOrder, FlashStockEntry
from shop.shipping import services as shipping
from shop.sweeper import sweep
from shop.wallet import services as wallet
from tests.conftest import signed_in
from tests.factories import MemberLevelFactory, UserFactory, product_with_skus
from tests.promotions import helpers as h
from tests.promotions.helpers import EN


def _item(app, *, stock: int = 10, price: int = 500, allotted: int = 3, per_user_limit: int = 2,
          **session) -> tuple[int, int, int]:
    """A SKU at 50.00 with `stock`, and a flash item of it at `price` with `allotted` units
    set aside: (item_id, sku_id, product_id)."""
    product, (sku, _other) = product_with_skus(skus=(("红", 5000, stock), ("蓝", 5000, 0)))
    with app.app_context():
        item = h.flash(sku.id, price=price, allotted=allotted, per_user_limit=per_user_limit,
                       **session)
        db.session.commit()
        return item.id, sku.id, product.id


def _state(app, item_id: int) -> dict:
    with app.app_context():
        return h.flash_state(item_id) | {"orders": h.rows(Order)}


def _buy(client, item_id: int, quantity: int = 1, token: str | None = None):
    return client.post_form(f"/flash/items/{item_id}/buy",
                            h.order_form(quantity=str(quantity), token=token or uuid.uuid4().hex),
                            headers=EN)


def _order_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    return int(re.search(r"/orders/(\d+)$", response.headers["Location"]).group(1))


def _sweep(app) -> dict:
    with app.app_context():
        return sweep()


def _end(app, item_id: int) -> None:
    with app.app_context():
        h.end_session(db.session.get(FlashItem, item_id).session_id)
        db.session.commit()


def _cancel(app, order_id: int) -> None:
    with app.app_context():
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="test")
        db.session.commit()


def _pay(app, user_id: int, order_id: int) -> None:
    """The shopper pays the order from a wallet topped up for it."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        wallet.move(user_id, order.total_minor, reason="t", ref_type="test", ref_id="flash")
        orders.pay_with_wallet(order, user_id)
        db.session.commit()


def _refund(app, order_id: int, amount: int | None = None, *, restock: bool) -> None:
    """An admin refunds `amount` (all of it by default)."""
    admin = UserFactory(role="admin")
    with app.app_context():
        order = db.session.get(Order, order_id)
        orders.refund(order, order.total_minor if amount is None else amount,
                      key=uuid.uuid4().hex, reason="test", actor_id=admin.id, restock=restock)
        db.session.commit()


# --- setting stock aside ------------------------------------------------------------------


def test_setting_aside_moves_stock_from_the_sku_to_the_item_in_both_ledgers(app):
    item_id, sku_id, _product = _item(app, stock=10, allotted=4)
    assert _state(app, item_id) == {
        "stock_left": 4, "released": False, "sku_stock": 6, "buyers": {}, "orders": 0}
    with app.app_context():
        def ledgers():
            return ([(m.delta, m.balance_after, m.reason) for m in db.session.scalars(
                        select(StockMovement).where(StockMovement.sku_id == sku_id)
                        .order_by(StockMovement.id))],
                    [(e.delta, e.stock_after, e.reason) for e in db.session.scalars(
                        select(FlashStockEntry).where(FlashStockEntry.item_id == item_id)
                        .order_by(FlashStockEntry.id))])

        assert ledgers() == ([(10, 10, "opening"), (-4, 6, "flash_set_aside")], [(4, 4, "set_aside")])
        item = db.session.get(FlashItem, item_id)
        services.set_aside(item, 1, actor_id=None)  # less: the rest goes back to the SKU
        db.session.commit()
        assert (item.allotted, item.stock_left) == (1, 1)
        assert ledgers() == ([(10, 10, "opening"), (-4, 6, "flash_set_aside"), (3, 9, "flash_put_back")],
                             [(4, 4, "set_aside"), (-3, 1, "put_back")])
        before = ledgers()
        with force_locale("en"), pytest.raises(services.PromotionError,
                                                match="The SKU has not that much stock."):
            with db.session.begin_nested():
                services.set_aside(item, 11, actor_id=None)  # 10 more: the SKU has 9
        db.session.rollback()
        assert ledgers() == before
    assert _state(app, item_id)["stock_left"] == 1 and _state(app, item_id)["sku_stock"] == 9


# --- buying -------------------------------------------------------------------------------


def test_a_purchase_is_a_flash_order_at_the_flash_price_from_the_set_aside_stock(app):
    MemberLevelFactory(threshold=0, discount_bp=1000)  # a checkout discount it must not get
    item_id, sku_id, product_id = _item(app)  # 5.00 instead of 50.00; 3 set aside of 10
    client, user = signed_in(app)
    with app.app_context():
        h.timed(product_id, kind="price", price_minor=100)  # nor a limited-time price
        shipping.save_template(None, name="标准快递", fee_minor=700, free_from_minor=9900,
                               is_default=True, regions=[])
        db.session.commit()
    token = uuid.uuid4().hex
    response = _buy(client, item_id, 2, token)
    order_id = _order_id(response)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.kind, order.status, order.user_id) == ("flash", "awaiting_payment", user.id)
        assert [(l.sku_id, l.quantity, l.unit_price_minor) for l in order.lines] == [(sku_id, 2, 500)]
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("shipping", 700)]
        assert (order.subtotal_minor, order.total_minor) == (1000, 1700)
        assert order.expires_at <= utcnow() + timedelta(minutes=15)
        bought = db.session.get(FlashOrder, order_id)
        assert (bought.item_id, bought.quantity, bought.returned) == (item_id, 2, False)
    assert _state(app, item_id) == {"stock_left": 1, "released": False, "sku_stock": 7,
                                    "buyers": {user.id: 2}, "orders": 1}
    # the same form sent again is the same order
    assert _order_id(_buy(client, item_id, 2, token)) == order_id
    assert _state(app, item_id)["stock_left"] == 1 and _state(app, item_id)["orders"] == 1



@pytest.mark.parametrize("case, message", [
    ("not_started", "This flash sale has not started yet."),
    ("ended", "This flash sale has ended."),
    ("over_limit", "You can buy at most 1 of this item."),
    ("sold_out", "Sold out."),
])
def test_a_purchase_that_is_not_allowed_is_refused_and_changes_nothing(app, case, message):
    window = {"not_started": {"starts_in": h.HOUR},
              "ended": {"starts_in": -3 * h.HOUR, "lasts": 2 * h.HOUR}}.get(case, {})
    item_id, _sku_id, _product_id = _item(app, allotted=1 if case == "sold_out" else 3,
                                          per_user_limit=1, **window)
    client, user = signed_in(app)
    if case == "over_limit":  # the shopper's one unit is bought already
        _order_id(_buy(client, item_id))
    if case == "sold_out":  # another shopper took the last one
        _order_id(_buy(signed_in(app)[0], item_id))
    before = _state(app, item_id)
    response = _buy(client, item_id)
    assert response.status_code == 409, response.get_data(as_text=True)[:600]
    assert message in response.get_data(as_text=True)
    assert _state(app, item_id) == before
    assert h.count(app, FlashOrder, FlashOrder.user_id == user.id) == (1 if case == "over_limit" else 0)


def test_buying_more_than_the_limit_at_once_is_refused(app):
    item_id, _sku_id, _product_id = _item(app, per_user_limit=2)
    client, user = signed_in(app)
    before = _state(app, item_id)
    with app.app_context(), force_locale("en"):
        with pytest.raises(services.PromotionError, match="You can buy at most 2 of this item."):
            services.buy_flash(user.id, item_id, 3, h.saved_address(user.id), uuid.uuid4().hex)
        db.session.rollback()
    assert _buy(client, item_id, 3).status_code == 422  # the form offers 1 or 2
    assert _state(app, item_id) == before


def test_cancelling_an_unpaid_flash_order_returns_the_unit_to_the_item(app):
    item_id, _sku_id, _product_id = _item(app, per_user_limit=1)
    client, user = signed_in(app)
    order_id = _order_id(_buy(client, item_id))
    assert _state(app, item_id) | {"orders": 0} == {
        "stock_left": 2, "released": False, "sku_stock": 7, "buyers": {user.id: 1}, "orders": 0}
    _cancel(app, order_id)
    assert _state(app, item_id) == {"stock_left": 3, "released": False, "sku_stock": 7,
                                    "buyers": {user.id: 0}, "orders": 1}
    with app.app_context():
        assert db.session.get(FlashOrder, order_id).returned
        assert [(e.delta, e.reason) for e in db.session.scalars(
            select(FlashStockEntry).where(FlashStockEntry.item_id == item_id)
            .order_by(FlashStockEntry.id))] == [(3, "set_aside"), (-1, "sold"), (1, "returned")]
    # the allowance is free again
    _order_id(_buy(client, item_id))
    assert _state(app, item_id)["buyers"] == {user.id: 1}


def test_an_unpaid_flash_order_past_its_hold_is_swept_and_its_unit_comes_back(app):
    item_id, _sku_id, _product_id = _item(app)
    client, user = signed_in(app)
    order_id = _order_id(_buy(client, item_id))
    with app.app_context():
        db.session.get(Order, order_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _sweep(app)["orders_cancelled"] == 1
    assert _state(app, item_id) | {"orders": 0} == {
        "stock_left": 3, "released": False, "sku_stock": 7, "buyers": {user.id: 0}, "orders": 0}


def test_the_sweeper_releases_what_is_left_to_the_sku_when_the_session_ends(app):
    item_id, sku_id, _product_id = _item(app)
    client, user = signed_in(app)
    order_id = _order_id(_buy(client, item_id))  # unpaid, still held
    with app.app_context():
        assert services.release(item_id) is False  # not over yet: nothing moves
        db.session.commit()
    assert _state(app, item_id)["stock_left"] == 2
    _end(app, item_id)
    assert _sweep(app)["flash_released"] == 1
    state = _state(app, item_id)
    assert state == {"stock_left": 0, "released": True, "sku_stock": 9, "buyers": {user.id: 1},
                     "orders": 1}
    assert _sweep(app)["flash_released"] == 0 and _state(app, item_id) == state
    with app.app_context():
        assert db.session.scalar(select(StockMovement.delta).where(
            StockMovement.sku_id == sku_id, StockMovement.reason == "flash_released")) == 2
        assert db.session.get(Order, order_id).status == "awaiting_payment"
    # the order cancelled now: its unit goes to the SKU, the item stays empty
    _cancel(app, order_id)
    assert _state(app, item_id) == {
        "stock_left": 0, "released": True, "sku_stock": 10, "buyers": {user.id: 0}, "orders": 1}
    # and nothing more is sold from it
    response = _buy(signed_in(app)[0], item_id)
    assert response.status_code == 409 and "This flash sale has ended." in response.get_data(as_text=True)


@pytest.mark.parametrize("restock", [True, False])
def test_a_full_refund_with_restock_puts_the_units_on_the_sku(app, restock):
    item_id, _sku_id, _product_id = _item(app)
    client, user = signed_in(app)
    order_id = _order_id(_buy(client, item_id, 2))
    _pay(app, user.id, order_id)
    before = _state(app, item_id)
    assert before["sku_stock"] == 7 and before["stock_left"] == 1
    _refund(app, order_id, restock=restock)
    with app.app_context():
        assert db.session.get(FlashOrder, order_id).returned is restock
    after = _state(app, item_id)
    if restock:
        assert after == before | {"sku_stock": 9, "buyers": {user.id: 0}}
    else:  # the goods stay with the shopper
        assert after == before


def test_a_partial_refund_leaves_the_flash_units_where_they_are(app):
    item_id, _sku_id, _product_id = _item(app)
    client, user = signed_in(app)
    order_id = _order_id(_buy(client, item_id, 2))
    _pay(app, user.id, order_id)
    before = _state(app, item_id)
    _refund(app, order_id, 100, restock=True)
    assert _state(app, item_id) == before


# --- the pages ----------------------------------------------------------------------------


def test_the_flash_pages_show_the_sessions_with_their_countdown_and_price(app, client):
    item_id, _sku_id, _product_id = _item(app, price=500, name="午间场")
    later_id, _later_sku, _later_product = _item(app, price=800, starts_in=3 * h.HOUR, name="晚间场")
    index = client.get("/flash", headers=EN).get_data(as_text=True)
    assert "午间场" in index and "晚间场" in index and "On now" in index and "starts in" in index
    assert index.count('class="countdown"') == 2
    assert "CN¥5.00" in index and "CN¥8.00" in index and "CN¥50.00" in index and "3 left" in index
    assert index.index("午间场") < index.index("晚间场")

    page = client.get(f"/flash/items/{item_id}", headers=EN).get_data(as_text=True)
    assert re.search(r'data-testid="flash-price">CN¥5.00<', page)
    assert 'class="countdown"' in page and "Ends in" in page and "Sign in to buy" in page
    shopper, _user = signed_in(app)
    page = shopper.get(f"/flash/items/{item_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="flash-buy"' in page
    upcoming = shopper.get(f"/flash/items/{later_id}", headers=EN).get_data(as_text=True)
    assert "Starts in" in upcoming and 'data-testid="flash-buy"' not in upcoming


def test_the_product_page_offers_show_the_flash_sale_and_the_limited_time_price(app, client):
    item_id, _sku_id, product_id = _item(app, price=500)
    with app.app_context():
        h.timed(product_id, kind="percent", percent_bp=2000)  # 50.00 -> 40.00
        db.session.commit()
    offers = client.get(f"/p/{product_id}", headers=EN).get_data(as_text=True)
    assert "Flash sale at CN¥5.00, now on" in offers and f"/flash/items/{item_id}" in offers
    assert "Limited-time price CN¥40.00\n" in offers and 'class="countdown"' in offers

    _later, _sku, later_product = _item(app, price=800, starts_in=3 * h.HOUR)
    offers = client.get(f"/p/{later_product}", headers=EN).get_data(as_text=True)
    assert "Flash sale at CN¥8.00 from" in offers and "Limited-time price" not in offers

    plain, _skus = product_with_skus()
    assert "product-offers" not in client.get(f"/p/{plain.id}").get_data(as_text=True)



@pytest.mark.parametrize("how", ["cancel_after_release", "full_refund_with_restock"])
def test_a_flash_order_with_a_gift_of_the_same_sku_gives_both_units_back(app, how):
    item_id, sku_id, _product_id = _item(app, with_full_reduction=True)
    with app.app_context():
        h.reduction([{"threshold": 100, "gift_sku_id": sku_id}])  # the flash SKU as its gift
        db.session.commit()
    client, user = signed_in(app)
    order_id = _order_id(_buy(client, item_id))
    with app.app_context():
        assert sorted((l.sku_id, l.unit_price_minor) for l in db.session.get(Order, order_id).lines) == [
            (sku_id, 0), (sku_id, 500)]
    assert _state(app, item_id)["sku_stock"] == 6  # 3 set aside, 1 given
    if how == "cancel_after_release":
        _end(app, item_id)
        _sweep(app)
        assert _state(app, item_id)["sku_stock"] == 8
        _cancel(app, order_id)  # both go back under their own stock references
    else:
        _pay(app, user.id, order_id)
        _refund(app, order_id, restock=True)
    # the flash unit and the gift are both back on the SKU
    assert _state(app, item_id)["sku_stock"] == (10 if how == "cancel_after_release" else 8)
