"""Pickers (shop.web.picking, templates/_macros/picker.html): backoffice forms choose
products, SKUs, categories, stores and customers by name. The search fragment answers
names and pictures to admins only; a search posted with a form (no JavaScript) shows the
matches and saves nothing; a chosen id must name a row of the field's kind."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shop.web.picking import mask_email, mask_phone
from shop.catalog.models import Sku
from shop.db import db
from shop.promotions.models import Coupon, FlashItem
from tests.conftest import counted_queries, signed_in
from tests.factories import (CategoryFactory, CouponFactory, FlashSessionFactory, ProductImageFactory,
                             StoreFactory, UserFactory, product_with_skus)


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _local(app, dt: datetime) -> str:
    return dt.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- the search fragment ----------------------------------------------------------------------


def test_each_kind_answers_matches_by_name(app, admin_client):
    product, skus = product_with_skus(title="有机苹果礼盒")
    ProductImageFactory(product=product)
    product_with_skus(title="香蕉")
    CategoryFactory(name="时令水果")
    StoreFactory(name="徐家汇店", city="上海市")
    UserFactory(nickname="小张", email="zhangsan@example.com", phone="13800138000")
    cases = [("product", "苹果", "有机苹果礼盒"), ("sku", "苹果", skus[0].code),
             ("category", "水果", "时令水果"), ("store", "徐家汇", "徐家汇店"),
             ("customer", "zhangsan", "小张")]
    for kind, q, expected in cases:
        response = admin_client.get(f"/admin/pick/{kind}?q={q}&name=thing",
                                    headers={"HX-Request": "true"})
        html = _text(response)
        assert response.status_code == 200, kind
        assert expected in html, kind
        assert re.search(rf'type="radio" name="thing" value="{kind}:\d+"', html), kind
        assert "香蕉" not in html
    sku_html = _text(admin_client.get("/admin/pick/sku?q=苹果&name=s&multiple=1"))
    assert f'type="checkbox" name="s" value="sku:{skus[0].id}"' in sku_html
    assert "19.90" in sku_html and "10" in sku_html  # price and stock
    assert "/media/" in sku_html  # the product's picture
    customer = _text(admin_client.get("/admin/pick/customer?q=小张&name=u"))
    assert "zh***@example.com" in customer and "138****8000" in customer
    assert "zhangsan@example.com" not in customer and "13800138000" not in customer


def test_a_search_costs_the_same_queries_for_one_match_or_ten(app, admin_client):
    def queries(q):
        with counted_queries(app) as statements:
            assert admin_client.get(f"/admin/pick/sku?q={q}&name=s").status_code == 200
        return len(statements)

    product, _skus = product_with_skus(title="单品")
    ProductImageFactory(product=product)
    one = queries("单品")
    for i in range(6):
        p, _ = product_with_skus(title=f"多品{i}")
        ProductImageFactory(product=p)
    assert queries("多品") == one


def test_the_fragment_is_for_admins(app):
    anonymous = app.test_client()
    response = anonymous.get("/admin/pick/product?q=a&name=p")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]
    assert anonymous.get("/admin/pick/product?q=a&name=p",
                         headers={"HX-Request": "true"}).status_code == 401
    for role in ("shopper", "staff"):
        client, _user = signed_in(app, role)
        assert client.get("/admin/pick/product?q=a&name=p").status_code == 403, role
    editor, _user = signed_in(app, "editor")  # the kinds an editor's pages pick, no other
    assert editor.get("/admin/pick/product?q=a&name=p").status_code == 200
    assert editor.get("/admin/pick/customer?q=a&name=p").status_code == 403


def test_the_fragment_refuses_unknown_kinds_and_odd_names(admin_client):
    assert admin_client.get("/admin/pick/order?q=1&name=p").status_code == 404
    assert admin_client.get('/admin/pick/product?q=1&name="><script>').status_code == 400
    assert _text(admin_client.get("/admin/pick/product?q=&name=p")).strip() == ""
    assert "Nothing matches" in _text(admin_client.get(
        "/admin/pick/product?q=zzzz&name=p", headers={"Accept-Language": "en"}))


def test_each_domain_registers_the_kinds_it_owns(app):
    from shop.web import picking

    owners = {name: picking.lookup(name).describe.__module__ for name in picking.kinds()}
    assert owners == {"product": "shop.catalog.picking", "sku": "shop.catalog.picking",
                      "category": "shop.catalog.picking", "store": "shop.stores.picking",
                      "customer": "shop.accounts.picking", "article": "shop.home.picking",
                      "collection": "shop.home.picking", "groupbuy": "shop.home.picking",
                      "flashitem": "shop.home.picking", "bargain": "shop.home.picking"}


def test_an_unknown_kind_is_a_clear_error_in_a_form(app):
    from flask_wtf import FlaskForm

    from shop.web.picking import PickField, UnknownKind

    class OrderForm(FlaskForm):  # declaring it is fine: the field is built with the form
        order_id = PickField("Order", kind="order")

    with app.test_request_context(), pytest.raises(UnknownKind) as raised:
        OrderForm()
    assert "unknown picker kind 'order'" in str(raised.value)
    assert ("registered: article, bargain, category, collection, customer, flashitem, groupbuy, "
            "product, sku, store") in str(raised.value)


def test_masks():
    assert mask_email("zhang.san@example.com") == "zh***@example.com"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone(None) == "" and mask_phone("123") == ""


# --- the form field: flash items --------------------------------------------------------------


def _item(**changes) -> dict:
    data = {"price": "15.90", "allotted": "3", "per_user_limit": "1"}
    data.update(changes)
    return data


def _stock(app, sku_id) -> int:
    with app.app_context():
        return db.session.get(Sku, sku_id).stock


def test_a_search_posted_with_the_form_shows_matches_and_saves_nothing(app, admin_client):
    _product, skus = product_with_skus(title="有机苹果")
    session = FlashSessionFactory()
    url = f"/admin/promotions/flash/{session.id}/items"
    response = admin_client.post_form(url, _item(sku_id="", q_sku_id="苹果"),
                                      headers={"Accept-Language": "en"})
    html = _text(response)
    assert response.status_code == 422
    assert "Choose one of the matches below." in html
    assert f'type="radio" name="sku_id" value="sku:{skus[0].id}"' in html
    assert 'name="q_sku_id" value=""' in html  # emptied: the next submit saves the choice
    assert _count(app, FlashItem) == 0 and _stock(app, skus[0].id) == 10
    # choosing one of them (the radio button) and submitting again saves it
    response = admin_client.post_form(url, _item(sku_id=f"sku:{skus[0].id}", q_sku_id=""))
    assert response.status_code == 303
    with app.app_context():
        item = db.session.scalars(select(FlashItem)).one()
        assert (item.sku_id, item.allotted) == (skus[0].id, 3)


@pytest.mark.parametrize("posted, message", [
    ("product:{product}", "This takes an SKU, not a product."),
    ("category:{product}", "This takes an SKU, not a category."),
    ("999999", "No SKU has this number: 999999."),
    ("sku:0", "Choose from the search results."),
    ("sku:99999999999", "Choose from the search results."),
    ("1; DROP", "Choose from the search results."),
    ("", "This field is required."),
])
def test_a_sku_field_refuses_what_is_not_an_sku(app, admin_client, posted, message):
    product, skus = product_with_skus()
    session = FlashSessionFactory()
    response = admin_client.post_form(f"/admin/promotions/flash/{session.id}/items",
                                      _item(sku_id=posted.format(product=product.id)),
                                      headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in _text(response)
    assert _count(app, FlashItem) == 0 and _stock(app, skus[0].id) == 10


def test_a_sku_field_refuses_two_skus(app, admin_client):
    _product, skus = product_with_skus()
    session = FlashSessionFactory()
    response = admin_client.post_form(
        f"/admin/promotions/flash/{session.id}/items",
        _item(sku_id=[f"sku:{skus[0].id}", f"sku:{skus[1].id}"]), headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "Choose one." in _text(response)
    assert _count(app, FlashItem) == 0


# --- several choices: a coupon's scope -----------------------------------------------------------


def _coupon(app, **changes) -> dict:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    data = {"name": "水果券", "kind": "amount", "amount": "5.00", "min_spend": "50.00",
            "scope": "all", "valid_from": _local(app, now - timedelta(hours=1)),
            "valid_until": _local(app, now + timedelta(days=30)), "total_quantity": "10",
            "per_user_limit": "1", "returns": "y", "active": "y"}
    data.update(changes)
    return data


def test_a_coupon_scope_of_two_categories_then_one_product_saved_by_picking(app, admin_client):
    fruit, tea = CategoryFactory(name="水果"), CategoryFactory(name="茶叶")
    CategoryFactory(name="零食")
    product, _skus = product_with_skus(title="龙井")
    response = admin_client.post_form("/admin/promotions/coupons/new", _coupon(
        app, scope="categories", scope_categories=[f"category:{fruit.id}", f"category:{tea.id}"],
        scope_products=f"product:{product.id}"))  # the scope names categories: those are saved
    assert response.status_code == 303, _text(response)[:2000]
    with app.app_context():
        coupon = db.session.scalars(select(Coupon)).one()
        assert (coupon.scope, coupon.scope_ids) == ("categories", sorted([fruit.id, tea.id]))
        coupon_id = coupon.id
    # the page shows them chosen, by name
    html = _text(admin_client.get(f"/admin/promotions/coupons/{coupon_id}"))
    assert f'name="scope_categories" value="category:{fruit.id}" checked' in html
    assert "茶叶" in html and "零食" not in html
    # the same coupon now for one product
    response = admin_client.post_form(f"/admin/promotions/coupons/{coupon_id}", _coupon(
        app, scope="products", scope_products=f"product:{product.id}", total_quantity="10"))
    assert response.status_code == 303, _text(response)[:2000]
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert (coupon.scope, coupon.scope_ids) == ("products", [product.id])


def test_a_coupon_scope_refuses_a_product_among_categories(app, admin_client):
    fruit = CategoryFactory(name="水果")
    product, _skus = product_with_skus()
    response = admin_client.post_form("/admin/promotions/coupons/new", _coupon(
        app, scope="categories",
        scope_categories=[f"category:{fruit.id}", f"product:{product.id}"]),
        headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "This takes a category, not a product." in _text(response)
    response = admin_client.post_form("/admin/promotions/coupons/new", _coupon(
        app, scope="products"), headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "Choose at least one." in _text(response)
    assert _count(app, Coupon) == 0


def test_pickers_render_on_the_forms_that_use_them(app, admin_client):
    session = FlashSessionFactory()
    pages = {f"/admin/promotions/flash/{session.id}": "sku_id",
             "/admin/promotions/coupons/new": "scope_categories",
             "/admin/promotions/promotions/new?kind=buy_get": "sku_id",
             "/admin/promotions/promotions/new?kind=full_reduction": "tiers-0-gift_sku_id",
             "/admin/promotions/timed-prices/new": "product_id",
             "/admin/points/mall/new": "sku_id",
             "/admin/points/rates": "product_id",
             "/admin/groups/": "product_id",
             "/admin/bargains/new": "sku_id",
             f"/admin/stores/{StoreFactory().id}": "user_id",
             f"/admin/promotions/coupons/{CouponFactory().id}": "customers",
             "/admin/points/adjust": "user_id",
             "/admin/wallet": "user_id"}
    for url, name in pages.items():
        html = _text(admin_client.get(url))
        assert f'name="q_{name}"' in html, url
        assert re.search(rf'hx-get="/admin/pick/\w+\?name={re.escape(name)}', html), url


# --- a search is not a save: no errors on the form's other fields ---------------------------


def test_a_search_without_javascript_shows_no_required_errors_on_the_other_fields(app, admin_client):
    """A picker search posted with its form fails the form (nothing saved) with the
    matches, and nothing else: "This field is required" was asked of nobody yet. The
    typed values stay; a nested picker (a tier's gift) behaves alike."""
    fruit = CategoryFactory(name="时令水果")
    _product, skus = product_with_skus(title="有机苹果")
    before = (_count(app, Coupon),)
    response = admin_client.post_form("/admin/promotions/coupons/new", {
        "name": "", "kind": "amount", "amount": "", "scope": "categories",
        "per_user_limit": "", "valid_from": "", "q_scope_categories": "水果", "min_spend": "12.00",
    }, headers={"Accept-Language": "en"})
    html = _text(response)
    assert response.status_code == 422
    assert "Choose one of the matches below." in html
    assert f'type="checkbox" name="scope_categories" value="category:{fruit.id}"' in html
    assert "This field is required" not in html and "Give the amount off." not in html
    assert html.count('class="error"') == 1
    assert 'name="min_spend"' in html and 'value="12.00"' in html  # what was typed stays
    assert (_count(app, Coupon),) == before
    # a picker inside a tier of a full reduction
    response = admin_client.post_form("/admin/promotions/promotions/new", {
        "name": "", "basis": "amount", "scope": "all", "starts_at": "", "ends_at": "",
        "tiers-0-threshold": "", "tiers-0-off_amount": "", "tiers-0-off_bp": "",
        "tiers-0-gift_sku_id": "", "q_tiers-0-gift_sku_id": "苹果",
    }, headers={"Accept-Language": "en"})
    html = _text(response)
    assert response.status_code == 422
    assert f'value="sku:{skus[0].id}"' in html and "Choose one of the matches below." in html
    assert "This field is required" not in html


def test_pickers_name_things_in_the_pages_language(app, admin_client):
    from tests.factories import CategoryFactory

    CategoryFactory(name="时令水果", translations={"en": {"name": "Seasonal fruit"}})
    zh = admin_client.get("/admin/pick/category?q=水果&name=scope_categories",
                          headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = admin_client.get("/admin/pick/category?q=水果&name=scope_categories",
                          headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "时令水果" in zh and "Seasonal fruit" in en and "时令水果" not in en
