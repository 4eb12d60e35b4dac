"""The shipping step of the price pipeline (shop.shipping.services): each product's
template (or the default), a region by the address's province, free from a threshold on
what is due on the template's lines, the highest group fee for the order; nothing for
pickup, for channels that ship free, or when an earlier step granted free shipping."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from shop.db import db
from shop import pricing
from shop.orders import addresses, placement
from shop.orders.models import Order
from shop.shipping import services as shipping
from shop.shipping.models import ShippingTemplate
from tests.conftest import counted_queries
from tests.factories import (ShippingRegionFactory, ShippingTemplateFactory, UserFactory,
                             product_with_skus)
from tests.payments.helpers import saved_address
from tests.promotions import helpers as h


def _sku(price: int, template_id: int | None = None) -> int:
    _product, (sku, _other) = product_with_skus(skus=(("红", price, 50), ("蓝", price, 0)),
                                                shipping_template_id=template_id)
    return sku.id


def _shipping(app, lines, *, user_id=None, channel="cart", **options) -> list[tuple[str, int]]:
    """The shipping rows of the price of lines [(sku_id, quantity, unit_price)]."""
    with app.app_context():
        priced = pricing.price(lines, user_id, options, channel=channel)
        return [(a.kind, a.amount_minor) for a in priced.adjustments if a.kind == "shipping"]


def test_the_default_templates_flat_fee_until_what_is_due_reaches_its_threshold(app):
    ShippingTemplateFactory(is_default=True, fee_minor=800, free_from_minor=5000)
    ShippingTemplateFactory(fee_minor=1, free_from_minor=None)  # another, named by no product
    sku = _sku(2400)
    assert _shipping(app, [(sku, 2, 2400)]) == [("shipping", 800)]      # 48.00 < 50.00
    assert _shipping(app, [(sku, 1, 5000)]) == []                       # 50.00 reached
    assert _shipping(app, [(sku, 3, 2400)]) == []


def test_with_no_template_saved_the_built_in_default_applies(app):
    sku = _sku(2000)
    assert _shipping(app, [(sku, 1, 2000)]) == [("shipping", 1000)]
    assert _shipping(app, [(sku, 5, 2000)]) == []  # 100.00 >= 99.00
    with app.app_context():
        assert db.session.scalar(select(ShippingTemplate.id)) is None  # read, not written


def test_a_template_that_is_never_free_charges_whatever_the_amount(app):
    template = ShippingTemplateFactory(fee_minor=1500, free_from_minor=None)
    sku = _sku(90_000, template.id)
    assert _shipping(app, [(sku, 3, 90_000)]) == [("shipping", 1500)]


def test_the_threshold_counts_what_is_due_after_the_discounts(app):
    ShippingTemplateFactory(is_default=True, fee_minor=800, free_from_minor=5000)
    sku = _sku(5000)
    with app.app_context():
        h.reduction([{"threshold": 5000, "off_minor": 500}])  # 50.00 - 5.00 = 45.00 due
        db.session.commit()
    assert _shipping(app, [(sku, 1, 5000)]) == [("shipping", 800)]


def test_a_region_matches_the_province_codes_it_lists(app):
    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=9900)
    ShippingRegionFactory(template_id=template.id, position=0, provinces=["65", "54"],
                          fee_minor=2000, free_from_minor=None)
    ShippingRegionFactory(template_id=template.id, position=1, provinces=["65", "15"],
                          fee_minor=3000, free_from_minor=None)
    sku = _sku(2000)
    lines = [(sku, 1, 2000)]
    assert _shipping(app, lines, province="65") == [("shipping", 2000)]  # the first (新疆)
    assert _shipping(app, lines, province="54") == [("shipping", 2000)]
    assert _shipping(app, lines, province="6") == [("shipping", 1000)]  # a code, not a prefix
    assert _shipping(app, lines, province="15") == [("shipping", 3000)]
    assert _shipping(app, lines, province="33") == [("shipping", 1000)]
    assert _shipping(app, lines, province="") == [("shipping", 1000)]
    assert _shipping(app, lines) == [("shipping", 1000)]
    # never free there, though the template's own threshold is reached
    assert _shipping(app, [(sku, 5, 2000)], province="65") == [("shipping", 2000)]
    assert _shipping(app, [(sku, 5, 2000)], province="33") == []


def test_a_region_has_its_own_threshold(app):
    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=9900)
    ShippingRegionFactory(template_id=template.id, provinces=["46"], fee_minor=1500,
                          free_from_minor=19_900)
    sku = _sku(10_000)
    assert _shipping(app, [(sku, 1, 10_000)], province="46") == [("shipping", 1500)]
    assert _shipping(app, [(sku, 2, 10_000)], province="46") == []
    assert _shipping(app, [(sku, 1, 10_000)], province="广东省") == []


def test_an_order_of_two_templates_pays_the_highest_fee_of_those_not_free(app):
    ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=9900)
    bulky = ShippingTemplateFactory(fee_minor=2500, free_from_minor=20_000)
    cheap = ShippingTemplateFactory(fee_minor=500, free_from_minor=None)
    small, big, tiny = _sku(3000), _sku(15_000, bulky.id), _sku(100, cheap.id)
    assert _shipping(app, [(small, 1, 3000), (big, 1, 15_000)]) == [("shipping", 2500)]
    assert _shipping(app, [(small, 1, 3000), (tiny, 1, 100)]) == [("shipping", 1000)]
    # each template's threshold counts its own lines: 2 x 150.00 frees the bulky one only
    assert _shipping(app, [(small, 1, 3000), (big, 2, 15_000)]) == [("shipping", 1000)]
    assert _shipping(app, [(small, 4, 3000), (big, 2, 15_000)]) == []  # both free
    assert _shipping(app, [(small, 4, 3000), (big, 2, 15_000), (tiny, 1, 100)]) == [("shipping", 500)]
    # a product naming the default template is in the default's group
    with app.app_context():
        default_id = shipping.default_template().id
    named = _sku(6000, default_id)
    assert _shipping(app, [(small, 2, 3000), (named, 1, 6000)]) == []  # 60.00 + 60.00 >= 99.00


def test_the_step_costs_the_same_queries_for_one_line_or_many(app):
    templates = [ShippingTemplateFactory(fee_minor=100 * n) for n in range(1, 5)]
    ShippingRegionFactory(template_id=templates[0].id)
    ShippingTemplateFactory(is_default=True, fee_minor=50)
    skus = [_sku(1000, t.id) for t in templates] + [_sku(1000) for _ in range(4)]

    def queries(lines):
        with app.app_context():
            priced = pricing.Pricing("CNY", [pricing.PricedLine(*line) for line in lines])
            with counted_queries(app) as statements:
                fee = shipping.shipping(priced, None)
            return len([s for s in statements if not s.startswith("BEGIN")]), fee.amount_minor

    one, many = queries([(skus[0], 1, 1000)]), queries([(sku, 1, 1000) for sku in skus])
    assert one[0] == many[0] <= 3
    assert (one[1], many[1]) == (100, 400)


def test_a_pickup_order_has_no_shipping(app):
    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=None)
    ShippingRegionFactory(template_id=template.id)
    sku = _sku(2000)
    assert _shipping(app, [(sku, 1, 2000)], province="65", pickup=True) == []
    assert _shipping(app, [(sku, 1, 2000)], province="65", pickup=False) == [("shipping", 2000)]


def test_free_shipping_granted_by_an_earlier_step_is_honoured(app):
    ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=None)
    sku = _sku(2000)
    with app.app_context():
        h.reduction([{"threshold": 3000, "free_shipping": True}])
        db.session.commit()
    assert _shipping(app, [(sku, 1, 2000)]) == [("shipping", 1000)]   # tier not reached
    assert _shipping(app, [(sku, 2, 2000)]) == []                     # reached: free


def test_group_buys_bargains_and_redemptions_ship_free_flash_sales_do_not(app):
    ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=None)
    sku = _sku(2000)
    for channel in ("group", "bargain", "redemption"):
        assert _shipping(app, [(sku, 1, 2000)], channel=channel) == [], channel
    assert _shipping(app, [(sku, 1, 2000)], channel="flash") == [("shipping", 1000)]
    assert _shipping(app, [(sku, 1, 2000)], channel="cart") == [("shipping", 1000)]


def test_a_placed_order_stores_the_region_fee_for_the_address_province(app):
    from tests.conftest import ADDRESS

    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=9900)
    ShippingRegionFactory(template_id=template.id)
    sku = _sku(2000)
    user, other = UserFactory(), UserFactory()
    with app.app_context():
        h.in_cart(user.id, sku)
        tibet = addresses.for_order(user.id, **dict(ADDRESS, province="54", city="5401",
                                                    district="540102"))  # 西藏拉萨城关区
        order = placement.place_from_cart(user.id, tibet, uuid.uuid4().hex)
        db.session.commit()
        order = db.session.get(Order, order.id)
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("shipping", 2000)]
        assert order.total_minor == 4000
        # the fee follows the address the order goes to, not a province the options name
        h.in_cart(other.id, sku)
        order = placement.place_from_cart(other.id, saved_address(other.id), uuid.uuid4().hex,
                                   {"province": "54", "pickup": True})
        db.session.commit()
        order = db.session.get(Order, order.id)
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("shipping", 1000)]


def test_a_flash_purchase_pays_the_region_fee_of_the_forms_province(app):
    from tests.conftest import signed_in
    from tests.promotions.test_flash import _item, _order_id

    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=9900)
    ShippingRegionFactory(template_id=template.id)  # 新疆, 西藏: 20.00, never free
    item_id, _sku_id, _product_id = _item(app)      # 5.00 a unit
    client, _user = signed_in(app)
    response = client.post_form(f"/flash/items/{item_id}/buy",
                                h.order_form(quantity="1", province="65", city="6501", district="650102"),
                                headers=h.EN)  # 新疆乌鲁木齐天山区
    order_id = _order_id(response)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("shipping", 2000)]
        assert order.total_minor == 2500
    # the item page quotes one unit to the shopper's default address: now in 新疆
    page = client.get(f"/flash/items/{item_id}", headers=h.EN).get_data(as_text=True)
    assert "¥20.00" in page and "¥25.00" in page
