"""The address book (/me/addresses, shop.orders.addresses): several addresses, exactly
one default, the province/city/district picker fed by China's divisions (codes kept),
mobile numbers and postcodes checked, owners checked; checkout with a saved address; the
picker's htmx fragment and its no-JavaScript round trip; the division data itself."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop import divisions
from shop.cart.models import CartItem
from shop.db import db
from shop.orders import addresses
from shop.orders.models import Address, Order
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import AddressFactory, ShippingRegionFactory, ShippingTemplateFactory, product_with_skus

EN = {"Accept-Language": "en"}
# 新疆乌鲁木齐天山区, for a region fee; 北京市东城区 (a municipality: its city is itself)
XINJIANG = {"province": "65", "city": "6501", "district": "650102"}
BEIJING = {"province": "11", "city": "1101", "district": "110101"}


def _book(app, user_id: int) -> list[tuple]:
    with app.app_context():
        return [(a.name, a.phone, a.province_code, a.city_code, a.district_code, a.one_line(),
                 a.postcode, a.is_default)
                for a in addresses.book(user_id)]


def _add(client, **values):
    return client.post_form("/me/addresses/new", {**ADDRESS, **values}, headers=EN)


def test_a_shopper_adds_edits_makes_default_and_deletes_addresses(app):
    client, user = signed_in(app)
    assert "No addresses yet" in client.get("/me/addresses", headers=EN).get_data(as_text=True)
    response = _add(client, phone="138 0013 8000", postcode="310000")
    assert response.status_code == 303 and response.headers["Location"] == "/me/addresses"
    # the first is the default whatever the box said; names kept as picked for the label
    assert _book(app, user.id) == [("张三", "13800138000", "33", "3301", "330106",
                                    "浙江省杭州市西湖区文三路 1 号", "310000", True)]
    assert _add(client, name="李四", detail="长安街 1 号", **BEIJING).status_code == 303
    first, second = _book(app, user.id)
    assert (first[0], first[-1], second[0], second[-1]) == ("张三", True, "李四", False)
    assert second[5] == "北京市东城区长安街 1 号"  # a municipality: its name once
    with app.app_context():
        ids = {a.name: a.id for a in addresses.book(user.id)}
    page = client.get("/me/addresses", headers=EN).get_data(as_text=True)
    assert page.count('data-testid="make-default"') == 1 and "长安街" in page
    assert "北京市东城区" in page and "北京市北京市" not in page
    # Delete only opens the question; its form's button deletes
    assert page.count('<details class="confirm-delete">') == 2
    assert page.index('data-testid="delete-address"') < page.index('data-testid="confirm-delete"')
    # make 李四 the default: exactly one default
    assert client.post_form(f"/me/addresses/{ids['李四']}/default", {}).status_code == 303
    assert [(row[0], row[-1]) for row in _book(app, user.id)] == [("李四", True), ("张三", False)]
    # edit 张三: its form shows what is stored, the picker's lists filled
    form = client.get(f"/me/addresses/{ids['张三']}/edit", headers=EN).get_data(as_text=True)
    assert '<option selected value="330106">西湖区</option>' in form and 'value="310000"' in form
    response = client.post_form(f"/me/addresses/{ids['张三']}/edit",
                                {**ADDRESS, **XINJIANG, "detail": "人民路 2 号", "make_default": "y"})
    assert response.status_code == 303
    assert _book(app, user.id)[0][:6] == ("张三", "13800138000", "65", "6501", "650102",
                                          "新疆维吾尔自治区乌鲁木齐市天山区人民路 2 号")
    assert [row[-1] for row in _book(app, user.id)] == [True, False]
    # deleting the default passes it on to the other
    assert client.post_form(f"/me/addresses/{ids['张三']}/delete", {}).status_code == 303
    assert [(row[0], row[-1]) for row in _book(app, user.id)] == [("李四", True)]


@pytest.mark.parametrize("values, field, message", [
    ({"phone": "12345678901"}, "phone", "Enter an 11-digit mobile number."),
    ({"phone": "010 6512 3456"}, "phone", "Enter an 11-digit mobile number."),  # a landline
    ({"phone": "+44 7911 123456"}, "phone", "Enter an 11-digit mobile number."),
    ({"postcode": "31000"}, "postcode", "A postcode is 6 digits."),
    ({"postcode": "31000a"}, "postcode", "A postcode is 6 digits."),
    ({"province": "99"}, "province", "Choose a province from the list."),
    ({"province": "浙江省"}, "province", "Choose a province from the list."),
    ({"city": "1101"}, "city", "Choose a city of the province from the list."),  # Beijing's, not 浙江's
    ({"district": "110101"}, "district", "Choose a district of the city from the list."),
    ({"district": "3301"}, "district", "Choose a district of the city from the list."),
    ({"district": ""}, "district", "Choose a district of the city from the list."),
])
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(app, values, field, message):
    client, user = signed_in(app)
    AddressFactory(user_id=user.id, detail="原来的地址")
    before = _book(app, user.id)
    response = _add(client, **values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-err">{message}</p>' in html
    assert _book(app, user.id) == before


def test_every_wrong_field_says_so_at_once(app):
    client, user = signed_in(app)
    response = client.post_form("/me/addresses/new", {**ADDRESS, "name": "", "phone": "123",
                                                       "district": "", "detail": " ", "postcode": "1"},
                                headers={"Accept-Language": "zh-CN"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and html.count('<p class="error"') == 5
    assert "该字段是必填字段" not in html and '<p class="error" id="district-err">' in html
    # the service alone names every field too (the divisions: the first wrong one)
    with app.app_context(), pytest.raises(addresses.AddressError) as refused:
        addresses.checked(**{**ADDRESS, "phone": "1", "city": "", "detail": ""})
    assert list(refused.value.errors) == ["phone", "city", "detail"]
    assert _book(app, user.id) == []


def test_an_address_the_book_has_is_reused_not_added_twice(app):
    client, user = signed_in(app)
    li = {"name": "李四", "detail": "长安街 1 号", **BEIJING}
    for values in (ADDRESS, li, {**ADDRESS, "phone": "+86 138 0013 8000"}):
        assert _add(client, **values).status_code == 303
    assert [(row[0], row[-1]) for row in _book(app, user.id)] == [("张三", True), ("李四", False)]
    # the same again, asked to be the default: it becomes it, still two rows
    assert _add(client, make_default="y", **li).status_code == 303
    assert [(row[0], row[-1]) for row in _book(app, user.id)] == [("李四", True), ("张三", False)]
    with app.app_context():  # an order typing it reuses it too (one helper)
        ids = {a.name: a.id for a in addresses.book(user.id)}
        assert addresses.for_order(user.id, **ADDRESS).id == ids["张三"]
        db.session.commit()
    # the default edited into a copy of the other: one row left, the default
    response = client.post_form(f"/me/addresses/{ids['李四']}/edit", {**ADDRESS, "postcode": ""})
    assert response.status_code == 303
    assert [(row[0], row[5], row[-1]) for row in _book(app, user.id)] == [
        ("张三", "浙江省杭州市西湖区文三路 1 号", True)]
    with app.app_context():
        assert addresses.book(user.id)[0].id == ids["张三"]


def test_another_shoppers_address_is_not_found_and_stays_as_it_was(app):
    client, _user = signed_in(app)
    theirs = AddressFactory(is_default=True)
    before = _book(app, theirs.user_id)
    for method, url in (("get", f"/me/addresses/{theirs.id}/edit"),
                        ("post", f"/me/addresses/{theirs.id}/edit"),
                        ("post", f"/me/addresses/{theirs.id}/default"),
                        ("post", f"/me/addresses/{theirs.id}/delete")):
        response = (client.get(url) if method == "get"
                    else client.post_form(url, {**ADDRESS, "name": "改掉"}))
        assert response.status_code == 404, url
    with app.app_context():  # the services check the owner too
        address = db.session.get(Address, theirs.id)
        for change in (addresses.set_default, addresses.delete):
            with pytest.raises(addresses.AddressError):
                change(_user.id, address)
        with pytest.raises(addresses.AddressError):
            addresses.save(_user.id, address, **ADDRESS)
        db.session.rollback()
    assert _book(app, theirs.user_id) == before
    # nor can a checkout pick it: the form refuses it and no order is made
    product, (sku,) = product_with_skus(skus=(("默认", 1000, 5),))
    with app.app_context():
        db.session.add(CartItem(user_id=_user.id, sku_id=sku.id, quantity=1))
        db.session.commit()
    response = client.post_form("/checkout", {"address": str(theirs.id),
                                              "token": form_token(client, "/checkout")}, headers=EN)
    assert response.status_code == 422
    assert "Choose one of your addresses, or add a new one." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_the_checkout_offers_the_saved_addresses_and_ships_to_the_one_picked(app):
    template = ShippingTemplateFactory(is_default=True, fee_minor=1000, free_from_minor=None)
    ShippingRegionFactory(template_id=template.id)  # 新疆, 西藏: 20.00
    client, user = signed_in(app)
    home = AddressFactory(user_id=user.id, is_default=True)
    far = AddressFactory(user_id=user.id, is_default=False, name="王五", province="新疆维吾尔自治区",
                         province_code="65", city="乌鲁木齐市", city_code="6501", district="天山区",
                         district_code="650102", detail="人民路 2 号")
    old = AddressFactory(user_id=user.id, is_default=False, province_code=None, city_code=None,
                         district_code=None, province="火星", detail="旧地址")
    product, (sku,) = product_with_skus(skus=(("默认", 1000, 5),))
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
        db.session.commit()
    page = client.get("/checkout", headers=EN).get_data(as_text=True)
    assert f'value="{home.id}" checked' in page and "¥10.00" in page  # the default, 浙江
    assert f'value="{old.id}" disabled' in page and "needs an edit before use" in page
    # the breakdown follows the address picked (htmx: ?address=)
    quote = client.get(f"/checkout?address={far.id}", headers={**EN, "HX-Request": "true"})
    assert "¥20.00" in quote.get_data(as_text=True)
    # an address that needs an edit can not be used
    token = form_token(client, "/checkout")
    refused = client.post_form("/checkout", {"address": str(old.id), "token": token}, headers=EN)
    assert refused.status_code == 422
    response = client.post_form("/checkout", {"address": str(far.id), "token": token})
    assert response.status_code == 302
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.ship_name, order.ship_address) == ("王五", "新疆维吾尔自治区乌鲁木齐市天山区人民路 2 号")
        assert [(a.kind, a.amount_minor) for a in order.adjustments] == [("shipping", 2000)]
        assert db.session.scalar(select(func.count(Address.id))) == 3  # nothing added


def test_a_new_address_typed_at_checkout_joins_the_book(app):
    client, user = signed_in(app)
    AddressFactory(user_id=user.id, is_default=True)
    product, (sku,) = product_with_skus(skus=(("默认", 1000, 5),))
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
        db.session.commit()
    page = client.get("/checkout", headers=EN).get_data(as_text=True)  # Enter places the order
    assert 'class="visually-hidden"' in _first_submit(page, 'id="checkout-form"')
    response = client.post_form("/checkout", {**ADDRESS, **BEIJING, "address": "new", "name": "赵六",
                                              "token": form_token(client, "/checkout")})
    assert response.status_code == 302
    assert [(row[0], row[4], row[-1]) for row in _book(app, user.id)] == [
        ("张三", "330106", True), ("赵六", "110101", False)]


def test_the_picker_fragment_lists_the_next_divisions_by_get(app, client):
    html = client.get("/me/addresses/divisions?province=33", headers=EN).get_data(as_text=True)
    assert '<option value="3301">杭州市</option>' in html and "西湖区" not in html
    html = client.get("/me/addresses/divisions?province=33&city=3301&district=",
                      headers=EN).get_data(as_text=True)
    assert '<option selected value="3301">杭州市</option>' in html
    assert '<option value="330106">西湖区</option>' in html
    # a city left from another province lists no districts
    html = client.get("/me/addresses/divisions?province=11&city=3301",
                      headers=EN).get_data(as_text=True)
    assert "西湖区" not in html and '<option value="1101">北京市</option>' in html
    assert 'hx-get="/me/addresses/divisions"' in html


def test_without_javascript_the_form_comes_back_with_the_next_list_filled(app):
    client, user = signed_in(app)
    page = client.get("/me/addresses/new", headers=EN).get_data(as_text=True)
    # each list's button right under its select; Enter does what Save does: the form's
    # first submit button is a nameless (hidden) one, before the picker's and the search's
    assert (page.index('id="province"') < page.index("Show the cities of this province")
            < page.index('id="city"') < page.index("Show the districts of this city")
            < page.index('id="district"'))
    assert _first_submit(page, 'data-testid="address-form"') == (
        '<button type="submit" class="visually-hidden" tabindex="-1" aria-hidden="true">')
    zh = client.get("/me/addresses/new", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<label for="province">省</label>' in zh and '<label for="district">区/县</label>' in zh
    response = _add(client, city="", district="", divisions="1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="error"' not in html
    assert '<option value="3301">杭州市</option>' in html and 'value="文三路 1 号"' in html
    assert _book(app, user.id) == []


def _first_submit(page: str, form_marker: str) -> str:
    form = page[page.index(form_marker):]
    start = form.index('type="submit"')
    return form[form.rindex("<", 0, start):form.index(">", start) + 1]


@pytest.mark.pages
def test_the_division_data_is_read_once_into_a_tree():
    assert len(divisions.provinces()) == 31 and divisions.get("65").name == "新疆维吾尔自治区"
    assert [d.name for d in divisions.children("11")] == ["北京市"]  # 市辖区, shown as the city
    assert divisions.get("330106").parent == "3301" and divisions.get("3301").parent == "33"
    assert divisions.match_names("浙江", "杭州市", "西湖区") == ("33", "3301", "330106")
    assert divisions.match_names("浙江省", "杭州", "西湖区") == ("33", None, None)
    assert divisions.match_names("火星", "", "") == (None, None, None)
    assert divisions.province_codes("内蒙古") == ["15"] and divisions.province_codes("") == []
    # written on one line, a city level that is no city of its own is left out
    names = [(p.name, c.name, d.name) for p, c, d in (
        (divisions.get(code[:2]), divisions.get(code[:4]), divisions.get(code))
        for code in ("330106", "110102", "500229", "419001", "659001"))]
    assert [divisions.written(*n) for n in names] == [
        "浙江省杭州市西湖区", "北京市西城区", "重庆市城口县", "河南省济源市", "新疆维吾尔自治区石河子市"]


@pytest.mark.postgres
def test_two_parallel_make_default_end_with_exactly_one_default(app):
    from tests.concurrency.http import together

    user_id = AddressFactory(is_default=True).user_id
    others = [AddressFactory(user_id=user_id, is_default=False).id for _ in range(2)]

    def make_default(address_id: int):
        with app.app_context():
            addresses.set_default(user_id, addresses.address_of(user_id, address_id))
            db.session.commit()

    for _round in range(3):
        assert together([lambda a=a: make_default(a) for a in others]) == [None, None]
        with app.app_context():
            defaults = db.session.scalars(select(Address.id).where(
                Address.user_id == user_id, Address.is_default.is_(True))).all()
        assert len(defaults) == 1 and defaults[0] in others
