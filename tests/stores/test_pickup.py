"""Pickup at a store: choosing it at checkout and in a group buy, the code of a paid
order, and verification (核销) by store staff with every refusal changing nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.cart.models import CartItem
from shop.catalog.models import Sku
from shop.db import db
from shop.orders import services as orders
from shop.orders.models import Order, OrderEvent
from shop.stores.models import PickupCode
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import StoreFactory
from tests.groups.helpers import campaign, fund, group_of, join, order_id_of, pay_wallet
from tests.stores.helpers import (PICKER, code_of, paid_pickup, pickup_product, place_pickup,
                                  staff_at, verify_form)

EN = {"Accept-Language": "en"}


def _order(app, order_id: int) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.expunge(order)
        return order


def _staff_client(app, user):
    client = app.test_client()
    client.signin(user.email)
    return client


def _state(app, order_id: int) -> tuple:
    """What a verification changes: the order's status, its events, the code's use."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        code = db.session.get(PickupCode, order_id)
        events = db.session.scalar(select(func.count()).select_from(OrderEvent)
                                   .where(OrderEvent.order_id == order_id))
        return order.status, events, code.picked_up_at if code else None


# --- checkout ------------------------------------------------------------------------------


def test_checkout_offers_pickup_only_when_every_product_may_be_picked_up(app):
    store = StoreFactory(name="徐家汇店")
    _p, yes = pickup_product()
    _q, no = pickup_product(pickup=False)
    client, user = signed_in(app)
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=yes.id, quantity=1))
        db.session.commit()
    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    assert 'value="pickup"' in page and f'data-testid="store-{store.id}"' in page and "徐家汇店" in page
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=no.id, quantity=1))
        db.session.commit()
    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    assert 'value="pickup"' not in page and "徐家汇店" not in page


def test_a_pickup_order_pays_no_shipping_needs_no_address_and_keeps_the_store(app):
    store = StoreFactory(name="徐家汇店", address="漕溪北路 88 号")
    _product, sku = pickup_product(price=5000, stock=5)  # below the free-shipping threshold
    client, user = signed_in(app)
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
        db.session.commit()
    # the breakdown htmx asks for when pickup is chosen: no shipping line
    delivery = client.get("/checkout", headers=EN).get_data(as_text=True)
    pickup = client.get("/checkout?fulfilment=pickup", headers=dict(EN, **{"HX-Request": "true"}))
    assert "Shipping" in delivery and "Shipping" not in pickup.get_data(as_text=True)
    _client, _user, response = place_pickup(app, store, sku, client=client, user=user)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.pickup_store_id, order.total_minor, order.ship_name) == (store.id, 5000, "李四")
        assert "徐家汇店" in order.ship_address and "漕溪北路 88 号" in order.ship_address
        assert [a.kind for a in order.adjustments] == []
        assert db.session.get(Sku, sku.id).stock == 4
        assert db.session.get(PickupCode, order.id) is None  # no code before it is paid
        order_id = order.id
    page = client.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert "Pick up at 徐家汇店" in page and "appears here once the order is paid" in page
    assert 'data-testid="pickup-code"' not in page


def test_pickup_is_refused_for_a_product_that_may_not_be_picked_up(app):
    store = StoreFactory()
    _product, sku = pickup_product(pickup=False, stock=5)
    client, user, response = place_pickup(app, store, sku)
    assert response.status_code == 409
    assert "不支持到店自提" in response.get_data(as_text=True)  # the page is in Chinese
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        assert db.session.get(Sku, sku.id).stock == 5
        assert db.session.scalar(select(func.count()).select_from(CartItem)) == 1


