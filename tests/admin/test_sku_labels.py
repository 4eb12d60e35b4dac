"""The backoffice names a SKU by its product, its option values (in the page's language)
and its code, never by its internal number (shop.catalog.labels), on every page that
lists SKUs, with a list's queries not growing with its rows."""

from __future__ import annotations

import re

from shop.catalog.labels import sku_detail, sku_label, sku_options, sku_short
from tests.conftest import counted_queries
from tests.factories import (BargainCampaignFactory, FlashItemFactory, FlashSessionFactory,
                             MallItemFactory, PromotionFactory, SkuFactory, TimedPriceFactory,
                             product_with_skus)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _sku() -> tuple[int, str, str]:
    """A new product with one red SKU: (its id, its code, the product's title)."""
    _product, (sku,) = product_with_skus(skus=(("红", 1990, 50),))
    return sku.id, sku.code, _product.title


def _no_sku_number(html: str, *ids: int) -> None:
    for sku_id in ids:
        assert not re.search(rf"SKU\s*{sku_id}\b", html), sku_id


def test_the_label_reads_title_options_and_code(app):
    product, (red, _blue) = product_with_skus(title="麦饭石不粘炒锅", options=("颜色", "尺寸"),
                                              skus=(("红", 1990, 5), ("蓝", 2590, 0)))
    red.option_values = ["红", "32cm"]
    bare = SkuFactory(code="NUT-1")
    with app.test_request_context(headers=ZH):
        assert sku_options(red) == "红 / 32cm"
        assert sku_label(red) == f"麦饭石不粘炒锅 · 红 / 32cm · {red.code}"
        assert sku_short(red) == "红 / 32cm"
        assert sku_detail(bare) == "NUT-1" and sku_short(bare) == "NUT-1"
        assert sku_label(bare) == f"{bare.product.title} · NUT-1"
    with app.test_request_context(headers=EN):
        assert sku_label(red) == f"麦饭石不粘炒锅 · Red / 32cm · {red.code}"


def test_the_points_mall_names_its_skus(app, admin_client):
    items = [_sku() for _ in range(2)]
    for sku_id, _code, _title in items:
        MallItemFactory(sku_id=sku_id)
    with counted_queries(app) as statements:
        html = admin_client.get("/admin/points/mall", headers=EN).get_data(as_text=True)
    few = len(statements)
    for _sku_id, code, title in items:
        assert f"Red · {code}" in html and title in html
    _no_sku_number(html, *(sku_id for sku_id, _code, _title in items))
    for _ in range(5):
        MallItemFactory()
    with counted_queries(app) as statements:
        html = admin_client.get("/admin/points/mall", headers=EN).get_data(as_text=True)
    assert len(statements) == few and html.count("Red · ") == 7


def test_a_flash_session_names_its_items(app, admin_client):
    session = FlashSessionFactory(name="午间秒杀")
    items = [_sku() for _ in range(2)]
    for sku_id, _code, _title in items:
        FlashItemFactory(session_id=session.id, sku_id=sku_id)
    html = admin_client.get(f"/admin/promotions/flash/{session.id}", headers=EN).get_data(as_text=True)
    for _sku_id, code, title in items:
        assert title in html and f"Red · {code}" in html
    _no_sku_number(html, *(sku_id for sku_id, _code, _title in items))


def test_offers_name_their_sku(app, admin_client):
    _product, (red, _blue) = product_with_skus(title="每日坚果")
    red_id, red_code = red.id, red.code
    PromotionFactory(kind="buy_get", sku_id=red_id, buy_n=2, get_m=1, name="买二送一")
    whole = "整箱橙子"
    TimedPriceFactory(product_id=product_with_skus(title=whole)[0].id, sku_id=None)
    _p2, (blue_only,) = product_with_skus(title="蓝莓干", skus=(("蓝", 1590, 9),))
    blue_id, blue_code = blue_only.id, blue_only.code
    TimedPriceFactory(product_id=blue_only.product_id, sku_id=blue_id, name="蓝莓限时")
    html = admin_client.get("/admin/promotions/promotions", headers=EN).get_data(as_text=True)
    assert f"每日坚果 · Red · {red_code}" in html
    _no_sku_number(html, red_id)
    html = admin_client.get("/admin/promotions/timed-prices", headers=EN).get_data(as_text=True)
    assert f"蓝莓干 · Blue · {blue_code}" in html
    assert whole in html  # the whole product: its title alone
    _no_sku_number(html, blue_id)


def test_bargain_campaigns_show_the_skus_options(app, admin_client):
    sku = SkuFactory(option_values=["红"], code="BAR-1")
    sku.product.option_names = ["颜色"]
    BargainCampaignFactory(sku=sku)
    html = admin_client.get("/admin/bargains/", headers=EN).get_data(as_text=True)
    assert "Red · BAR-1" in html
