"""The below-cost guard of channel prices (shop.referrals.margin): a flash, limited-time,
group-buy, bargain-floor, points-mall or member-level price below the SKU's floor (cost + margin floor
+ the two-level commission it would pay) is refused with the figures, unless the admin
confirms it as a deliberate loss leader; then it is saved and recorded with who
confirmed it. At or above the floor it is saved without a record.

The product of these tests costs 40.00; the shop's rules are the defaults (10 % + 5 %
commission, a 10 % margin floor), so the floor is 40.00 x 10 000 / 7 500 = 53.34
(rounded up): cost 40.00 + margin 5.35 + commission 7.99 (5.33 + 2.66, rounded down per
level as commissions are). Cost and margin alone make 44.45: 50.00 is above that and
still refused, because the commission counts too."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shop.bargains.models import BargainCampaign
from shop.catalog.models import Sku
from shop.db import db
from shop.groups.models import GroupCampaign, GroupCampaignSku
from shop.members.models import MemberLevel
from shop.points.models import MallItem
from shop.promotions.models import FlashItem, TimedPrice
from shop.referrals import margin, services as referrals
from shop.referrals.models import LossLeader
from tests.factories import (CommissionRateFactory, DistributorLevelFactory, FlashSessionFactory,
                             LossLeaderFactory, MemberLevelFactory, ProductFactory,
                             ReferralSettingsFactory, SkuFactory, product_with_skus)
from tests.conftest import counted_queries, signed_in

REFUSED_1 = "CN¥1.00 is below cost CN¥40.00 + margin floor CN¥5.35 + commission CN¥7.99 = CN¥53.34."
REFUSED_50 = "CN¥50.00 is below cost CN¥40.00 + margin floor CN¥5.35 + commission CN¥7.99 = CN¥53.34."


def _local(app, dt: datetime) -> str:
    return dt.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _product(cost=4000, skus=(("红", 9900, 50),)):
    return product_with_skus(skus=skus, cost_price_minor=cost)


def _admin(app):
    """An admin whose pages are in English (the messages checked are the English ones;
    English shows yuan as CN¥)."""
    client, admin = signed_in(app, "admin")
    client.post_form("/language", {"lang": "en"})
    return client, admin


def _losses(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(
            LossLeader.kind, LossLeader.object_id, LossLeader.sku_id, LossLeader.price_minor,
            LossLeader.floor_minor, LossLeader.confirmed_by_id).order_by(LossLeader.id)).all()


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _stock(app, sku_id: int) -> int:
    with app.app_context():
        return db.session.get(Sku, sku_id).stock


# --- the floor ------------------------------------------------------------------------------


def test_the_floor_is_cost_margin_and_commission_at_the_rates_that_apply(app):
    product, (sku,) = _product()
    other, (other_sku,) = _product()
    with app.app_context():
        floor = margin.floor_for(db.session.get(Sku, sku.id))
        assert (floor.cost_minor, floor.margin_minor, floor.commission_minor, floor.minor) == (
            4000, 535, 799, 5334)
        # points-mall redemptions earn no commission: cost and margin only
        assert margin.floor_for(db.session.get(Sku, sku.id), commission=False).minor == 4445
    # a product's own rates (20 % + 8 %): 40.00 x 10 000 / 6 200 = 64.52; the SKU's own win
    CommissionRateFactory(product_id=product.id, level1_bp=2000, level2_bp=800)
    with app.app_context():
        assert margin.floor_for(db.session.get(Sku, sku.id)).minor == 6452
        assert margin.floor_for(db.session.get(Sku, other_sku.id)).minor == 5334
    CommissionRateFactory(product_id=product.id, sku_id=sku.id, level1_bp=0, level2_bp=0)
    with app.app_context():
        assert margin.floor_for(db.session.get(Sku, sku.id)).minor == 4445
    # no override: the widest of the shop's rates and the distributor levels' (15 % + 6 %)
    DistributorLevelFactory(level1_bp=1500, level2_bp=600)
    with app.app_context():
        floor = margin.floor_for(db.session.get(Sku, other_sku.id))
        assert floor.minor == -(-4000 * 10_000 // (10_000 - 1000 - 2100)) == 5798
        assert floor.cost_minor + floor.margin_minor + floor.commission_minor == floor.minor


def test_a_product_without_a_cost_is_not_guarded(app):
    _p, (sku,) = _product(cost=0)
    with app.app_context():
        assert margin.floor_for(db.session.get(Sku, sku.id)) is None
        assert margin.check("flash", None, [margin.Priced(db.session.get(Sku, sku.id), 1)],
                            field="price", confirmed=False) == []


@pytest.mark.parametrize("floor_bp,level1,level2", [(1000, 1000, 500), (0, 0, 0), (2500, 3000, 1200),
                                                    (1234, 777, 333), (9000, 500, 499)])
def test_the_floor_is_the_lowest_price_whose_commission_the_sale_guard_never_cuts(app, floor_bp,
                                                                                   level1, level2):
    """Against services.margin_cap, the guard at sale time: at the floor the commission
    fits under the cap; one fen below, the margin rule does not hold any more."""
    ReferralSettingsFactory(margin_floor_bp=floor_bp, level1_bp=level1, level2_bp=level2)
    with app.app_context():
        for cost in (1, 7, 99, 1000, 4000, 12345, 99999):
            sku = SimpleNamespace(cost_minor=cost, product=SimpleNamespace(currency="CNY"))
            floor = margin._floor(sku, (level1, level2), floor_bp)
            at = floor.minor
            commission = at * level1 // 10_000 + at * level2 // 10_000
            assert commission == floor.commission_minor
            assert commission <= referrals.margin_cap(at, cost)
            below = at - 1
            assert below * (10_000 - floor_bp - level1 - level2) < cost * 10_000


def test_when_margin_and_commission_take_the_whole_price_no_price_passes(app):
    ReferralSettingsFactory(margin_floor_bp=9000, level1_bp=600, level2_bp=400)
    _p, (sku,) = _product()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        sku = db.session.get(Sku, sku.id)
        with pytest.raises(margin.BelowFloor, match="can not cover the cost CN¥40.00"):
            margin.check("flash", None, [margin.Priced(sku, 9_999_999)], field="price",
                         confirmed=False)


# --- a cost per SKU --------------------------------------------------------------------------


def _sizes(app):
    """Cherries in 1斤, 2斤 and 5斤 boxes (69.00, 129.00, 269.00): the product costs 40.00
    (the 1斤 box, which has no cost of its own), the 2斤 box 75.00, the 5斤 box 180.00 (floor
    180.00 x 10 000 / 7 500 = 240.00: cost 180.00 + margin 24.00 + commission 36.00)."""
    product, (one, two, five) = product_with_skus(
        options=("规格",), skus=(("1斤", 6900, 20), ("2斤", 12900, 20), ("5斤", 26900, 20)),
        cost_price_minor=4000)
    with app.app_context():
        db.session.get(Sku, two.id).cost_price_minor = 7500
        db.session.get(Sku, five.id).cost_price_minor = 18000
        db.session.commit()
    return product, (one, two, five)


def test_a_sku_with_its_own_cost_has_its_own_floor_and_one_without_takes_the_products(app):
    _product, (one, two, five) = _sizes(app)
    with app.app_context():
        skus = [db.session.get(Sku, s.id) for s in (one, two, five)]
        assert [s.cost_minor for s in skus] == [4000, 7500, 18000]
        floors = margin.floors(skus)
        assert [(f.cost_minor, f.margin_minor, f.commission_minor, f.minor)
                for f in (floors[one.id], floors[five.id])] == [(4000, 535, 799, 5334),
                                                                (18000, 2400, 3600, 24000)]
        assert floors[two.id].minor == 10000
        # points mall (no commission): 180.00 x 10 000 / 9 000 = 200.00
        assert margin.floor_for(skus[2], commission=False).minor == 20000
        # a SKU's own cost of 0 (not known) is not guarded, even if its product has a cost
        skus[1].cost_price_minor = 0
        assert margin.floor_for(skus[1]) is None
        # and a SKU with a cost on a product without one is
        skus[0].product.cost_price_minor = 0
        assert margin.floor_for(skus[0]) is None and margin.floor_for(skus[2]).minor == 24000
        db.session.rollback()


def test_a_group_price_on_the_big_box_is_judged_against_the_big_boxs_cost(app):
    client, admin = _admin(app)
    product, (one, two, five) = _sizes(app)
    url = f"/admin/groups/new?product_id={product.id}"

    # 50.00 on the 5斤 box: above the product's floor (53.34 is the 1斤 box's), far below its own
    response = client.post_form(url, _group_form(app, [one, two, five], {five.id: ("50.00", "")}))
    assert response.status_code == 422
    assert ("CN¥50.00 is below cost CN¥180.00 + margin floor CN¥24.00 + commission CN¥36.00 "
            "= CN¥240.00.") in _text(response)
    assert _count(app, GroupCampaign) == 0 and _losses(app) == []

    # 60.00 on the 2斤 box passed against the product's cost; against its own it does not
    response = client.post_form(url, _group_form(app, [one, two, five], {two.id: ("60.00", "")}))
    assert response.status_code == 422
    assert "CN¥60.00 is below cost CN¥75.00" in _text(response)
    assert _count(app, GroupCampaign) == 0 and _losses(app) == []

    # the 1斤 box (no cost of its own) at 60.00 and the 5斤 box at its floor: saved, no record
    assert client.post_form(url, _group_form(app, [one, two, five], {
        one.id: ("60.00", ""), five.id: ("240.00", "")})).status_code == 303
    assert _losses(app) == []

    # confirmed below: recorded at the 5斤 box's floor
    assert client.post_form(url, _group_form(app, [one, two, five], {five.id: ("50.00", "")},
                                             loss_leader="y")).status_code == 303
    with app.app_context():
        campaign_id = db.session.scalar(select(func.max(GroupCampaign.id)))
    assert _losses(app) == [("group", campaign_id, five.id, 5000, 24000, admin.id)]


def test_a_member_discount_checks_skus_with_their_own_cost(app):
    """A product without a cost whose SKU has one is checked; a SKU whose own cost is 0
    on a product with a cost is not."""
    client, _admin_user = _admin(app)
    sized = SkuFactory(price_minor=6000, cost_price_minor=4000,
                       product=ProductFactory(cost_price_minor=0))
    SkuFactory(price_minor=100, cost_price_minor=0, product=ProductFactory(cost_price_minor=4000))
    response = client.post_form("/admin/members/levels", _level_form("2000"))
    assert response.status_code == 422
    text = _text(response)
    assert "1 SKU on sale would sell below its floor." in text
    assert f"Product {sized.product.code}" in text and "CN¥48.00 is below cost CN¥40.00" in text
    assert _level(app) is None and _losses(app) == []


# --- flash items --------------------------------------------------------------------------


def _flash_form(sku_id: int, price: str, **changes) -> dict:
    return {"sku_id": str(sku_id), "price": price, "allotted": "5", "per_user_limit": "1", **changes}


def test_a_flash_price_below_the_floor_is_refused_with_the_figures_and_nothing_is_saved(app):
    client, admin = _admin(app)
    _p, (sku,) = _product()
    session = FlashSessionFactory()
    url = f"/admin/promotions/flash/{session.id}/items"

    for price, message in (("1.00", REFUSED_1), ("50.00", REFUSED_50)):
        response = client.post_form(url, _flash_form(sku.id, price))
        assert response.status_code == 422
        assert message in _text(response)
        assert _count(app, FlashItem) == 0 and _losses(app) == [] and _stock(app, sku.id) == 50

    # confirmed: saved, and recorded as a loss leader with the confirming admin
    response = client.post_form(url, _flash_form(sku.id, "1.00", loss_leader="y"))
    assert response.status_code == 303
    with app.app_context():
        item = db.session.scalar(select(FlashItem))
        assert (item.price_minor, item.allotted) == (100, 5)
        row = db.session.scalar(select(LossLeader))
        assert row.confirmed_at is not None
    assert _losses(app) == [("flash", item.id, sku.id, 100, 5334, admin.id)]
    assert _stock(app, sku.id) == 45

    # the session's page marks it
    page = _text(client.get(f"/admin/promotions/flash/{session.id}"))
    assert page.count("data-loss-leader") == 1 and admin.nickname in page


def test_a_flash_price_at_the_floor_is_saved_without_a_record_and_a_change_keeps_the_record_right(app):
    client, admin = _admin(app)
    _p, (sku,) = _product()
    session = FlashSessionFactory()
    assert client.post_form(f"/admin/promotions/flash/{session.id}/items",
                            _flash_form(sku.id, "53.34")).status_code == 303
    assert _losses(app) == []
    with app.app_context():
        item_id = db.session.scalar(select(FlashItem.id))
    change = f"/admin/promotions/flash/items/{item_id}"
    form = {f"item{item_id}-price": "9.90", f"item{item_id}-per_user_limit": "1",
            f"item{item_id}-allotted": "5"}

    # lowered below the floor without the confirmation: refused, nothing changes
    response = client.post_form(change, form)
    assert response.status_code == 422 and "CN¥9.90 is below cost CN¥40.00" in _text(response)
    with app.app_context():
        assert db.session.get(FlashItem, item_id).price_minor == 5334
    assert _losses(app) == []

    # confirmed: saved and recorded
    assert client.post_form(change, {**form, f"item{item_id}-loss_leader": "y"}).status_code == 303
    assert _losses(app) == [("flash", item_id, sku.id, 990, 5334, admin.id)]

    # saved again at the same price (a change of stock) by another admin, no tick: it was
    # confirmed already, and stays confirmed by the first admin
    other, _other_admin = _admin(app)
    assert other.post_form(change, {**form, f"item{item_id}-allotted": "6"}).status_code == 303
    assert _losses(app) == [("flash", item_id, sku.id, 990, 5334, admin.id)]

    # a new price still below: confirmation needed again
    assert other.post_form(change, {**form, f"item{item_id}-price": "9.80"}).status_code == 422
    with app.app_context():
        assert db.session.get(FlashItem, item_id).price_minor == 990

    # back above the floor: the record goes
    assert client.post_form(change, {**form, f"item{item_id}-price": "60.00"}).status_code == 303
    assert _losses(app) == []


# --- limited-time prices --------------------------------------------------------------------


def _timed_form(app, product_id: int, **changes) -> dict:
    now = _now()
    return {"name": "限时特价", "product_id": str(product_id), "sku_id": "", "kind": "price",
            "price": "1.00", "percent_bp": "", "starts_at": _local(app, now),
            "ends_at": _local(app, now + timedelta(days=1)), "with_coupons": "y", "active": "y",
            **changes}


def test_a_limited_time_price_below_the_floor_of_any_of_its_skus_is_refused(app):
    client, admin = _admin(app)
    product, (red, blue) = _product(skus=(("红", 9900, 5), ("蓝", 6000, 5)))
    url = "/admin/promotions/timed-prices/new"

    response = client.post_form(url, _timed_form(app, product.id))
    assert response.status_code == 422
    text = _text(response)
    assert f"Red: {REFUSED_1}" in text  # several SKUs: the message names the one (in English)
    assert _count(app, TimedPrice) == 0 and _losses(app) == []

    # 10 % off: the red one sells at 89.10, the blue one at 54.00 (above 53.34): saved
    assert client.post_form(url, _timed_form(app, product.id, kind="percent", price="",
                                             percent_bp="1000")).status_code == 303
    # 20 % off: blue at 48.00 is above cost and margin (44.45), below with the commission
    response = client.post_form(url, _timed_form(app, product.id, kind="percent", price="",
                                                 percent_bp="2000"))
    assert response.status_code == 422
    assert ("Blue: CN¥48.00 is below cost CN¥40.00 + margin floor CN¥5.35 + commission CN¥7.99 = CN¥53.34."
            in _text(response))
    assert _count(app, TimedPrice) == 1 and _losses(app) == []

    # a set price confirmed: each SKU below is recorded
    assert client.post_form(url, _timed_form(app, product.id, price="50.00",
                                             loss_leader="y")).status_code == 303
    with app.app_context():
        timed_id = db.session.scalar(select(func.max(TimedPrice.id)))
    assert _losses(app) == [("timed", timed_id, red.id, 5000, 5334, admin.id),
                            ("timed", timed_id, blue.id, 5000, 5334, admin.id)]

    # the list marks it, and only it
    page = _text(client.get("/admin/promotions/timed-prices"))
    assert page.count("data-loss-leader") == 1
    row = re.search(rf'<tr data-timed="{timed_id}">(.*?)</tr>', page, re.S).group(1)
    assert "data-loss-leader" in row


def test_the_timed_list_costs_the_same_queries_with_more_loss_leaders(app):
    client, admin = _admin(app)
    product, (sku,) = _product()
    url = "/admin/promotions/timed-prices/new"
    assert client.post_form(url, _timed_form(app, product.id, loss_leader="y")).status_code == 303
    client.get("/admin/promotions/timed-prices")
    with counted_queries(app) as one:
        client.get("/admin/promotions/timed-prices")
    for _ in range(3):
        other, (other_sku,) = _product()
        assert client.post_form(url, _timed_form(app, other.id, loss_leader="y")).status_code == 303
    with counted_queries(app) as four:
        page = _text(client.get("/admin/promotions/timed-prices"))
    assert page.count("data-loss-leader") == 4
    assert len(four) == len(one)


# --- group buys -----------------------------------------------------------------------------


def _group_form(app, skus, prices: dict, **changes) -> dict:
    now = _now()
    data = {"group_size": "2", "hours": "24", "starts_at": _local(app, now - timedelta(hours=1)),
            "ends_at": _local(app, now + timedelta(days=7)), "stock_cap": "10",
            "per_user_limit": "", "auto_complete_percent": "", "active": "y"}
    for i, sku in enumerate(skus):
        price, leader = prices.get(sku.id, ("", ""))
        data.update({f"skus-{i}-sku_id": str(sku.id), f"skus-{i}-price": price,
                     f"skus-{i}-leader_price": leader})
    return {**data, **changes}


def test_a_group_price_counts_its_leader_price_against_the_floor(app):
    client, admin = _admin(app)
    product, (red, blue) = _product(skus=(("红", 9900, 5), ("蓝", 9900, 5)))
    url = f"/admin/groups/new?product_id={product.id}"

    # the group price is fine, the leader's is below: refused on the leader's price
    response = client.post_form(url, _group_form(app, [red, blue], {red.id: ("60.00", "50.00")}))
    assert response.status_code == 422
    assert "CN¥50.00 is below cost CN¥40.00 + margin floor CN¥5.35 + commission CN¥7.99 = CN¥53.34." in _text(response)
    assert _count(app, GroupCampaign) == 0 and _count(app, GroupCampaignSku) == 0 and _losses(app) == []

    # at the floor: saved, no record
    assert client.post_form(url, _group_form(app, [red, blue],
                                             {red.id: ("60.00", "53.34")})).status_code == 303
    assert _losses(app) == []

    # confirmed, below: saved and recorded at the lowest price
    response = client.post_form(url, _group_form(app, [red, blue], {red.id: ("60.00", ""),
                                                                    blue.id: ("1.00", "")},
                                                 loss_leader="y"))
    assert response.status_code == 303
    with app.app_context():
        campaign_id = db.session.scalar(select(func.max(GroupCampaign.id)))
    assert _losses(app) == [("group", campaign_id, blue.id, 100, 5334, admin.id)]

    page = _text(client.get("/admin/groups/"))
    assert page.count("data-loss-leader") == 1


# --- bargains -------------------------------------------------------------------------------


def _bargain_form(app, sku, floor: str, **changes) -> dict:
    now = _now()
    return {"sku_id": f"sku:{sku.id}", "start_price_minor": "99.00",
            "floor_price_minor": floor, "helpers_needed": "5", "hours": "24",
            "starts_at": _local(app, now), "ends_at": _local(app, now + timedelta(days=7)),
            "active": "y", **changes}


def test_a_bargain_floor_price_below_the_floor_is_refused_unless_confirmed(app):
    client, admin = _admin(app)
    _p, (sku,) = _product()
    url = "/admin/bargains/new"

    response = client.post_form(url, _bargain_form(app, sku, "1.00"))
    assert response.status_code == 422 and REFUSED_1 in _text(response)
    assert _count(app, BargainCampaign) == 0 and _losses(app) == []

    assert client.post_form(url, _bargain_form(app, sku, "53.34")).status_code == 303
    assert _losses(app) == []

    response = client.post_form(url, _bargain_form(app, sku, "1.00", loss_leader="y"))
    assert response.status_code == 303
    with app.app_context():
        campaign_id = db.session.scalar(select(func.max(BargainCampaign.id)))
        assert db.session.get(BargainCampaign, campaign_id).floor_price_minor == 100
    assert _losses(app) == [("bargain", campaign_id, sku.id, 100, 5334, admin.id)]

    # raised back above the floor: no longer a loss leader
    assert client.post_form(f"/admin/bargains/{campaign_id}",
                            _bargain_form(app, sku, "60.00")).status_code == 303
    assert _losses(app) == []
    assert _text(client.get("/admin/bargains/")).count("data-loss-leader") == 0


# --- the points mall ------------------------------------------------------------------------


def test_a_mall_item_counts_its_cash_and_its_points_at_the_shops_rate(app):
    """100 points make 1.00 (the default rate); redemptions earn no commission, so the
    floor is cost and margin: 44.45."""
    client, admin = _admin(app)
    _p, (sku,) = _product()
    url = "/admin/points/mall/new"
    form = {"sku_id": str(sku.id), "points_price": "1000", "cash_minor": "5.00",
            "per_user_limit": "1", "active": "y"}

    response = client.post_form(url, form)
    assert response.status_code == 422
    assert ("CN¥5.00 and 1000 points worth CN¥10.00: CN¥15.00 is below cost CN¥40.00 + margin floor "
            "CN¥4.45 + commission CN¥0.00 = CN¥44.45.") in _text(response)
    assert _count(app, MallItem) == 0 and _losses(app) == []

    # points alone worth the floor: saved, no record
    assert client.post_form(url, {**form, "points_price": "4445", "cash_minor": "0"}).status_code == 303
    assert _losses(app) == []

    assert client.post_form(url, {**form, "loss_leader": "y"}).status_code == 303
    with app.app_context():
        item_id = db.session.scalar(select(func.max(MallItem.id)))
    assert _losses(app) == [("mall", item_id, sku.id, 1500, 4445, admin.id)]
    assert _text(client.get("/admin/points/mall")).count("data-loss-leader") == 1


# --- the record ------------------------------------------------------------------------------


def test_the_factory_makes_a_loss_leader_row(app):
    row = LossLeaderFactory()
    assert _losses(app) == [("flash", 1, row.sku_id, 100, 1334, row.confirmed_by_id)]


# --- member levels ---------------------------------------------------------------------------


def _level_form(discount_bp: str, **changes) -> dict:
    return {"name": "金卡会员", "threshold": "2000", "discount_bp": discount_bp,
            "points_multiplier_bp": "10000", **changes}


def _level(app, level_id: int | None = None) -> tuple | None:
    with app.app_context():
        level = (db.session.get(MemberLevel, level_id) if level_id
                 else db.session.scalar(select(MemberLevel)))
        return (level.id, level.name, level.discount_bp) if level else None


def _not_on_sale() -> list[int]:
    """SKUs priced 1.00 on products that cost 40.00 but are not on sale, an inactive SKU
    of a product on sale, and one on a product without a cost: none is checked."""
    off = SkuFactory(price_minor=100, product=ProductFactory(status="off_sale", cost_price_minor=4000))
    draft = SkuFactory(price_minor=100, product=ProductFactory(status="draft", cost_price_minor=4000))
    archived = SkuFactory(price_minor=100, product=ProductFactory(cost_price_minor=4000,
                                                                   archived_at=_now()))
    inactive = SkuFactory(price_minor=100, active=False, product=ProductFactory(cost_price_minor=4000))
    free = SkuFactory(price_minor=100, product=ProductFactory(cost_price_minor=0))
    return [off.id, draft.id, archived.id, inactive.id, free.id]


def test_a_member_discount_that_sells_skus_below_their_floor_is_refused_unless_confirmed(app):
    """50 % off: red 99.00 sells at 49.50, blue 60.00 at 30.00, both below 53.34; the
    message counts them and explains blue, the furthest below."""
    client, admin = _admin(app)
    product, (red, blue) = _product(skus=(("红", 9900, 5), ("蓝", 6000, 5)))
    _not_on_sale()
    url = "/admin/members/levels"

    response = client.post_form(url, _level_form("5000"))
    assert response.status_code == 422
    text = _text(response)
    assert ("2 SKUs on sale would sell below their floor. The furthest below: "
            f"Product {product.code} (Blue, list price CN¥60.00): CN¥30.00 is below cost CN¥40.00 "
            "+ margin floor CN¥5.35 + commission CN¥7.99 = CN¥53.34.") in text
    assert "Deliberate loss leader" in text
    assert _level(app) is None and _losses(app) == []

    # 20 % off: only blue is below (48.00): one SKU, named
    response = client.post_form(url, _level_form("2000"))
    assert response.status_code == 422
    assert ("1 SKU on sale would sell below its floor. The furthest below: "
            f"Product {product.code} (Blue, list price CN¥60.00): CN¥48.00 is below") in _text(response)
    assert _level(app) is None and _losses(app) == []

    # confirmed: saved, one record per SKU below, confirmed by the admin
    assert client.post_form(url, _level_form("5000", loss_leader="y")).status_code == 303
    level_id, name, discount = _level(app)
    assert (name, discount) == ("金卡会员", 5000)
    assert _losses(app) == [("member", level_id, red.id, 4950, 5334, admin.id),
                            ("member", level_id, blue.id, 3000, 5334, admin.id)]

    # the list marks the level with the number of SKUs below, and the confirming admin
    page = _text(client.get(url))
    row = re.search(rf'<tr data-testid="level-{level_id}">(.*?)</tr>', page, re.S).group(1)
    assert 'data-loss-leader="2"' in row and "2 SKUs below their floor" in row
    assert admin.nickname in row
    assert 'data-loss-leader="2"' in _text(client.get(f"{url}/{level_id}"))


def test_a_member_discount_at_the_floor_is_saved_without_a_record_rounded_as_checkout_rounds(app):
    """59.26 less 10 %: checkout takes 5.92 off (rounded down, the shop's favour), so the
    shopper pays 53.34, the floor: saved. Rounded to the nearest fen (5.93) it would be
    53.33, one fen below."""
    client, _admin_user = _admin(app)
    _p, (sku,) = _product(skus=(("红", 5926, 5),))
    assert client.post_form("/admin/members/levels", _level_form("1000")).status_code == 303
    assert _level(app)[2] == 1000 and _losses(app) == []
    # one basis point more: 5.93 off (5.9319..., rounded down), 53.33: one fen below
    level_id = _level(app)[0]
    response = client.post_form(f"/admin/members/levels/{level_id}", _level_form("1001"))
    assert response.status_code == 422 and "CN¥53.33 is below" in _text(response)
    assert _level(app, level_id)[2] == 1000 and _losses(app) == []


def test_editing_a_level_keeps_its_confirmation_and_a_discount_back_above_drops_it(app):
    client, admin = _admin(app)
    _p, (red, blue) = _product(skus=(("红", 9900, 5), ("蓝", 6000, 5)))
    assert client.post_form("/admin/members/levels", _level_form("2000", loss_leader="y")).status_code == 303
    level_id = _level(app)[0]
    edit = f"/admin/members/levels/{level_id}"
    assert _losses(app) == [("member", level_id, blue.id, 4800, 5334, admin.id)]

    # another admin renames it, same discount, no tick: already confirmed, by the first admin
    other, _other_admin = _admin(app)
    assert other.post_form(edit, _level_form("2000", name="铂金会员")).status_code == 303
    assert _level(app, level_id) == (level_id, "铂金会员", 2000)
    assert _losses(app) == [("member", level_id, blue.id, 4800, 5334, admin.id)]

    # a deeper discount, not confirmed: refused, nothing changes
    response = other.post_form(edit, _level_form("5000", name="钻石会员"))
    assert response.status_code == 422 and "2 SKUs on sale would sell below their floor." in _text(response)
    assert _level(app, level_id) == (level_id, "铂金会员", 2000)
    assert _losses(app) == [("member", level_id, blue.id, 4800, 5334, admin.id)]

    # back above every floor (10 %: 89.10 and 54.00): saved, the record goes
    assert other.post_form(edit, _level_form("1000")).status_code == 303
    assert _level(app, level_id)[2] == 1000 and _losses(app) == []
    assert "data-loss-leader" not in _text(client.get("/admin/members/levels"))


def test_a_level_without_a_discount_is_not_checked(app):
    """A SKU already sold below its floor at its own price (50.00) is not the level's doing."""
    client, _admin_user = _admin(app)
    _product(skus=(("红", 5000, 5),))
    assert client.post_form("/admin/members/levels", _level_form("0")).status_code == 303
    assert _level(app)[2] == 0 and _losses(app) == []


def test_deleting_a_level_forgets_its_loss_leaders(app):
    client, admin = _admin(app)
    _p, (red, blue) = _product(skus=(("红", 9900, 5), ("蓝", 6000, 5)))
    flash = LossLeaderFactory(sku_id=red.id)  # another kind's record stays
    assert client.post_form("/admin/members/levels", _level_form("5000", loss_leader="y")).status_code == 303
    level_id = _level(app)[0]
    assert len(_losses(app)) == 3
    assert client.post_form(f"/admin/members/levels/{level_id}/delete").status_code == 303
    assert _level(app) is None
    assert _losses(app) == [("flash", 1, red.id, 100, 1334, flash.confirmed_by_id)]


def test_the_levels_list_costs_the_same_queries_with_more_loss_leaders(app):
    client, _admin_user = _admin(app)
    _product(skus=(("红", 9900, 5), ("蓝", 6000, 5)))
    url = "/admin/members/levels"
    assert client.post_form(url, _level_form("5000", loss_leader="y")).status_code == 303
    client.get(url)
    with counted_queries(app) as one:
        client.get(url)
    for n in range(3):
        MemberLevelFactory(threshold=10_000 + n)  # and levels without a discount
        assert client.post_form(url, _level_form("6000", name=f"L{n}", threshold=str(3000 + n),
                                                 loss_leader="y")).status_code == 303
    with counted_queries(app) as more:
        page = _text(client.get(url))
    assert page.count('data-loss-leader="2"') == 4
    assert len(more) == len(one)
