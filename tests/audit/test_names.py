"""The audit log names things by name, never by internal number (review issue 24): every
kind of thing (shop.audit.phrases.KINDS) an entry acts on reads as its name, looked up
in one query per kind whatever the number of entries; "#N (deleted)" only when the row
is gone. An entry's changes name their table by its kind and show instants in the shop's
time zone; the customer page's history reads as the log's sentences."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from shop.audit import phrases
from shop.db import db
from shop.money import format_minor
from shop.orders.models import Order
from tests.audit.test_phrases import EN, _sentences
from tests.conftest import counted_queries
from tests.factories import (ArticleCategoryFactory, ArticleFactory, AuditEntryFactory,
                             BargainCampaignFactory, CategoryFactory, CouponFactory,
                             DistributorFactory, DistributorLevelFactory, FlashItemFactory,
                             FlashSessionFactory, GroupCampaignFactory, MallItemFactory,
                             MemberLevelFactory, PromotionFactory, RechargePackageFactory,
                             ShippingTemplateFactory, SkuFactory, StoreFactory,
                             TimedPriceFactory, UserFactory, WithdrawalFactory,
                             product_with_skus)
from tests.orders.helpers import an_order


def _red_sku(title: str) -> tuple[int, str]:
    """A new product `title` with one red SKU: (the SKU's id, its code)."""
    _product, (sku,) = product_with_skus(title=title, skus=(("红", 1990, 50),))
    return sku.id, sku.code


def _money(app, minor: int) -> str:
    with app.test_request_context(headers=EN):
        return format_minor(minor, "CNY")


def _things(app, n: int | str = "") -> dict[str, tuple[int, str]]:
    """One existing thing of every kind: {kind: (its id, the name the log gives it, in
    English)}."""
    made = {}
    n = n or ""  # names that must be unique, apart from one call to the next
    product, _skus = product_with_skus(title="苹果汁")
    made["product"] = (product.id, "苹果汁")
    made["product_category"] = (CategoryFactory(name=f"水果{n}").id, f"水果{n}")
    made["coupon"] = (CouponFactory(name=f"满99减15{n}").id, f"满99减15{n}")
    made["promotion"] = (PromotionFactory(name=f"满100减10{n}").id, f"满100减10{n}")
    made["flash_session"] = (FlashSessionFactory(name=f"午间秒杀{n}").id, f"午间秒杀{n}")
    sku_id, code = _red_sku("蓝牙耳机")
    made["flash_item"] = (FlashItemFactory(sku_id=sku_id).id, f"蓝牙耳机 · Red · {code}")
    made["timed_price"] = (TimedPriceFactory(name=f"周末特价{n}").id, f"周末特价{n}")
    order_id = an_order(app)
    with app.app_context():
        number = db.session.get(Order, order_id).number
    made["order"] = (order_id, number)
    made["article"] = (ArticleFactory(title=f"夏日饮品{n}").id, f"夏日饮品{n}")
    made["article_category"] = (ArticleCategoryFactory(name=f"美食{n}").id, f"美食{n}")
    made["customer"] = (UserFactory(nickname=f"顾客王{n}").id, f"顾客王{n}")
    made["store"] = (StoreFactory(name=f"西湖店{n}").id, f"西湖店{n}")
    group_product, _skus = product_with_skus(title="拼团大米")
    made["group_campaign"] = (GroupCampaignFactory(product_id=group_product.id).id, "拼团大米")
    pan = SkuFactory(option_values=["红"], price_minor=10000)
    made["bargain_campaign"] = (BargainCampaignFactory(sku=pan).id,
                                f"{pan.product.title} · Red · {pan.code}")
    sku_id, code = _red_sku("每日坚果")
    made["mall_item"] = (MallItemFactory(sku_id=sku_id).id, f"每日坚果 · Red · {code}")
    made["member_level"] = (MemberLevelFactory(name=f"金卡{n}").id, f"金卡{n}")
    made["distributor_level"] = (DistributorLevelFactory(name=f"银牌推广{n}").id, f"银牌推广{n}")
    distributor = DistributorFactory(user_id=UserFactory(nickname="推广员李").id)
    made["withdrawal"] = (WithdrawalFactory(user_id=distributor.user_id, amount_minor=12345).id,
                          f"推广员李 · {_money(app, 12345)}")
    made["shipping_template"] = (ShippingTemplateFactory(name=f"江浙沪包邮{n}").id, f"江浙沪包邮{n}")
    made["wallet_package"] = (RechargePackageFactory().id,
                              f"pay {_money(app, 10000)}, get {_money(app, 11000)}")
    return made


def _entry_about(kind: str, object_id: int) -> None:
    """An entry of an action on `kind`: the id in the URL, or the row it inserted."""
    endpoint = next(e for e in phrases.endpoints_of(kind))
    action = phrases.ACTIONS[endpoint]
    if action.arg:
        AuditEntryFactory(endpoint=endpoint, target=f"{action.arg}={object_id}")
    else:
        AuditEntryFactory(endpoint=endpoint, target="", changes=[
            {"table": phrases.KINDS[kind].table, "id": object_id, "op": "insert",
             "before": {}, "after": {}}])


def test_every_kind_is_named_by_its_name(app, admin_client):
    things = _things(app)
    assert set(things) == set(phrases.KINDS), "name one thing of each kind here"
    for kind, (object_id, _name) in things.items():
        _entry_about(kind, object_id)
    html = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    said = list(reversed(_sentences(html)))  # oldest first, as made
    assert len(said) == len(things)
    for (kind, (_id, name)), sentence in zip(things.items(), said):
        assert sentence.endswith(" " + name), (kind, sentence)
        assert "#" not in sentence, (kind, sentence)


def test_a_thing_deleted_since_reads_as_its_number(app, admin_client):
    for kind in phrases.KINDS:
        _entry_about(kind, 999_999)
    said = _sentences(admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True))
    assert len(said) == len(phrases.KINDS)
    assert all(sentence.endswith("#999999 (deleted)") for sentence in said), said


