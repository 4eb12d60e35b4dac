"""The backoffice of shipping: templates with their regions, one default, the days before
a shipped order completes itself; bad input refused (422) with nothing changed; admins
only. A product's form chooses its template."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from shop.db import db
from shop.orders import services as orders
from shop.shipping.models import ShippingRegion, ShippingTemplate
from tests.conftest import signed_in
from tests.factories import CategoryFactory, ShippingRegionFactory, ShippingTemplateFactory

EN = {"Accept-Language": "en"}


def _state(app) -> tuple:
    """Every template with its regions, and the auto-complete setting."""
    with app.app_context():
        templates = [(t.id, t.name, t.fee_minor, t.free_from_minor, t.is_default,
                      [(r.position, r.provinces, r.fee_minor, r.free_from_minor) for r in t.regions])
                     for t in db.session.scalars(select(ShippingTemplate).order_by(ShippingTemplate.id))]
        return templates, orders.get_setting("auto_complete_days")


def _template_form(name="偏远地区", fee="12.00", free_from="", default=False, **regions):
    data = {"name": name, "fee": fee, "free_from": free_from}
    if default:
        data["is_default"] = "y"
    data.update(regions)
    return data


def test_an_admin_creates_and_edits_a_template_with_its_regions(app, admin_client):
    page = admin_client.get("/admin/shipping/", headers=EN).get_data(as_text=True)
    assert "No template yet" in page and "¥10.00" in page and "¥99.00" in page
    response = admin_client.post_form("/admin/shipping/templates/new", _template_form(**{
        "regions-0-provinces": ["65", "54", "63"], "regions-0-fee": "25", "regions-0-free_from": "",
        "regions-2-provinces": "46", "regions-2-fee": "15.00", "regions-2-free_from": "199"}))
    assert response.status_code == 303
    with app.app_context():
        template = db.session.scalar(select(ShippingTemplate))
        assert response.headers["Location"] == f"/admin/shipping/templates/{template.id}"
        template_id = template.id
    # the first template saved is the default, whatever the box said
    assert _state(app)[0] == [(template_id, "偏远地区", 1200, None, True, [
        (0, ["65", "54", "63"], 2500, None), (1, ["46"], 1500, 19_900)])]
    form = admin_client.get(f"/admin/shipping/templates/{template_id}").get_data(as_text=True)
    ticked = re.findall(r'<input checked id="regions-\d-provinces-\d+" name="(regions-\d)-provinces" '
                        r'type="checkbox" value="(\d+)"', form)
    assert ticked == [("regions-0", "54"), ("regions-0", "63"), ("regions-0", "65"), ("regions-1", "46")]
    assert '新疆维吾尔自治区</label>' in form and 'value="199.00"' in form
    response = admin_client.post_form(f"/admin/shipping/templates/{template_id}", _template_form(
        name="标准快递", fee="8", free_from="59", default=True, **{
            "regions-1-provinces": "15", "regions-1-fee": "30", "regions-1-free_from": "300"}))
    assert response.status_code == 303
    assert _state(app)[0] == [(template_id, "标准快递", 800, 5900, True,
                               [(0, ["15"], 3000, 30_000)])]
    with app.app_context():
        assert len(db.session.scalars(select(ShippingRegion)).all()) == 1  # the others went
    listing = admin_client.get("/admin/shipping/", headers=EN).get_data(as_text=True)
    assert "标准快递" in listing and "内蒙古" in listing and "¥8.00" in listing


def test_one_template_is_the_default_and_stays_so_until_another_is_made_it(app, admin_client):
    first = ShippingTemplateFactory(is_default=True)
    second = ShippingTemplateFactory()
    response = admin_client.post_form("/admin/shipping/templates/new",
                                      _template_form(name="快递", default=True))
    assert response.status_code == 303

    def defaults():
        with app.app_context():
            return list(db.session.scalars(select(ShippingTemplate.name)
                                           .where(ShippingTemplate.is_default)))

    assert defaults() == ["快递"]
    assert admin_client.post_form(f"/admin/shipping/templates/{second.id}/default").status_code == 303
    assert defaults() == [second.name]
    listing = admin_client.get("/admin/shipping/", headers=EN).get_data(as_text=True)
    assert listing.count("Make default") == 2
    # the default can not be unmarked: another is made the default instead
    before = _state(app)
    refused = admin_client.post_form(f"/admin/shipping/templates/{second.id}",
                                     _template_form(name="改名"), headers=EN)
    assert refused.status_code == 422 and "There must be a default template" in refused.get_data(as_text=True)
    assert _state(app) == before
    assert admin_client.post_form("/admin/shipping/templates/999/default").status_code == 404
    assert admin_client.get("/admin/shipping/templates/999").status_code == 404
    assert first.id != second.id


@pytest.mark.parametrize("data, message", [
    (_template_form(fee="-1"), "cannot be negative"),
    (_template_form(fee=""), "This field is required."),
    (_template_form(fee="1.234"), "1.234"),
    (_template_form(name=""), "This field is required."),
    (_template_form(name="<b>x</b>"), "HTML tags are not allowed"),
    (_template_form(name="默认"), "Another template has this name."),
    (_template_form(**{"regions-0-provinces": "65"}), "Give the region"),
    (_template_form(**{"regions-0-fee": "20"}), "List at least one province."),
    (_template_form(**{"regions-0-provinces": "65", "regions-0-fee": "-2"}), "cannot be negative"),
    (_template_form(**{"regions-0-provinces": "65", "regions-0-fee": "20",
                       "regions-3-provinces": ["54", "65"], "regions-3-fee": "30"}),
     "An earlier region lists 新疆维吾尔自治区 already."),
    # a province is picked from the list, never typed: a name or a city's code is refused
    (_template_form(**{"regions-0-provinces": "新疆", "regions-0-fee": "20"}), "not a valid choice"),
    (_template_form(**{"regions-0-provinces": "6501", "regions-0-fee": "20"}), "not a valid choice"),
])
def test_bad_input_is_refused_and_changes_nothing(app, admin_client, data, message):
    default = ShippingTemplateFactory(name="默认", is_default=True)
    ShippingRegionFactory(template_id=default.id)
    other = ShippingTemplateFactory(name="其他")
    before = _state(app)
    for url in ("/admin/shipping/templates/new", f"/admin/shipping/templates/{other.id}"):
        response = admin_client.post_form(url, data, headers=EN)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (url, html[:500])
        assert message in html, (url, message)
        assert _state(app) == before


def test_the_days_before_a_shipped_order_completes_itself(app, admin_client):
    page = admin_client.get("/admin/shipping/", headers=EN).get_data(as_text=True)
    assert 'name="days"' in page and 'value="10"' in page
    assert admin_client.post_form("/admin/shipping/auto-complete", {"days": "3"}).status_code == 303
    assert _state(app)[1] == 3
    for bad in ("0", "61", "2.5", "", "x"):
        response = admin_client.post_form("/admin/shipping/auto-complete", {"days": bad}, headers=EN)
        assert response.status_code == 422, bad
        assert _state(app)[1] == 3
    assert 'value="3"' in admin_client.get("/admin/shipping/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["anonymous", "shopper", "staff", "editor"])
def test_only_admins_work_on_shipping(app, role):
    template = ShippingTemplateFactory(is_default=True)
    other = ShippingTemplateFactory()
    if role == "anonymous":
        client = app.test_client()
    else:
        client, _user = signed_in(app, role)
    expected = 302 if role == "anonymous" else 403
    before = _state(app)
    for url in ("/admin/shipping/", "/admin/shipping/templates/new",
                f"/admin/shipping/templates/{template.id}"):
        assert client.get(url).status_code == expected, url
    for url, data in ((f"/admin/shipping/templates/{template.id}", _template_form(fee="1")),
                      ("/admin/shipping/templates/new", _template_form()),
                      (f"/admin/shipping/templates/{other.id}/default", {}),
                      ("/admin/shipping/auto-complete", {"days": "2"})):
        assert client.post_form(url, data).status_code == expected, url
    assert _state(app) == before


def test_a_products_form_chooses_its_shipping_template(app, admin_client):
    default = ShippingTemplateFactory(name="默认运费", is_default=True)
    bulky = ShippingTemplateFactory(name="大件")
    category = CategoryFactory()
    data = {"title": "沙发", "category_id": str(category.id), "cost_price": "5.00",
            "status": "on_sale", "skus-0-code": "SOFA", "skus-0-price": "999",
            "skus-0-stock": "3", "skus-0-stock_seen": "0", "skus-0-active": "y"}
    form = admin_client.get("/admin/catalog/products/new").get_data(as_text=True)
    assert "大件" in form and "默认运费" in form
    response = admin_client.post_form("/admin/catalog/products/new",
                                      dict(data, shipping_template_id=str(bulky.id)))
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    with app.app_context():
        product = db.session.scalar(select(Product))
        assert product.shipping_template_id == bulky.id
        product_id = product.id
        data.update({"skus-0-id": str(product.skus[0].id), "skus-0-stock_seen": "3"})
    page = admin_client.get(f"/admin/catalog/products/{product_id}").get_data(as_text=True)
    assert f'<option selected value="{bulky.id}">' in page or f'value="{bulky.id}" selected' in page
    refused = admin_client.post_form(f"/admin/catalog/products/{product_id}",
                                     dict(data, shipping_template_id="999"))
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(Product, product_id).shipping_template_id == bulky.id
    assert admin_client.post_form(f"/admin/catalog/products/{product_id}",
                                  dict(data, shipping_template_id="0")).status_code == 302
    with app.app_context():
        assert db.session.get(Product, product_id).shipping_template_id is None  # the default
    assert default.id != bulky.id


def test_the_demo_gives_the_default_template_a_remote_regions_row_once(app, monkeypatch):
    from shop.demo import load_demo

    monkeypatch.setattr("shop.demo.CATEGORIES", [])  # no products: quick
    with app.app_context():
        assert load_demo()["shipping regions"] == 1
        db.session.commit()
    state = _state(app)
    ((_id, _name, fee, free_from, is_default, regions),) = state[0]
    assert (fee, free_from, is_default) == (1000, 9900, True)
    assert regions == [(0, ["65", "54"], 2000, None)]
    with app.app_context():
        assert load_demo()["shipping regions"] == 0
        db.session.commit()
    assert _state(app) == state
