"""The home page's blocks and collections: what shoppers see and when, what editors may
change and how (roles, CSRF, bad input), the preview, and the queries a home costs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.db import db, utcnow
from shop.home import services
from shop.catalog.models import Product
from shop.home.models import Collection, HomeBlock, HomeSlide
from tests.conftest import counted_queries, signed_in
from tests.factories import (ArticleFactory, BargainCampaignFactory, CategoryFactory,
                             CollectionFactory, CollectionProductFactory, FlashItemFactory,
                             GroupCampaignFactory, GroupCampaignSkuFactory, HomeBlockFactory,
                             HomeSlideFactory, ProductFactory)


def _html(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- what shoppers see ----------------------------------------------------------------------


def test_a_fresh_shop_shows_the_built_in_home_with_the_offers_row(app, client):
    ProductFactory(title="芒果", featured=True)
    html = _html(client)
    assert "芒果" in html and 'id="feat-h"' in html
    for path in ("/group-buys", "/flash", "/bargains", "/coupons"):
        assert f'href="{path}"' in html


def test_blocks_show_in_order_only_published_and_within_their_window(app, client):
    now = utcnow()
    picked = CollectionFactory(title="夏日水果")
    CollectionProductFactory(collection_id=picked.id,
                             product_id=ProductFactory(title="海南贵妃芒").id, position=1)
    HomeBlockFactory(kind="collection", collection_id=picked.id, position=2)
    HomeBlockFactory(kind="categories", title="逛分类", position=1)
    HomeBlockFactory(kind="articles", title="草稿块", published=False, position=3)
    HomeBlockFactory(kind="categories", title="还没开始", position=4,
                     starts_at=now + timedelta(hours=1))
    HomeBlockFactory(kind="categories", title="已经结束", position=5,
                     starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
    CategoryFactory(name="水果")
    html = _html(client)
    assert html.index("逛分类") < html.index("夏日水果") < html.index("海南贵妃芒")
    for hidden in ("草稿块", "还没开始", "已经结束", 'id="feat-h"'):
        assert hidden not in html
    assert 'href="/col/1"' in html
    # Scheduled: the block that starts in an hour is there in the preview at that time.
    with app.app_context():
        later = [s.block.title for s in services.home_blocks(now + timedelta(hours=1, minutes=1))]
        preview = [s.block.title for s in services.home_blocks(now, preview=True)]
    assert "还没开始" in later and "已经结束" not in later
    assert "草稿块" not in preview  # no article to show: an empty block is left out
    ArticleFactory(title="夏天吃什么")
    with app.app_context():
        preview = [s.block.title for s in services.home_blocks(now, preview=True)]
    assert "草稿块" in preview


def test_a_collection_drops_archived_and_unsold_products_and_keeps_its_order(app, client):
    c = CollectionFactory()
    first, gone, off, last = (ProductFactory(title=t) for t in ("一号", "二号", "三号", "四号"))
    for position, p in enumerate((last, gone, off, first)):
        CollectionProductFactory(collection_id=c.id, product_id=p.id, position=position)
    with app.app_context():
        db.session.get(type(gone), gone.id).archived_at = utcnow()
        db.session.get(type(off), off.id).status = "off_sale"
        db.session.commit()
    html = _html(client, f"/col/{c.id}")
    assert "四号" in html and "一号" in html and html.index("四号") < html.index("一号")
    assert "二号" not in html and "三号" not in html


def test_a_rule_collection_takes_a_category_and_a_word_sorted_and_limited(app, client):
    fruit = CategoryFactory(name="水果")
    apple = CategoryFactory(name="苹果", parent_id=fruit.id)
    ProductFactory(title="红富士苹果", category=apple, sales_count=5)
    ProductFactory(title="烟台苹果", category=fruit, sales_count=50)
    ProductFactory(title="苹果手机壳", sales_count=99)  # the word, another category
    ProductFactory(title="香蕉", category=fruit, sales_count=70)  # the category, not the word
    c = CollectionFactory(mode="rule", rule_category_id=fruit.id, rule_keyword="苹果",
                          rule_sort="sales", rule_limit=1)
    with app.app_context():
        assert [p.title for p in services.rule_products(db.session.get(Collection, c.id))] == ["烟台苹果"]
        row = db.session.get(Collection, c.id)
        row.rule_limit = 10
        assert [p.title for p in services.rule_products(row)] == ["烟台苹果", "红富士苹果"]


def test_the_landing_page_is_404_unpublished_or_missing_and_shares_with_the_code(app):
    hidden = CollectionFactory(published=False)
    client, _user = signed_in(app)
    assert client.get(f"/col/{hidden.id}").status_code == 404
    assert client.get("/col/999").status_code == 404
    shown = CollectionFactory(title="年货")
    html = _html(client, f"/col/{shown.id}")
    assert f'href="/share/c{shown.id}"' in html  # the share panel: a short link with the code
    share = client.get(f"/share/c{shown.id}")
    assert share.status_code == 200 and re.search(rf"/s/[2-9A-HJ-NP-Z]{{8}}-c{shown.id}",
                                                  share.get_data(as_text=True))
    # and a poster of what is shared (its title and count drawn; no cover: none is drawn)
    poster = re.search(rf'/share/poster/[^"]+-c{shown.id}\.png', share.get_data(as_text=True))
    answer = client.get(poster.group(0))
    assert answer.status_code == 200 and answer.data[:8] == b"\x89PNG\r\n\x1a\n"
    answer.close()  # a file from disk
    assert client.get(poster.group(0).replace(f"-c{shown.id}", f"-c{hidden.id}")).status_code == 404


def test_a_slide_whose_target_is_gone_is_left_out(app, client):
    banner = HomeBlockFactory(kind="banner")
    product = ProductFactory()
    HomeSlideFactory(block_id=banner.id, alt="去看商品", link_kind="product", link_id=product.id,
                     link_page=None)
    HomeSlideFactory(block_id=banner.id, alt="去拼团")
    HomeSlideFactory(block_id=banner.id, alt="失效文章", link_kind="article", link_id=404,
                     link_page=None)
    html = _html(client)
    assert f'href="/p/{product.id}"' in html and 'alt="去拼团"' in html
    assert "失效文章" not in html
    img = re.search(r'<img[^>]*alt="去看商品"[^>]*>', html).group(0)
    assert 'srcset="' in img and 'sizes="' in img and 'width="1200"' in img and 'height="500"' in img


def test_queries_per_home_are_bounded_cold_and_warm(app, client):
    banner = HomeBlockFactory(kind="banner", position=1)
    for _ in range(3):
        HomeSlideFactory(block_id=banner.id, link_kind="product", link_id=ProductFactory().id,
                         link_page=None)
    for position in range(2, 5):
        c = CollectionFactory()
        for _ in range(4):
            CollectionProductFactory(collection_id=c.id)
        HomeBlockFactory(kind="collection", collection_id=c.id, position=position)
    HomeBlockFactory(kind="articles", position=6)
    HomeBlockFactory(kind="categories", position=7)
    HomeBlockFactory(kind="campaigns", position=8)
    ArticleFactory()
    with counted_queries(app) as cold:
        _html(client)
    with counted_queries(app) as warm:
        _html(client)
    assert len(cold) <= 16, cold
    assert len(warm) <= 2, warm


def test_a_campaign_strip_shows_the_running_offers_or_the_chosen_ones(app):
    groups = [GroupCampaignFactory() for _ in range(2)]
    for campaign in groups:
        with app.app_context():
            sku = db.session.get(Product, campaign.product_id).skus[0]
        GroupCampaignSkuFactory(campaign_id=campaign.id, sku_id=sku.id, price_minor=990)
    GroupCampaignFactory(ends_at=utcnow() - timedelta(minutes=1),
                         starts_at=utcnow() - timedelta(days=2))  # over
    flash, bargain = FlashItemFactory(), BargainCampaignFactory()
    client, _user = signed_in(app, "editor")
    response = client.post_form("/admin/home/blocks/new/campaigns", {
        "published": "y", "campaign_kinds": ["groups", "flash", "bargains"], "limit": "6",
        "groups": [f"groupbuy:{groups[1].id}"]})
    assert response.status_code == 303, response.get_data(as_text=True)
    html = _html(client)
    assert f'href="/group-buys/{groups[1].id}"' in html and f'href="/group-buys/{groups[0].id}"' not in html
    assert f'href="/flash/items/{flash.id}"' in html and f'href="/bargains/campaign/{bargain.id}"' in html
    with app.app_context():
        block = db.session.scalar(select(HomeBlock))
        block.settings = {"kinds": ["groups"], "limit": 6}  # none chosen: all running
        db.session.commit()
        shown = services.home_blocks()[0].campaigns
    assert sorted(c.id for c in shown) == sorted(c.id for c in groups)
    assert {c.price_minor for c in shown} == {990}


# --- the backoffice -------------------------------------------------------------------------


ROUTES = [("get", "/admin/home"), ("get", "/admin/home/blocks/new/banner"),
          ("post", "/admin/home/blocks/new/banner"), ("get", "/admin/home/blocks/1"),
          ("post", "/admin/home/blocks/1"), ("post", "/admin/home/blocks/1/move"),
          ("post", "/admin/home/blocks/1/delete"), ("get", "/admin/home/blocks/1/slides/new"),
          ("post", "/admin/home/blocks/1/slides/new"), ("post", "/admin/home/slides/1/move"),
          ("post", "/admin/home/slides/1/delete"), ("get", "/admin/home/collections"),
          ("get", "/admin/home/collections/new"), ("post", "/admin/home/collections/1"),
          ("post", "/admin/home/collections/1/products/1/move"),
          ("post", "/admin/home/collections/1/delete"), ("get", "/admin/home/preview")]


def test_a_shopper_gets_403_on_every_home_admin_route_htmx_too(app):
    HomeSlideFactory()
    CollectionProductFactory()
    client, _user = signed_in(app)
    for method, url in ROUTES:
        for headers in ({}, {"HX-Request": "true"}):
            if method == "get":
                response = client.get(url, headers=headers)
            else:
                response = client.post_form(url, {"direction": "up"}, headers=headers)
            assert response.status_code == 403, (method, url, headers)
    assert _count(app, HomeBlock) == 1 and _count(app, HomeSlide) == 1
    # Every route of the blueprint is on the list above.
    rules = {r.rule.replace("<int:block_id>", "1").replace("<int:slide_id>", "1")
             .replace("<int:collection_id>", "1").replace("<int:product_id>", "1")
             .replace("<kind>", "banner") for r in app.url_map.iter_rules()
             if r.endpoint.startswith("home_admin.")}
    assert rules <= {url for _m, url in ROUTES} | {"/admin/home/blocks/1/slides/1"}


def test_an_editor_adds_orders_and_deletes_blocks_with_an_audit_entry(app):
    from shop.audit.models import AuditEntry

    client, _user = signed_in(app, "editor")
    assert client.get("/admin/home").status_code == 200
    for title in ("第一块", "第二块"):
        response = client.post_form("/admin/home/blocks/new/categories",
                                    {"title": title, "title_en": "Shop by aisle", "published": "y"})
        assert response.status_code == 303
    with app.app_context():
        first, second = db.session.scalars(select(HomeBlock).order_by(HomeBlock.position)).all()
        assert (first.title, second.title) == ("第一块", "第二块")
        assert first.translations == {"en": {"title": "Shop by aisle"}}
    assert client.post_form(f"/admin/home/blocks/{second.id}/move",
                            {"direction": "up"}).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(HomeBlock.title).order_by(HomeBlock.position)).all() \
            == ["第二块", "第一块"]
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) >= 3
    assert client.post_form(f"/admin/home/blocks/{first.id}/delete").status_code == 303
    assert _count(app, HomeBlock) == 1


def test_posts_without_csrf_change_nothing(app):
    block = HomeBlockFactory(title="原样")
    client, _user = signed_in(app, "editor")
    for url, data in ((f"/admin/home/blocks/{block.id}", {"title": "改了"}),
                      (f"/admin/home/blocks/{block.id}/delete", {}),
                      ("/admin/home/collections/new", {"title": "新专题", "mode": "rule"})):
        assert client.post(url, data=data).status_code == 400
    with app.app_context():
        assert db.session.get(HomeBlock, block.id).title == "原样"
    assert _count(app, Collection) == 0


def test_bad_input_is_a_clear_form_error_and_changes_nothing(app, png_bytes):
    block = HomeBlockFactory(kind="banner", title="原样")
    client, _user = signed_in(app, "editor")
    client.post_form("/language", {"lang": "en"})
    # An end before the start.
    response = client.post_form(f"/admin/home/blocks/{block.id}", {
        "title": "改了", "starts_at": "2026-12-10T10:00", "ends_at": "2026-12-09T10:00"})
    assert response.status_code == 422
    assert "The end must come after the start." in response.get_data(as_text=True)
    # A link to a product that is not there.
    response = client.post_form(f"/admin/home/blocks/{block.id}/slides/new", {
        "alt": "横幅", "link_kind": "product", "product": "product:999",
        "image": (png_bytes((1200, 500)), "a.png")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "No product has this number: 999" in response.get_data(as_text=True)
    # No target chosen for the kind of link.
    response = client.post_form(f"/admin/home/blocks/{block.id}/slides/new", {
        "alt": "横幅", "link_kind": "article", "image": (png_bytes((1200, 500)), "a.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose where the slide leads." in response.get_data(as_text=True)
    # A file that is not an image.
    response = client.post_form(f"/admin/home/blocks/{block.id}/slides/new", {
        "alt": "横幅", "link_kind": "campaign", "campaign": "flash",
        "image": (__import__("io").BytesIO(b"not a picture"), "a.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "This file is not an image we can read." in response.get_data(as_text=True)
    # A rule collection with no rule.
    response = client.post_form("/admin/home/collections/new", {"title": "空", "mode": "rule",
                                                                 "rule_sort": "sales", "rule_limit": "5"})
    assert response.status_code == 422
    assert "A rule needs a category or a word to look for." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HomeBlock, block.id).title == "原样"
    assert _count(app, HomeSlide) == 0 and _count(app, Collection) == 0
    media = app.config["MEDIA_ROOT"]
    assert not list(__import__("pathlib").Path(media).rglob("*.webp"))  # the uploads went


def test_an_editor_makes_a_slide_and_a_picked_collection_in_the_posted_order(app, png_bytes):
    a, b = ProductFactory(title="甲"), ProductFactory(title="乙")
    client, _user = signed_in(app, "editor")
    response = client.post_form("/admin/home/collections/new", {
        "title": "推荐", "mode": "picked", "products": [f"product:{b.id}", f"product:{a.id}"],
        "rule_sort": "sales", "rule_limit": "12", "published": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        c = db.session.scalar(select(Collection))
        assert [i.product_id for i in c.items] == [b.id, a.id]
    assert client.post_form(f"/admin/home/collections/{c.id}/products/{b.id}/move",
                            {"direction": "down"}).status_code == 303
    with app.app_context():
        assert [i.product_id for i in db.session.get(Collection, c.id).items] == [a.id, b.id]
    block = HomeBlockFactory(kind="banner")
    response = client.post_form(f"/admin/home/blocks/{block.id}/slides/new", {
        "alt": "年货节", "alt_en": "New Year fair", "link_kind": "collection",
        "collection": f"collection:{c.id}", "image": (png_bytes((1200, 500)), "a.png")},
        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        slide = db.session.scalar(select(HomeSlide))
        assert (slide.link_kind, slide.link_id, slide.image_width) == ("collection", c.id, 1200)
    html = _html(client)
    assert f'href="/col/{c.id}"' in html and 'alt="年货节"' in html


def test_the_preview_shows_unpublished_blocks_at_a_time_and_changes_nothing(app):
    HomeBlockFactory(title="下周上线", published=False,
                     starts_at=utcnow() + timedelta(days=7), ends_at=utcnow() + timedelta(days=8))
    CategoryFactory()
    client, _user = signed_in(app, "editor")
    with app.app_context():
        before = [(b.id, b.published, b.position, b.updated_at) for b in services.all_blocks()]
    assert "下周上线" not in _html(client, "/admin/home/preview")
    at = (utcnow() + timedelta(days=7, hours=1)).astimezone(
        __import__("zoneinfo").ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]))
    html = _html(client, "/admin/home/preview?at=" + at.strftime("%Y-%m-%dT%H:%M"))
    assert "下周上线" in html and "hb-unpublished" in html
    with app.app_context():
        assert [(b.id, b.published, b.position, b.updated_at) for b in services.all_blocks()] == before
    assert "下周上线" not in _html(client, "/")


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_backoffice_pages_render_in_both_languages(app, lang):
    banner = HomeBlockFactory(kind="banner")
    HomeSlideFactory(block_id=banner.id)
    c = CollectionFactory()
    CollectionProductFactory(collection_id=c.id)
    client, _user = signed_in(app, "admin")
    client.post_form("/language", {"lang": lang})
    for url in ("/admin/home", "/admin/home/collections", f"/admin/home/collections/{c.id}",
                f"/admin/home/blocks/{banner.id}/slides/new", "/admin/home/preview",
                *(f"/admin/home/blocks/new/{kind}" for kind in services.BLOCK_LABELS),
                f"/col/{c.id}", "/"):
        assert client.get(url).status_code == 200, url


def test_an_editor_searches_the_home_kinds_by_name_but_not_customers(app):
    ProductFactory(title="海南贵妃芒")
    editor, _user = signed_in(app, "editor")
    found = editor.get("/admin/pick/product?q=贵妃&name=product", headers={"HX-Request": "true"})
    assert found.status_code == 200 and "海南贵妃芒" in found.get_data(as_text=True)
    assert editor.get("/admin/pick/customer?q=a&name=c").status_code == 403
    shopper, _user = signed_in(app)
    assert shopper.get("/admin/pick/product?q=a&name=p").status_code == 403
