"""A shopper on a phone: home, a category, a product, switch SKU through htmx, switch
language; axe finds no WCAG 2 A/AA violation on those pages."""

import pytest
from playwright.sync_api import expect
from PIL import Image

from shop.catalog.services import add_image
from shop.catalog.models import Product
from shop.db import db
from shop.media.services import save_pixels
from tests.conftest import assert_accessible
from tests.factories import CategoryFactory, product_with_skus

pytestmark = pytest.mark.e2e


@pytest.fixture
def catalog(app):
    top = CategoryFactory(name="服饰", translations={"en": {"name": "Clothing"}})
    child = CategoryFactory(name="T恤", parent=top, translations={"en": {"name": "T-shirts"}})
    shirt, skus = product_with_skus(
        title="纯棉T恤", category=child, featured=True,
        translations={"en": {"title": "Cotton tee", "options": {"颜色": "Colour", "红": "Red", "蓝": "Blue"}}},
        skus=(("红", 1990, 10), ("蓝", 2590, 0)),
    )
    product_with_skus(title="亚麻衬衫", category=child, featured=True)
    with app.app_context():
        add_image(db.session.get(Product, shirt.id), save_pixels(Image.new("RGB", (600, 600), (30, 90, 160))))
        db.session.commit()
    return {"top": top, "child": child, "shirt": shirt, "skus": skus}


def test_browse_switch_sku_and_language_on_a_phone(page, catalog):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator(".tabbar").is_visible()
    assert page.get_by_role("link", name="纯棉T恤").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="服饰").first.click()
    page.wait_for_url(f"**/c/{catalog['top'].id}")
    assert page.get_by_role("heading", name="服饰").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="纯棉T恤").click()
    page.wait_for_url(f"**/p/{catalog['shirt'].id}")
    price, stock = page.get_by_test_id("price"), page.get_by_test_id("stock")
    assert price.inner_text() == "¥19.90" and "10" in stock.inner_text()
    assert_accessible(page)

    # htmx: the SKU panel is swapped in place, no navigation, and the URL is pushed.
    page.evaluate("window.__marker = 'same page'")
    page.get_by_text("蓝", exact=True).click()
    expect(page.get_by_test_id("price")).to_contain_text("25.90")
    assert page.evaluate("window.__marker") == "same page"
    assert "o0=" in page.url
    assert "已售罄" in stock.inner_text() and "蓝" in stock.inner_text()
    assert_accessible(page)

    # Back restores the whole earlier page, not a bare fragment.
    page.go_back()
    expect(page.get_by_test_id("price")).to_contain_text("19.90")
    assert page.locator(".tabbar").is_visible()
    assert page.get_by_role("heading", name="纯棉T恤").is_visible()
    page.get_by_text("蓝", exact=True).click()
    expect(page.get_by_test_id("price")).to_contain_text("25.90")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Cotton tee").is_visible()
    assert "Blue" in page.get_by_test_id("stock").inner_text()
    assert_accessible(page)
