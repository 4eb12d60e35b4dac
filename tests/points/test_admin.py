"""The points backoffice: admins only, fragments and posts included; bad input gets a
form error and changes nothing."""

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.points import services
from shop.points.models import MallItem, MallStockEntry, PointsEntry, PointsRate, SigninBonus, TaskRule
from tests.conftest import form_token, signed_in
from tests.factories import MallItemFactory, ProductFactory, SkuFactory, UserFactory, product_with_skus
from tests.payments.helpers import EN
from tests.points.helpers import give, points_of

PAGES = ["/admin/points/", "/admin/points/tasks", "/admin/points/rates", "/admin/points/mall",
         "/admin/points/mall/new", "/admin/points/adjust"]
POSTS = ["/admin/points/", "/admin/points/tasks/first_order", "/admin/points/rates",
         "/admin/points/mall/new", "/admin/points/adjust"]


@pytest.mark.parametrize("role", ["shopper", "staff", "editor"])
def test_only_admins_get_in(app, role):
    client, _user = signed_in(app, role)
    item = MallItemFactory()
    for url in PAGES + [f"/admin/points/mall/{item.id}"]:
        assert client.get(url).status_code == 403, url
    for url in POSTS + [f"/admin/points/mall/{item.id}", f"/admin/points/mall/{item.id}/stock"]:
        assert client.post_form(url, {"points": "5", "change": "5", "reason": "x"}).status_code == 403, url
    with app.app_context():
        assert db.session.scalars(select(MallStockEntry.reason)).all() == ["opening"]  # nothing more
        assert db.session.get(MallItem, item.id).stock == 10


def test_admins_see_every_page(app, admin_client):
    item = MallItemFactory()
    for url in PAGES + [f"/admin/points/mall/{item.id}"]:
        assert admin_client.get(url).status_code == 200, url


def test_saving_the_rules_and_the_streak_bonuses(app, admin_client):
    form = {"earn_per_unit": "2", "redeem_per_unit": "50", "deduct_max_bp": "3000",
            "deduct_cap_points": "8000", "expiry_rule": "days", "expiry_days": "90",
            "signin_points": "8", "bonuses": "3:10，7=30"}
    assert admin_client.post_form("/admin/points/", form).status_code == 303
    with app.app_context():
        rules = services.settings()
        assert (rules.earn_per_unit, rules.redeem_per_unit, rules.expiry_rule, rules.signin_points) == \
            (2, 50, "days", 8)
        assert services.signin_bonuses() == {3: 10, 7: 30}


@pytest.mark.parametrize("field,value", [("bonuses", "1:10"), ("bonuses", "3:0"), ("bonuses", "3:10, 3:20"),
                                         ("bonuses", "seven"), ("deduct_max_bp", "10001"),
                                         ("redeem_per_unit", "0"), ("expiry_rule", "tomorrow"),
                                         ("earn_per_unit", "1.5")])
def test_bad_rules_are_refused_and_change_nothing(app, admin_client, field, value):
    form = {"earn_per_unit": "2", "redeem_per_unit": "50", "deduct_max_bp": "3000",
            "deduct_cap_points": "8000", "expiry_rule": "days", "expiry_days": "90",
            "signin_points": "8", "bonuses": "3:10"}
    form[field] = value
    response = admin_client.post_form("/admin/points/", form, headers=EN)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    with app.app_context():
        assert services.settings().earn_per_unit == 1
        assert db.session.scalar(select(func.count()).select_from(SigninBonus)) == 0


def test_a_task_rule_is_saved_and_bad_points_are_refused(app, admin_client):
    assert admin_client.post_form("/admin/points/tasks/weekly_order",
                                  {"weekly_order-points": "40"}).status_code == 303
    with app.app_context():
        assert services.task_rules()["weekly_order"] == (40, False)  # the box was not ticked
    bad = admin_client.post_form("/admin/points/tasks/weekly_order", {"weekly_order-points": "-1"})
    assert bad.status_code == 422
    assert admin_client.post_form("/admin/points/tasks/nonsense", {}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TaskRule)) == 1


def test_a_product_rate_is_set_and_cleared(app, admin_client):
    product = ProductFactory()
    assert admin_client.post_form("/admin/points/rates", {"product_id": f"product:{product.id}",
                                                          "earn_per_unit": "4"}).status_code == 303
    with app.app_context():
        assert db.session.get(PointsRate, product.id).earn_per_unit == 4
    assert admin_client.post_form("/admin/points/rates", {"product_id": f"product:{product.id}"}).status_code == 303
    missing = admin_client.post_form("/admin/points/rates", {"product_id": "product:999999", "earn_per_unit": "4"},
                                     headers=EN)
    assert missing.status_code == 422 and "No product has this number: 999999." in missing.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PointsRate)) == 0


