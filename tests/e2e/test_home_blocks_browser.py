"""At 390x844: an editor puts a collection and a banner on the home page through the
backoffice (pickers only, an uploaded picture), and a shopper sees both on the home page
and opens the collection's landing page from it."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import assert_accessible, browser_sign_in
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.e2e

def _pick(page, field: str, search: str, match: str) -> None:
    page.locator(f"#{field}-q").fill(search)
    page.locator(f"#{field}-results label", has_text=match).click()
    expect(page.locator(f"#{field}-pick [data-pick-current]")).to_contain_text(match)

def _save(page) -> None:
    with page.expect_navigation():
        page.locator("main form.narrow button.primary").click()

def test_an_editor_puts_a_banner_and_a_collection_on_the_home_page(app, phone, tmp_path):
    editor = UserFactory(role="editor")
    ProductFactory(title="海南贵妃芒")
    picture = tmp_path / "banner.png"
    Image.new("RGB", (1200, 500), (230, 90, 40)).save(picture)
    page = phone()

    # A collection of one product, published.
    browser_sign_in(page, editor.email, "/admin/home/collections/new")
    page.locator("[name=title]").fill("夏日鲜果")
    _pick(page, "products", "贵妃", "海南贵妃芒")
    page.locator("[name=published]").check()
    _save(page)
    expect(page.locator(".flashes")).to_be_visible()

    # A banner block (published), then its slide leading to the collection.
    page.goto("/admin/home/blocks/new/banner")
    page.locator("[name=published]").check()
    _save(page)
    page.locator("[name=image]").set_input_files(str(picture))
    page.locator("[name=alt]").fill("夏日鲜果专场")
    page.locator("[name=link_kind]").select_option("collection")
    expect(page.locator("#product-pick")).to_be_hidden()  # only the chosen kind's picker
    _pick(page, "collection", "夏日", "夏日鲜果")
    _save(page)
    expect(page.locator(".hb-admin-slides img")).to_have_count(1)

    # The collection as a block of its own.
    page.goto("/admin/home/blocks/new/collection")
    _pick(page, "collection", "夏日", "夏日鲜果")
    page.locator("[name=published]").check()
    _save(page)
    expect(page.locator("[data-testid=block-row]")).to_have_count(2)

    # The shopper's home: the entries, the banner and the collection, no layout shift.
    shopper = phone()
    shopper.goto("/")
    entries = shopper.locator("nav.hb-entries a")
    expect(entries).to_have_count(4)
    expect(shopper.locator("[data-testid=entry-groups]")).to_have_attribute("href", "/group-buys")
    banner = shopper.locator(".hb-slides img[alt='夏日鲜果专场']")
    expect(banner).to_be_visible()
    assert banner.get_attribute("srcset") and banner.get_attribute("width") == "1200"
    expect(shopper.locator("h2", has_text="夏日鲜果")).to_be_visible()
    expect(shopper.locator(".grid", has_text="海南贵妃芒")).to_be_visible()
    assert shopper.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(shopper)

    # The banner opens the collection's landing page, with its share button.
    shopper.locator(".hb-slides a").first.click()
    expect(shopper.locator("h1")).to_have_text("夏日鲜果")
    expect(shopper.locator(".grid")).to_contain_text("海南贵妃芒")
    expect(shopper.get_by_test_id("share-open")).to_be_visible()