def test_pickup_needs_an_active_store_and_a_store_chosen(app):
    closed = StoreFactory(active=False)
    _product, sku = pickup_product(stock=5)
    client, user, response = place_pickup(app, closed, sku)
    assert response.status_code == 409
    response = client.post_form("/checkout", dict(PICKER, fulfilment="pickup",
                                                  token=form_token(client, "/checkout")), headers=EN)
    assert response.status_code == 422 and "Choose the store" in response.get_data(as_text=True)
    response = client.post_form("/checkout", dict(PICKER, fulfilment="by-drone",
                                                  token=form_token(client, "/checkout")), headers=EN)
    assert response.status_code == 422
    response = client.post_form("/checkout", dict(PICKER, fulfilment="pickup", store_id="9" * 20,
                                                  token=form_token(client, "/checkout")))
    assert response.status_code == 422
    response = client.post_form("/checkout", dict(PICKER, fulfilment="pickup", store_id="999",
                                                  token=form_token(client, "/checkout")), headers=EN)
    assert response.status_code == 409  # no such store: said, not a 500
    assert "This store does not take pickups; choose another." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        assert db.session.get(Sku, sku.id).stock == 5


def test_delivery_still_needs_the_address(app):
    _product, sku = pickup_product(stock=5)
    client, user = signed_in(app)
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
        db.session.commit()
    response = client.post_form("/checkout", dict(PICKER, fulfilment="delivery",
                                                  token=form_token(client, "/checkout")))
    assert response.status_code == 422
    response = client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout")))
    assert response.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.pickup_store_id is None and "文三路" in order.ship_address


def test_the_code_comes_with_payment_and_only_its_owner_sees_it(app):
    client, user, order_id, code = paid_pickup(app)
    assert code is not None and len(code) == 10
    response = client.get(f"/orders/{order_id}", headers=EN)
    page = response.get_data(as_text=True)
    assert f"{code[:5]} {code[5:]}" in page and "<svg" in page
    assert response.cache_control.no_store and response.cache_control.private
    stranger, _ = signed_in(app)
    response = stranger.get(f"/orders/{order_id}")
    assert response.status_code == 404 and code[:5] not in response.get_data(as_text=True)


def test_staff_can_not_ship_a_pickup_order(app):
    store = StoreFactory()
    _client, _user, order_id, _code = paid_pickup(app, store)
    admin, _ = signed_in(app, "admin")
    response = admin.post_form(f"/admin/orders/{order_id}/ship",
                               {"carrier": "SF", "tracking_number": "SF1"}, headers=EN)
    assert response.status_code == 409 and "picked up at the store" in response.get_data(as_text=True)
    assert _order(app, order_id).status == "paid"


# --- verification --------------------------------------------------------------------------


def test_staff_see_the_lines_then_confirm_and_the_order_is_picked_up(app):
    store = StoreFactory()
    shopper, _user, order_id, code = paid_pickup(app, store)
    staff = _staff_client(app, staff_at(store))
    typed = f" {code[:5].lower()}-{code[5:]} "  # as people type it
    found = staff.post_form("/admin/pickup/look-up", verify_form(store.id, typed), headers=EN)
    assert found.status_code == 200 and 'data-testid="confirm-pickup"' in found.get_data(as_text=True)
    assert _state(app, order_id)[0] == "paid"  # looking up changes nothing
    done = staff.post_form("/admin/pickup/confirm", verify_form(store.id, code), headers=EN)
    assert done.status_code == 200 and 'data-testid="pickup-done"' in done.get_data(as_text=True)
    status, _events, picked_up_at = _state(app, order_id)
    assert status == "completed" and picked_up_at is not None
    with app.app_context():
        event = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                  .order_by(OrderEvent.id.desc()).limit(1))
        assert (event.from_status, event.to_status, event.reason) == ("paid", "completed", "picked up")
    page = shopper.get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="picked-up"' in page and 'data-testid="pickup-code"' not in page
    admin, _ = signed_in(app, "admin")  # the event's reason, in the reader's language
    assert "Picked up at the store" in admin.get(f"/admin/orders/{order_id}", headers=EN).get_data(as_text=True)


def test_a_code_works_once(app):
    store = StoreFactory()
    _shopper, _user, order_id, code = paid_pickup(app, store)
    staff = _staff_client(app, staff_at(store))
    assert staff.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 200
    before = _state(app, order_id)
    again = staff.post_form("/admin/pickup/confirm", verify_form(store.id, code), headers=EN)
    assert again.status_code == 409 and "already used" in again.get_data(as_text=True)
    looked = staff.post_form("/admin/pickup/look-up", verify_form(store.id, code), headers=EN)
    assert looked.status_code == 409
    assert _state(app, order_id) == before


