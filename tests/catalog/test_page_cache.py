"""Cached fragments never show a stale catalogue: any product or category change moves
the generation in their key; stock is always read live."""

from shop.catalog.models import Product
from shop.catalog.services import move_stock, save_category
from shop.db import db
from tests.factories import CategoryFactory, product_with_skus
from tests.catalog.test_backoffice import _product_form

EN = {"Accept-Language": "en"}


def test_stock_is_live_while_the_page_is_cached(app, client):
    product, (red, _blue) = product_with_skus()
    assert "库存 10 件" in client.get(f"/p/{product.id}").get_data(as_text=True)
    with app.app_context():
        move_stock(red.id, -3, reason="sale", ref_type="order", ref_id="1")
        db.session.commit()
    assert "库存 7 件" in client.get(f"/p/{product.id}").get_data(as_text=True)


def test_backoffice_edits_show_at_once_on_cached_pages(app, client, admin_client):
    product, (red, blue) = product_with_skus(title="旧标题")
    category_url = f"/c/{product.category_id}"
    assert "旧标题" in client.get(f"/p/{product.id}").get_data(as_text=True)
    assert "旧标题" in client.get(category_url).get_data(as_text=True)

    form = _product_form(product.category_id, **{
        "title": "旧标题", "title_en": f"Product {product.code}",
        "option_labels_en": "颜色=Colour\n红=Red\n蓝=Blue",
        "skus-0-id": str(red.id), "skus-0-code": red.code, "skus-0-options": "红",
        "skus-0-price": "19.90", "skus-0-stock_seen": "10", "skus-0-stock": "10",
        "skus-1-id": str(blue.id), "skus-1-code": blue.code, "skus-1-options": "蓝",
        "skus-1-price": "25.90", "skus-1-stock_seen": "0", "skus-1-stock": "0", "skus-1-active": "y",
        "skus-2-code": "GREEN", "skus-2-options": "绿", "skus-2-price": "29.90", "skus-2-stock": "4",
        "skus-2-stock_seen": "0", "skus-2-active": "y",
    })
    # Only a new SKU: the product row itself is unchanged, the picker must still update.
    assert admin_client.post_form(f"/admin/catalog/products/{product.id}", form).status_code == 302
    assert 'value="绿"' in client.get(f"/p/{product.id}").get_data(as_text=True)
    form.update({"title": "新标题", "skus-2-id": "", "skus-2-stock_seen": "4"})
    with app.app_context():
        green_id = next(s.id for s in db.session.get(Product, product.id).skus if s.code == "GREEN")
    form["skus-2-id"] = str(green_id)
    assert admin_client.post_form(f"/admin/catalog/products/{product.id}", form).status_code == 302
    page = client.get(f"/p/{product.id}").get_data(as_text=True)
    assert "新标题" in page and 'value="绿"' in page
    listing = client.get(category_url).get_data(as_text=True)
    assert "新标题" in listing

    admin_client.post_form(f"/admin/catalog/products/{product.id}/archive")
    assert client.get(f"/p/{product.id}").status_code == 404
    assert "新标题" not in client.get(category_url).get_data(as_text=True)


def test_category_rename_shows_at_once(app, client):
    category = CategoryFactory(name="旧名", slug="old")
    product_with_skus(category=category)
    assert "旧名" in client.get(f"/c/{category.id}").get_data(as_text=True)
    with app.test_request_context():
        save_category(db.session.get(type(category), category.id), name="新名", name_en="", slug="old",
                      parent_id=None, position=0, active=True)
        db.session.commit()
    assert "新名" in client.get(f"/c/{category.id}").get_data(as_text=True)
    assert "新名" in client.get("/categories").get_data(as_text=True)


def test_languages_are_cached_apart(client):
    product, _ = product_with_skus(title="中文名")
    assert "中文名" in client.get(f"/p/{product.id}").get_data(as_text=True)
    english = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert f"Product {product.code}" in english and "中文名" not in english


def test_image_upload_refreshes_the_cached_page(app, client, admin_client, png_bytes):
    product, _ = product_with_skus()
    assert "srcset" not in client.get(f"/p/{product.id}").get_data(as_text=True)
    admin_client.post_form(f"/admin/catalog/products/{product.id}/images",
                           {"image": (png_bytes(), "a.png")}, content_type="multipart/form-data")
    with app.app_context():
        assert db.session.get(Product, product.id).images
    assert "srcset" in client.get(f"/p/{product.id}").get_data(as_text=True)


def test_sales_counters_do_not_empty_the_cache_but_edits_do(app):
    from sqlalchemy import update

    from shop.catalog.services import catalog_generation, touch

    product, _ = product_with_skus()
    with app.test_request_context():
        touch(db.session.get(Product, product.id))  # the version row exists: a real number
        db.session.commit()
        before = catalog_generation()
        assert before is not None
        db.session.execute(update(Product).where(Product.id == product.id)
                           .values(sales_count=Product.sales_count + 1))
        db.session.commit()
        assert catalog_generation() == before
        touch(db.session.get(Product, product.id))
        db.session.commit()
        assert catalog_generation() != before
