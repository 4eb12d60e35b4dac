"""Cases a review of the promotions change found: a group seat promotions take to 0, a
flash form sent twice at once, an out-of-range coupon id, a scheduled days-valid coupon,
and the flash page's price breakdown."""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.db import db, utcnow
from shop.groups.models import Group, GroupMember
from shop.orders.models import Order
from shop.promotions import services
from tests.conftest import signed_in
from tests.factories import UserFactory, product_with_skus
from tests.groups.helpers import campaign, group_of, order_id_of, seat_form
from tests.promotions import helpers as h


def test_a_group_seat_a_group_buy_coupon_takes_to_zero_is_paid_and_opens_the_group(app):
    campaign_id, sku_id = campaign(price=990)
    client, user = signed_in(app)
    with app.app_context():
        h.hold(user.id, h.coupon(amount_minor=1000, group_buys=True))
        db.session.commit()
    url = f"/group-buys/{campaign_id}"
    order_id = order_id_of(client.post_form(f"{url}/open", seat_form(client, url, sku_id)))
    group_id = group_of(app, order_id)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.total_minor) == ("paid", 0)
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("coupon", -990)]
        group = db.session.get(Group, group_id)
        member = db.session.scalar(select(GroupMember).where(GroupMember.order_id == order_id))
        assert (group.status, group.paid_count, member.status) == ("open", 1, "paid")


@pytest.mark.postgres
def test_one_flash_form_sent_twice_at_once_gives_the_same_order(app):
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 10),))
    with app.app_context():
        item = h.flash(sku.id, allotted=3, per_user_limit=1)
        item_id = item.id
        user = UserFactory()
        address = h.saved_address(user.id)
        address_id, user_id = address.id, user.id
        db.session.commit()
    key, results = uuid.uuid4().hex, []

    def buy():
        with app.app_context():
            from shop.orders.models import Address

            order = services.buy_flash(user_id, item_id, 1, db.session.get(Address, address_id), key)
            db.session.commit()
            results.append(order.id)

    threads = [threading.Thread(target=buy) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and results[0] == results[1]
    with app.app_context():
        assert h.flash_state(item_id)["stock_left"] == 2


def test_a_coupon_id_out_of_range_is_refused_with_a_message(app):
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 10),))
    client, user = signed_in(app)
    with app.app_context():
        h.in_cart(user.id, sku.id)
        db.session.commit()
    response = client.get("/checkout?coupon=9999999999", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "That coupon is not yours." in response.get_data(as_text=True)


def test_a_coupon_valid_for_days_counts_them_from_its_start_when_claimed_early(app):
    user = UserFactory()
    with app.app_context():
        start = utcnow() + timedelta(days=10)
        made = h.coupon(valid_from=start, valid_days=3, valid_until=None)
        held = services.claim(user.id, made.id)
        assert held.starts_at == made.valid_from
        assert held.expires_at == made.valid_from + timedelta(days=3)
        assert services.usable_coupons(user.id) == []
        db.session.rollback()


def test_the_flash_page_shows_what_one_unit_costs_with_shipping(app):
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 10),))
    client, _user = signed_in(app)
    with app.app_context():
        item_id = h.flash(sku.id, price=500).id
        db.session.commit()
    html = client.get(f"/flash/items/{item_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Shipping" in html and 'data-testid="total"' in html