def test_a_code_is_refused_at_another_store_and_to_staff_of_another_store(app):
    here, there = StoreFactory(name="徐家汇店"), StoreFactory(name="静安寺店")
    _shopper, _user, order_id, code = paid_pickup(app, here)
    before = _state(app, order_id)
    # staff of both stores, at the wrong one
    both = _staff_client(app, staff_at(here, there))
    response = both.post_form("/admin/pickup/confirm", verify_form(there.id, code), headers=EN)
    assert response.status_code == 403 and "another store: 徐家汇店" in response.get_data(as_text=True)
    # staff of the other store only, naming this one
    other = _staff_client(app, staff_at(there))
    response = other.post_form("/admin/pickup/confirm", verify_form(here.id, code), headers=EN)
    assert response.status_code == 403 and "do not verify pickups at this store" in response.get_data(as_text=True)
    assert _state(app, order_id) == before


def test_shoppers_and_editors_can_not_verify(app):
    store = StoreFactory()
    _shopper, _user, order_id, code = paid_pickup(app, store)
    before = _state(app, order_id)
    for role in ("shopper", "editor"):
        client, _ = signed_in(app, role)
        assert client.get("/admin/pickup").status_code == 403
        assert client.post_form("/admin/pickup/look-up", verify_form(store.id, code)).status_code == 403
        assert client.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 403
    anonymous = app.test_client()
    response = anonymous.post_form("/admin/pickup/confirm", verify_form(store.id, code))
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
    assert _state(app, order_id) == before


def test_a_store_that_stopped_taking_pickups_still_hands_over_paid_orders(app):
    store = StoreFactory()
    _shopper, _user, order_id, code = paid_pickup(app, store)
    staff = _staff_client(app, staff_at(store))
    with app.app_context():
        from shop.stores.models import Store

        db.session.get(Store, store.id).active = False
        db.session.commit()
    assert staff.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 200
    assert _state(app, order_id)[0] == "completed"


def test_an_admin_verifies_at_any_store(app):
    store = StoreFactory()
    _shopper, _user, order_id, code = paid_pickup(app, store)
    admin, _ = signed_in(app, "admin")
    assert admin.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 200
    assert _state(app, order_id)[0] == "completed"


def test_the_code_of_an_unpaid_refunded_or_refund_requested_order_is_refused(app):
    store = StoreFactory()
    staff = _staff_client(app, staff_at(store))
    # refund requested: not handed over until it is settled
    shopper, user, order_id, code = paid_pickup(app, store)
    assert shopper.post_form(f"/orders/{order_id}/refund-request", {"reason": "不要了"}).status_code == 302
    before = _state(app, order_id)
    response = staff.post_form("/admin/pickup/confirm", verify_form(store.id, code), headers=EN)
    assert response.status_code == 409 and "refund" in response.get_data(as_text=True)
    assert _state(app, order_id) == before
    # refunded in full
    _shopper, _user, order_id, code = paid_pickup(app, store)
    with app.app_context():
        order = db.session.get(Order, order_id)
        orders.refund(order, order.total_minor, key=f"t-{order_id}", reason="t",
                      actor_id=user.id, restock=True)
        db.session.commit()
    before = _state(app, order_id)
    response = staff.post_form("/admin/pickup/confirm", verify_form(store.id, code), headers=EN)
    assert response.status_code == 409 and _state(app, order_id) == before
    # an unpaid order has no code at all: any code typed for it is simply unknown
    _client, _user, response = place_pickup(app, store, pickup_product()[1])
    unpaid = int(response.headers["Location"].rsplit("/", 1)[1])
    assert code_of(app, unpaid) is None


