import io

import pytest

from sqlalchemy import func, select

from shop.catalog.models import Category, Product, ProductImage, Sku, StockMovement
from shop.db import db
from tests.conftest import multipart
from tests.factories import CategoryFactory, ProductFactory, product_with_skus

EN = {"Accept-Language": "en"}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _product_form(category, **overrides):
    data = {
        "title": "新品", "title_en": "New thing", "subtitle": "副标题", "category_id": str(category),
        "cost_price": "5.00", "status": "on_sale", "option_names": "颜色",
        "option_labels_en": "颜色=Colour\n红=Red",
        "skus-0-code": "NEW-RED", "skus-0-options": "红", "skus-0-price": "12.50",
        "skus-0-stock": "7", "skus-0-stock_seen": "0", "skus-0-active": "y",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_product_with_skus_and_a_stock_ledger(app, admin_client):
    category = CategoryFactory()
    response = admin_client.post_form("/admin/catalog/products/new", _product_form(category.id))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        product = db.session.scalar(select(Product))
        assert (product.title, product.price_minor, product.cost_price_minor) == ("新品", 1250, 500)
        assert product.translations["en"]["options"] == {"颜色": "Colour", "红": "Red"}
        (sku,) = product.skus
        assert (sku.code, sku.option_values, sku.stock) == ("NEW-RED", ["红"], 7)
        (movement,) = db.session.scalars(select(StockMovement)).all()
        assert (movement.delta, movement.balance_after, movement.reason) == (7, 7, "adjustment")


def test_bad_prices_and_stock_are_refused_and_change_nothing(app, admin_client):
    category = CategoryFactory()
    cases = [
        ({"skus-0-price": "-1"}, "The amount cannot be negative."),
        ({"skus-0-price": "1.234"}, "Use at most 2 decimal places."),
        ({"skus-0-price": "abc"}, "Enter an amount such as 12.50."),
        ({"cost_price": "-5"}, "The amount cannot be negative."),
        ({"skus-0-stock": "-1"}, "Enter a whole number from 0 to 1000000000."),
        ({"skus-0-stock": "1.5"}, "Enter a whole number from 0 to 1000000000."),
        ({"skus-0-stock": "1e3"}, "Enter a whole number from 0 to 1000000000."),
        ({"skus-0-stock": "10000000000"}, "Enter a whole number from 0 to 1000000000."),
        ({"skus-0-price": ""}, "Give the SKU a price."),
        ({"skus-0-options": "红 / L"}, "needs one value for each option"),
        ({"category_id": "99999"}, "Not a valid choice."),
    ]
    for overrides, message in cases:
        response = admin_client.post_form("/admin/catalog/products/new",
                                          _product_form(category.id, **overrides), headers=EN)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True), overrides
    assert _count(app, Product) == 0 and _count(app, Sku) == 0 and _count(app, StockMovement) == 0


def test_sku_row_errors_come_in_chinese_once(admin_client):
    category = CategoryFactory()
    html = admin_client.post_form("/admin/catalog/products/new",
                                  _product_form(category.id, **{"skus-0-stock": "1.5", "title": ""}),
                                  headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert html.count('id="skus-0-stock-err"') == 1
    assert "Enter a whole number" not in html and "This field is required." not in html


def test_editing_stock_applies_the_change_since_the_form_was_drawn(app, admin_client):
    product, (red, _blue) = product_with_skus()
    form = _product_form(product.category_id, **{
        "skus-0-id": str(red.id), "skus-0-code": red.code, "skus-0-options": "红",
        "skus-0-price": "19.90", "skus-0-stock_seen": "10", "skus-0-stock": "15",
    })
    # Meanwhile two units were sold: the ledger moves +5 from 8, not back to 15.
    with app.app_context():
        from shop.catalog.services import move_stock
        move_stock(red.id, -2, reason="sale", ref_type="order", ref_id="1")
        db.session.commit()
    response = admin_client.post_form(f"/admin/catalog/products/{product.id}", form)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Sku, red.id).stock == 13
        deltas = db.session.scalars(select(StockMovement.delta).order_by(StockMovement.id)).all()
        assert deltas == [10, -2, 5]  # the opening row, then the two changes