def test_a_manual_adjustment_needs_a_reason_and_never_goes_below_zero(app, admin_client):
    user = UserFactory(nickname="积分达人")
    product = ProductFactory()
    give(app, user.id, 30)

    def adjust(**form):
        data = {"user_id": f"customer:{user.id}", "direction": "credit", "points": "20", "reason": "补偿",
                "token": form_token(admin_client, "/admin/points/adjust")}
        data.update(form)
        return admin_client.post_form("/admin/points/adjust", data, headers=EN)

    assert adjust().status_code == 303
    assert points_of(app, user.id) == 50
    refused = adjust(direction="debit", points="51")
    assert refused.status_code == 422 and "You do not have enough points." in refused.get_data(as_text=True)
    assert adjust(reason="").status_code == 422
    assert adjust(points="0").status_code == 422
    # the shopper is picked by name: another kind, an unknown id or typed text is refused
    for user_id, message in [(f"product:{product.id}", "This takes a customer, not a product."),
                             ("customer:999999", "No customer has this number: 999999."),
                             (user.email, "Choose from the search results."),
                             ("", "This field is required.")]:
        refused = adjust(user_id=user_id)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), user_id
    searched = adjust(user_id="", q_user_id="积分达人")
    assert searched.status_code == 422
    assert f'type="radio" name="user_id" value="customer:{user.id}"' in searched.get_data(as_text=True)
    assert points_of(app, user.id) == 50  # none of those changed anything
    assert adjust(direction="debit", points="50").status_code == 303
    assert points_of(app, user.id) == 0
    with app.app_context():
        notes = db.session.scalars(select(PointsEntry.note).where(PointsEntry.ref_type == "adjustment")).all()
        assert notes == ["补偿", "补偿"]


def test_the_same_adjustment_form_counts_once(app, admin_client):
    user = UserFactory()
    data = {"user_id": f"customer:{user.id}", "direction": "credit", "points": "20", "reason": "x",
            "token": form_token(admin_client, "/admin/points/adjust")}
    assert admin_client.post_form("/admin/points/adjust", data).status_code == 303
    assert admin_client.post_form("/admin/points/adjust", data).status_code == 422
    assert points_of(app, user.id) == 20


def test_a_mall_item_is_made_and_stocked_through_the_ledger(app, admin_client):
    sku = SkuFactory(product=ProductFactory(), stock=5)
    response = admin_client.post_form("/admin/points/mall/new", {
        "sku_id": f"sku:{sku.id}", "points_price": "200", "cash_minor": "9.90", "per_user_limit": "1", "active": "y"})
    assert response.status_code == 303
    with app.app_context():
        item = db.session.scalar(select(MallItem))
        assert (item.points_price, item.cash_minor, item.stock, item.active) == (200, 990, 0, True)
    url = f"/admin/points/mall/{item.id}/stock"
    assert admin_client.post_form(url, {"change": "30", "reason": "进货"}).status_code == 303
    refused = admin_client.post_form(url, {"change": "-31", "reason": "盘点"}, headers=EN)
    assert refused.status_code == 422 and "This item has just run out." in refused.get_data(as_text=True)
    assert admin_client.post_form(url, {"change": "0", "reason": "x"}).status_code == 422
    assert admin_client.post_form(url, {"change": "-5", "reason": "盘点"}).status_code == 303
    with app.app_context():
        assert db.session.get(MallItem, item.id).stock == 25
        assert db.session.scalars(select(MallStockEntry.delta).order_by(MallStockEntry.id)).all() == [30, -5]


def test_a_mall_item_needs_a_real_sku_and_a_price(app, admin_client):
    _product, (sku, _blue) = product_with_skus(cost_price_minor=0)
    real = f"sku:{sku.id}"  # a real SKU: each refusal below is the price's own
    for form, message in (
            ({"sku_id": "sku:999999", "points_price": "10", "cash_minor": "0"}, "No SKU has this number"),
            ({"sku_id": "product:1", "points_price": "10", "cash_minor": "0"}, "This takes an SKU, not a product."),
            ({"sku_id": real, "points_price": "0", "cash_minor": "0"}, "Enter a whole number from 1 to 10000000."),
            ({"sku_id": real, "points_price": "10", "cash_minor": "-1"}, "The amount cannot be negative.")):
        response = admin_client.post_form("/admin/points/mall/new", dict(form, per_user_limit="1"),
                                          headers={"Accept-Language": "en"})
        assert response.status_code == 422 and message in response.get_data(as_text=True), form
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MallItem)) == 0


def test_the_forms_not_posted_show_what_is_stored(app, admin_client):
    """Several forms on one page (shop.web.forms): a refused task keeps the others as
    stored; a refused stock change keeps the item's form as stored, and saving that form
    as shown changes nothing."""
    from tests.web.page_forms import form_values

    assert admin_client.post_form("/admin/points/tasks/first_order",
                                  {"first_order-points": "50", "first_order-active": "y"}).status_code == 303
    bad = admin_client.post_form("/admin/points/tasks/weekly_order", {"weekly_order-points": "-1"})
    assert bad.status_code == 422
    shown = form_values(bad.get_data(as_text=True), "/admin/points/tasks/first_order")
    assert shown["first_order-points"] == ["50"] and shown.get("first_order-active") == ["y"]

    item = MallItemFactory(points_price=300, cash_minor=990, per_user_limit=2, active=True)
    page = f"/admin/points/mall/{item.id}"

    def row():
        with app.app_context():
            i = db.session.get(MallItem, item.id)
            return (i.sku_id, i.points_price, i.cash_minor, i.per_user_limit, i.active, i.stock)

    before = row()
    response = admin_client.post_form(f"{page}/stock", {"change": "x", "reason": ""}, headers=EN)
    assert response.status_code == 422
    shown = form_values(response.get_data(as_text=True), page)
    assert shown["sku_id"] == [f"sku:{item.sku_id}"] and shown["points_price"] == ["300"]
    assert shown["cash_minor"] == ["9.90"] and shown.get("active") == ["y"]
    assert admin_client.post_form(page, shown).status_code == 303
    assert row() == before