def test_wrong_codes_are_throttled_per_staff_member_and_store_never_a_right_code(app):
    app.config["PICKUP_GUESS_LIMIT"] = "3 per 10 minutes"
    store, other_store = StoreFactory(), StoreFactory(name="静安店")
    _shopper, _user, order_id, code = paid_pickup(app, store)
    _shopper2, _user2, elsewhere_id, elsewhere = paid_pickup(app, other_store)
    member = staff_at(store, other_store)
    guesser = _staff_client(app, member)
    codes = [guesser.post_form("/admin/pickup/look-up", verify_form(store.id, f"WRONG{i:05d}"),
                               headers=EN).status_code for i in range(3)]
    assert codes == [404, 404, 404]
    # the budget is spent: a wrong code is refused with how long to wait, in the fragment
    throttled = guesser.post_form("/admin/pickup/look-up", verify_form(store.id, "WRONG99999"),
                                  headers=dict(EN, **{"HX-Request": "true"}))
    body = throttled.get_data(as_text=True)
    assert throttled.status_code == 429 and "<html" not in body
    assert "Too many wrong codes at this store. Wait 10 minutes" in body
    assert 'data-testid="pickup-error"' in body
    assert 540 < int(throttled.headers["Retry-After"]) <= 600
    # another store's code is a miss here: refused alike, without naming that store
    foreign = guesser.post_form("/admin/pickup/look-up", verify_form(store.id, elsewhere), headers=EN)
    assert foreign.status_code == 429 and "静安店" not in foreign.get_data(as_text=True).split(
        'data-testid="pickup-error"', 1)[1].split("</p>", 1)[0]
    assert "Wait 10 minutes" in foreign.get_data(as_text=True)
    assert _state(app, order_id)[0] == "paid"
    # a right code is looked up and handed over all the same
    assert guesser.post_form("/admin/pickup/look-up", verify_form(store.id, code)).status_code == 200
    done = guesser.post_form("/admin/pickup/confirm", verify_form(store.id, code), headers=EN)
    assert done.status_code == 200 and 'data-testid="pickup-done"' in done.get_data(as_text=True)
    assert _state(app, order_id)[0] == "completed"
    # the same staff member at their other store is not held back, nor is a colleague
    assert guesser.post_form("/admin/pickup/look-up",
                             verify_form(other_store.id, "WRONG00001")).status_code == 404
    colleague = _staff_client(app, staff_at(store))
    assert colleague.post_form("/admin/pickup/look-up",
                               verify_form(store.id, "WRONG00001")).status_code == 404
    assert _state(app, elsewhere_id)[0] == "paid"


def test_the_throttle_says_minutes_rounded_up_in_both_languages(app):
    app.config["PICKUP_GUESS_LIMIT"] = "1 per 90 seconds"
    store = StoreFactory()
    guesser = _staff_client(app, staff_at(store))
    assert guesser.post_form("/admin/pickup/look-up", verify_form(store.id, "WRONG00000")).status_code == 404
    refused = guesser.post_form("/admin/pickup/look-up", verify_form(store.id, "WRONG00001"), headers=EN)
    assert refused.status_code == 429 and "Wait 2 minutes" in refused.get_data(as_text=True)
    chinese = guesser.post_form("/admin/pickup/look-up", verify_form(store.id, "WRONG00002"))
    assert chinese.status_code == 429 and 'data-testid="pickup-error"' in chinese.get_data(as_text=True)


def test_right_codes_and_refusals_for_a_used_code_do_not_count_as_guesses(app):
    app.config["PICKUP_GUESS_LIMIT"] = "2 per 10 minutes"
    store = StoreFactory()
    staff_user = staff_at(store)
    staff = _staff_client(app, staff_user)
    for _ in range(3):
        _shopper, _user, order_id, code = paid_pickup(app, store)
        assert staff.post_form("/admin/pickup/look-up", verify_form(store.id, code)).status_code == 200
        assert staff.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 200
        assert staff.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 409


# --- group buy with pickup ------------------------------------------------------------------