def test_names_cost_one_query_per_kind_whatever_the_entries(app, admin_client):
    def entries(n: int) -> None:
        for kind, (object_id, _name) in _things(app, n).items():
            _entry_about(kind, object_id)

    entries(1)
    with counted_queries(app) as statements:
        admin_client.get("/admin/audit/", headers=EN)
    few = len(statements)
    entries(2)  # a page holds 50
    with counted_queries(app) as statements:
        html = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    assert len(_sentences(html)) == 2 * len(phrases.KINDS)
    assert len(statements) == few


def test_an_entrys_changes_name_the_kind_and_show_local_times(app, admin_client):
    session = FlashSessionFactory(name="午间秒杀")
    entry = AuditEntryFactory(
        endpoint="promotions_admin.edit_flash_session", target=f"session_id={session.id}",
        changes=[{"table": "flash_sessions", "id": session.id, "op": "update",
                  "before": {"starts_at": "2026-12-08T21:04:37+00:00"},
                  "after": {"starts_at": "2026-12-08T22:00:00+00:00"}},
                 {"table": "some_table", "id": 4, "op": "update", "before": {"x": 1},
                  "after": {"x": 2}}])
    html = admin_client.get(f"/admin/audit/{entry.id}", headers=EN).get_data(as_text=True)
    caption = re.search(r"<caption>(.*?)</caption>", html, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", caption).split())
    assert text == f"Changed · flash sale 午间秒杀 flash_sessions #{session.id}"
    assert "some_table #4" in html  # a table no kind owns: its own name
    # the shop's time zone (Asia/Shanghai, UTC+8), formatted as the backoffice does
    assert "2026-12-08T21:04:37" not in html
    with app.test_request_context(headers=EN):
        from flask_babel import format_datetime

        local = format_datetime(datetime(2026, 12, 8, 21, 4, 37, tzinfo=timezone.utc), "medium")
    assert "5:04:37" in local and "Dec 9, 2026" in local
    assert local in html
    # and on the log's page too
    html = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    assert local in html and "2026-12-08T21:04:37" not in html


def test_shown_value_leaves_other_values_alone(app):
    with app.test_request_context(headers=EN):
        assert phrases.shown_value("2026-12-08") == "2026-12-08"
        assert phrases.shown_value("满99减15") == "满99减15"
        assert phrases.shown_value(1990) == 1990 and phrases.shown_value(None) is None
        assert phrases.shown_value("2026-99-08T21:04:37+00:00") == "2026-99-08T21:04:37+00:00"