def test_stock_can_not_go_below_zero_and_a_retry_moves_nothing(app):
    from shop.catalog.services import CatalogError, move_stock

    _product, (red, _blue) = product_with_skus()
    with app.app_context():
        with pytest.raises(CatalogError):
            move_stock(red.id, -11, reason="sale", ref_type="order", ref_id="7")
        move_stock(red.id, -3, reason="sale", ref_type="order", ref_id="8")
        with pytest.raises(CatalogError):
            move_stock(red.id, -3, reason="sale", ref_type="order", ref_id="8")
        db.session.commit()
    with app.app_context():
        assert db.session.get(Sku, red.id).stock == 7
        assert db.session.scalars(select(StockMovement.delta).order_by(StockMovement.id)).all() == [10, -3]


def test_archive_hides_and_restore_brings_back(app, admin_client, client):
    product, _ = product_with_skus()
    assert client.get(f"/p/{product.id}").status_code == 200
    admin_client.post_form(f"/admin/catalog/products/{product.id}/archive")
    assert client.get(f"/p/{product.id}").status_code == 404
    listing = admin_client.get("/admin/catalog/products?archived=1").get_data(as_text=True)
    assert product.title in listing
    admin_client.post_form(f"/admin/catalog/products/{product.id}/archive")
    with app.app_context():
        restored = db.session.get(Product, product.id)
        assert restored.archived_at is None and restored.status == "off_sale"