def test_a_group_order_is_picked_up_once_the_group_is_complete(app):
    store = StoreFactory()
    campaign_id, sku_id = campaign(size=2)
    with app.app_context():
        product = db.session.get(Sku, sku_id).product
        product.pickup_enabled = True
        db.session.commit()
    leader_client, leader = signed_in(app)
    url = f"/group-buys/{campaign_id}"
    assert 'value="pickup"' in leader_client.get(url, headers=EN).get_data(as_text=True)
    fund(app, leader.id, 990, "lead")
    form = dict(PICKER, sku_id=sku_id, fulfilment="pickup", store_id=store.id,
                token=form_token(leader_client, url))
    order_id = order_id_of(leader_client.post_form(f"{url}/open", form))
    assert pay_wallet(leader_client, order_id).status_code == 302
    order = _order(app, order_id)
    assert (order.pickup_store_id, order.status, order.hold) == (store.id, "paid", "group")
    code = code_of(app, order_id)
    assert code is not None
    staff = _staff_client(app, staff_at(store))
    waiting = staff.post_form("/admin/pickup/confirm", verify_form(store.id, code), headers=EN)
    assert waiting.status_code == 409 and "group buy" in waiting.get_data(as_text=True)
    assert _state(app, order_id)[0] == "paid"
    # a friend joins (delivered) and pays: the group completes and the hold is released
    friend, friend_user = signed_in(app)
    fund(app, friend_user.id, 990, "friend")
    seat = order_id_of(join(friend, group_of(app, order_id), sku_id))
    assert pay_wallet(friend, seat).status_code == 302
    assert _order(app, order_id).hold is None
    assert staff.post_form("/admin/pickup/confirm", verify_form(store.id, code)).status_code == 200
    assert _state(app, order_id)[0] == "completed"
    assert _order(app, seat).pickup_store_id is None


# --- choosing a store ------------------------------------------------------------------------


def test_stores_are_listed_nearest_first_or_by_city(app):
    xujiahui = StoreFactory(name="徐家汇店", city="上海市", latitude_e6=31193000, longitude_e6=121437000)
    hangzhou = StoreFactory(name="西湖店", city="杭州市", latitude_e6=30278000, longitude_e6=120130000)
    jingan = StoreFactory(name="静安寺店", city="上海市", latitude_e6=31223800, longitude_e6=121445900)
    nowhere = StoreFactory(name="无坐标店", city="上海市", latitude_e6=None, longitude_e6=None)
    product, _sku = pickup_product()
    no_pickup, _sku = pickup_product(pickup=False)
    client = app.test_client()
    # standing at Jing'an Temple: it is nearest, then Xujiahui (about 3.5 km), Hangzhou far
    html = client.get(f"/stores/nearby?products={product.id}&lat=31.2238&lng=121.4459",
                      headers=EN).get_data(as_text=True)
    order = [html.index(f'data-testid="store-{s.id}"') for s in (jingan, xujiahui, hangzhou, nowhere)]
    assert order == sorted(order)
    assert "3.5 km" in html and "0 m" in html
    for bad in ("lat=91&lng=0", "lat=abc&lng=0", "lat=31", "lat=31&lng=121&products=x"):
        query = bad if "products" in bad else f"{bad}&products={product.id}"
        assert client.get(f"/stores/nearby?{query}").status_code == 400
    # without a position: the shopper's city first (杭州市 from the address), then by city
    with app.app_context():
        from shop.stores import services

        names = [c.store.name for c in services.store_choices([product.id], city="杭州市")]
        assert names[0] == "西湖店" and set(names) == {"徐家汇店", "西湖店", "静安寺店", "无坐标店"}
        assert services.store_choices([product.id, no_pickup.id]) == []


def test_the_product_form_turns_pickup_on_and_off(app, admin_client):
    from shop.catalog.models import Product
    from tests.catalog.test_backoffice import _product_form
    from tests.factories import CategoryFactory

    category = CategoryFactory()
    form = _product_form(category.id, pickup_enabled="y")
    assert admin_client.post_form("/admin/catalog/products/new", form).status_code == 302
    with app.app_context():
        product = db.session.scalar(select(Product))
        assert product.pickup_enabled is True
        product_id, sku_id = product.id, product.skus[0].id
    form = _product_form(category.id, **{"skus-0-id": str(sku_id), "skus-0-stock_seen": "7"})
    assert admin_client.post_form(f"/admin/catalog/products/{product_id}", form).status_code == 302
    with app.app_context():
        assert db.session.get(Product, product_id).pickup_enabled is False
