"""A SKU's own cost on the product form: saved, shown, cleared back to the product's cost,
and refused when it is not an amount (nothing saved)."""

from sqlalchemy import select

from shop.catalog.models import Product, Sku
from shop.db import db
from tests.factories import CategoryFactory, product_with_skus

EN = {"Accept-Language": "en"}


def _form(category_id: int, **overrides) -> dict:
    data = {
        "title": "樱桃", "category_id": str(category_id), "cost_price": "40.00",
        "status": "on_sale", "option_names": "规格",
        "skus-0-code": "CH-1", "skus-0-options": "1斤", "skus-0-price": "69.00",
        "skus-0-stock": "5", "skus-0-stock_seen": "0", "skus-0-active": "y",
        "skus-1-code": "CH-5", "skus-1-options": "5斤", "skus-1-price": "269.00",
        "skus-1-cost": "180.00", "skus-1-stock": "5", "skus-1-stock_seen": "0",
        "skus-1-active": "y",
    }
    data.update(overrides)
    return data


def _costs(app) -> dict[str, tuple[int | None, int]]:
    with app.app_context():
        return {sku.code: (sku.cost_price_minor, sku.cost_minor)
                for sku in db.session.scalars(select(Sku).order_by(Sku.id))}


def test_the_product_form_saves_shows_and_clears_a_skus_cost(app, admin_client):
    category = CategoryFactory()
    response = admin_client.post_form("/admin/catalog/products/new", _form(category.id))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _costs(app) == {"CH-1": (None, 4000), "CH-5": (18000, 18000)}

    with app.app_context():
        product = db.session.scalar(select(Product))
        one, five = product.skus
        product_id, ids = product.id, (one.id, five.id)
    url = f"/admin/catalog/products/{product_id}"
    page = admin_client.get(url, headers=EN).get_data(as_text=True)
    assert 'name="skus-1-cost"' in page and 'value="180.00"' in page
    assert 'name="skus-0-cost"' in page and 'name="skus-2-cost"' in page  # a blank row to add one
    assert "Optional: empty means the product's cost price." in page
    assert '<input id="skus-0-cost" inputmode="decimal" name="skus-0-cost" type="text" value="">' in page

    # the 5斤 box's cost cleared, the 1斤 box given one
    edit = _form(category.id, **{"skus-0-id": str(ids[0]), "skus-0-cost": "38.50",
                                 "skus-0-stock_seen": "5", "skus-1-id": str(ids[1]),
                                 "skus-1-cost": "", "skus-1-stock_seen": "5"})
    assert admin_client.post_form(url, edit).status_code == 302
    assert _costs(app) == {"CH-1": (3850, 3850), "CH-5": (None, 4000)}


def test_a_bad_sku_cost_is_refused_and_changes_nothing(app, admin_client):
    product, (red, blue) = product_with_skus(cost_price_minor=4000)
    with app.app_context():
        db.session.get(Sku, red.id).cost_price_minor = 5000
        db.session.commit()
    before = _costs(app)
    url = f"/admin/catalog/products/{product.id}"
    base = {"title": "改", "category_id": str(product.category_id), "cost_price": "40.00",
            "status": "on_sale", "option_names": "颜色",
            "skus-0-id": str(red.id), "skus-0-code": red.code, "skus-0-options": "红",
            "skus-0-price": "19.90", "skus-0-stock": "10", "skus-0-stock_seen": "10",
            "skus-0-active": "y",
            "skus-1-id": str(blue.id), "skus-1-code": blue.code, "skus-1-options": "蓝",
            "skus-1-price": "25.90", "skus-1-stock": "0", "skus-1-stock_seen": "0",
            "skus-1-active": "y"}
    cases = [
        ({"skus-0-cost": "-1"}, "The amount cannot be negative."),
        ({"skus-0-cost": "1.234"}, "Use at most 2 decimal places."),
        ({"skus-1-cost": "abc"}, "Enter an amount such as 12.50."),
        ({"skus-1-cost": "１２"}, "Enter an amount such as 12.50."),
        # a new row with only a cost is not skipped: it needs a code and a price
        ({"skus-2-cost": "3.00"}, "Give the SKU a code."),
    ]
    for overrides, message in cases:
        response = admin_client.post_form(url, {**base, **overrides}, headers=EN)
        assert response.status_code == 422, overrides
        body = response.get_data(as_text=True)
        assert message in body, overrides
        assert "Product saved." not in body
    response = admin_client.post(url, data={**base, "csrf_token": admin_client.csrf_token(),
                                            "skus-0-cost": ["1.00", "2.00"]}, headers=EN)
    assert response.status_code == 422 and "Send one number." in response.get_data(as_text=True)
    assert _costs(app) == before == {red.code: (5000, 5000), blue.code: (None, 4000)}
    with app.app_context():
        assert db.session.get(Product, product.id).title == product.title