def test_admin_product_search_and_unknown_ids(admin_client):
    ProductFactory(title="苹果", code="apple-1")
    ProductFactory(title="香蕉", code="banana-1")
    html = admin_client.get("/admin/catalog/products?q=apple", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "苹果" in html and "香蕉" not in html and "<html" not in html
    assert admin_client.get("/admin/catalog/products/999999").status_code == 404
    assert admin_client.post_form("/admin/catalog/products/999999/archive").status_code == 404


def test_image_upload_checks_reencodes_and_serves_srcset(app, admin_client, png_bytes):
    product = ProductFactory()
    url = f"/admin/catalog/products/{product.id}/images"
    response = admin_client.post_form(url, {"image": (png_bytes((1200, 900)), "photo.png")},
                                      content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 200
    with app.app_context():
        image = db.session.scalar(select(ProductImage))
        assert (image.width, image.height, image.widths) == (1200, 900, "240,480,960")
        assert not image.key.startswith("photo")
    assert f"{image.key}-480.webp 480w" in response.get_data(as_text=True)

    refused = [
        ((io.BytesIO(b"GIF89a not really"), "x.gif"), "This file is not an image we can read."),
        ((io.BytesIO(b"%PDF-1.4"), "x.png"), "This file is not an image we can read."),
    ]
    for upload, message in refused:
        response = admin_client.post_form(url, {"image": upload}, content_type="multipart/form-data",
                                          headers={"HX-Request": "true", **EN})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    # A 10 MB file: under the request limit, over the image limit -> a form error.
    body, content_type = multipart({"csrf_token": admin_client.csrf_token()},
                                   {"image": ("big.png", b"\0" * (10 * 1024 * 1024))})
    response = admin_client.post(url, data=body, content_type=content_type,
                                 headers={"HX-Request": "true", **EN})
    assert response.status_code == 422
    assert "The image is larger than 5 MB." in response.get_data(as_text=True)
    assert _count(app, ProductImage) == 1


def test_image_delete_only_within_its_product(app, admin_client, png_bytes):
    product = ProductFactory()
    other = ProductFactory()
    admin_client.post_form(f"/admin/catalog/products/{product.id}/images",
                           {"image": (png_bytes(), "a.png")}, content_type="multipart/form-data")
    with app.app_context():
        image_id = db.session.scalar(select(ProductImage.id))
    assert admin_client.post_form(f"/admin/catalog/products/{other.id}/images/{image_id}/delete").status_code == 404
    assert _count(app, ProductImage) == 1
    response = admin_client.post_form(f"/admin/catalog/products/{product.id}/images/{image_id}/delete")
    assert response.status_code == 302 and _count(app, ProductImage) == 0


def test_categories_stay_two_levels_deep(app, admin_client):
    top = CategoryFactory(slug="top")
    child = CategoryFactory(slug="child", parent=top)
    data = {"name": "孙", "name_en": "Grandchild", "slug": "grand", "parent_id": str(child.id), "position": "0", "active": "y"}
    response = admin_client.post_form("/admin/catalog/categories/new", data, headers=EN)
    assert response.status_code == 422
    assert _count(app, Category) == 2
    data.update(parent_id=str(top.id))
    assert admin_client.post_form("/admin/catalog/categories/new", data).status_code == 302
    dup = admin_client.post_form("/admin/catalog/categories/new", dict(data, name="重复"), headers=EN)
    assert dup.status_code == 422 and "Another category already uses this slug." in dup.get_data(as_text=True)
    assert _count(app, Category) == 3


def test_upload_errors_without_htmx_show_the_whole_form(app, admin_client):
    product = ProductFactory(title="无脚本")
    response = admin_client.post_form(f"/admin/catalog/products/{product.id}/images",
                                      {"image": (io.BytesIO(b"not an image"), "x.png")},
                                      content_type="multipart/form-data", headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in body and "This file is not an image we can read." in body and "无脚本" in body
    assert _count(app, ProductImage) == 0


def test_removed_images_leave_the_disk_and_failed_uploads_leave_nothing(app, admin_client, png_bytes):
    from pathlib import Path

    product = ProductFactory()
    media = Path(app.config["MEDIA_ROOT"])
    admin_client.post_form(f"/admin/catalog/products/{product.id}/images",
                           {"image": (png_bytes((600, 600)), "a.png")}, content_type="multipart/form-data")
    files = sorted(media.rglob("*.webp"))
    assert len(files) == 3
    with app.app_context():
        image_id = db.session.scalar(select(ProductImage.id))
    admin_client.post_form(f"/admin/catalog/products/{product.id}/images/{image_id}/delete")
    assert not any(f.exists() for f in files)

    # The files of an upload whose transaction fails are removed with it.
    from shop.catalog import services
    from shop.media.services import save_pixels
    from PIL import Image

    with app.app_context():
        stored = save_pixels(Image.new("RGB", (300, 300)))
        services.add_image(db.session.get(Product, product.id), stored)
        assert len(list(media.rglob("*.webp"))) == 2
        db.session.rollback()
    assert list(media.rglob("*.webp")) == []


def test_uploads_are_reencoded_to_webp_without_metadata(app, admin_client):
    from pathlib import Path

    from PIL import Image

    product = ProductFactory()
    photo = Image.new("RGB", (800, 600), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"          # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPSInfo: latitude
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", exif=exif)
    assert b"PhoneMaker" in buffer.getvalue()
    buffer.seek(0)
    admin_client.post_form(f"/admin/catalog/products/{product.id}/images", {"image": (buffer, "gps.jpg")},
                           content_type="multipart/form-data")
    files = sorted(Path(app.config["MEDIA_ROOT"]).rglob("*.webp"))
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["240.webp", "480.webp", "800.webp"]
    for path in files:
        with Image.open(path) as stored:
            assert stored.format == "WEBP" and not stored.getexif()
        assert b"PhoneMaker" not in path.read_bytes()


def _product_row(app, product_id: int) -> tuple:
    with app.app_context():
        p = db.session.get(Product, product_id)
        return (p.title, p.subtitle, p.category_id, p.status, p.featured, p.pickup_enabled,
                p.purchase_limit, p.cost_price_minor, p.shipping_template_id,
                [(s.code, s.option_values, s.price_minor, s.stock, s.active, s.cost_price_minor)
                 for s in sorted(p.skus, key=lambda s: s.id)])


def test_a_refused_image_leaves_the_product_form_as_stored(app, admin_client):
    """Several forms on one page (shop.web.forms): an image refused without htmx, the
    product form still shows the product (boxes ticked, category, SKUs), and saving it as
    shown changes nothing."""
    from tests.web.page_forms import form_values

    fruit = CategoryFactory(name="水果")
    product, skus = product_with_skus(title="有机苹果", category=fruit, featured=True,
                                      pickup_enabled=True, purchase_limit=3)
    before = _product_row(app, product.id)
    page = f"/admin/catalog/products/{product.id}"
    response = admin_client.post_form(f"{page}/images", {"image": (io.BytesIO(b"not an image"), "x.png")},
                                      content_type="multipart/form-data", headers=EN)
    assert response.status_code == 422
    shown = form_values(response.get_data(as_text=True), page)
    assert shown["title"] == ["有机苹果"] and shown["category_id"] == [str(fruit.id)]
    assert shown.get("featured") == ["y"] and shown.get("pickup_enabled") == ["y"]
    assert shown["purchase_limit"] == ["3"]
    assert shown["skus-0-price"] == ["19.90"] and shown["skus-1-price"] == ["25.90"]
    assert shown.get("skus-0-active") == ["y"]
    response = admin_client.post_form(page, shown)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert _product_row(app, product.id) == before
