"""The backoffice of group buys: admins only (fragments included); a campaign made through
the form with its stock cap in the unit ledger; bad input refused with nothing made; the
stock cap moved through the ledger and never below what seats have taken."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.groups.models import CampaignUnitEntry, GroupCampaign, GroupCampaignSku
from tests.conftest import signed_in
from tests.factories import SkuFactory, product_with_skus
from tests.groups.helpers import campaign, join_held, open_paid_group
from tests.payments.helpers import EN


def _local(app, dt: datetime) -> str:
    return dt.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")


def _form(app, skus, **changes) -> dict:
    """The campaign form as an admin fills it: the first option at 9.90 (leader 8.90),
    the second left out."""
    now = datetime.now(ZoneInfo("UTC")).replace(second=0, microsecond=0)
    data = {"group_size": "3", "hours": "24", "starts_at": _local(app, now - timedelta(hours=1)),
            "ends_at": _local(app, now + timedelta(days=7)), "stock_cap": "30",
            "per_user_limit": "", "auto_complete_percent": "", "active": "y"}
    for i, sku in enumerate(skus):
        data.update({f"skus-{i}-sku_id": str(sku.id), f"skus-{i}-price": "",
                     f"skus-{i}-leader_price": ""})
    data.update({"skus-0-price": "9.90", "skus-0-leader_price": "8.90"})
    data.update(changes)
    return data


def _campaigns(app) -> list[tuple]:
    with app.app_context():
        return [(c.id, c.group_size, c.hours, c.stock_cap, c.units_left, c.per_user_limit,
                 c.auto_complete_bp, c.active)
                for c in db.session.scalars(select(GroupCampaign).order_by(GroupCampaign.id))]


def _unit_entries(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(CampaignUnitEntry.delta, CampaignUnitEntry.units_after, CampaignUnitEntry.reason,
                   CampaignUnitEntry.ref_type, CampaignUnitEntry.ref_id)
            .order_by(CampaignUnitEntry.id))]


def _prices(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(GroupCampaignSku.campaign_id, GroupCampaignSku.sku_id, GroupCampaignSku.price_minor,
                   GroupCampaignSku.leader_price_minor).order_by(GroupCampaignSku.id))]


@pytest.mark.parametrize("role", ["anonymous", "shopper", "staff"])
def test_only_admins_reach_the_group_buy_backoffice(app, role):
    if role == "anonymous":
        client = app.test_client()
    else:
        client, _user = signed_in(app, role)
    campaign_id, sku_id = campaign(size=2)
    open_paid_group(app, campaign_id, sku_id)
    product, skus = product_with_skus()
    before = (_campaigns(app), _unit_entries(app), _prices(app))
    form = _form(app, skus)
    requests = [("GET", "/admin/groups/"), ("GET", f"/admin/groups/new?product_id={product.id}"),
                ("POST", f"/admin/groups/new?product_id={product.id}"),
                ("GET", f"/admin/groups/{campaign_id}"), ("POST", f"/admin/groups/{campaign_id}"),
                ("GET", f"/admin/groups/{campaign_id}/groups")]
    for method, url in requests:
        for headers in ({}, {"HX-Request": "true"}):
            if method == "POST":
                response = client.post_form(url, dict(form, stock_cap="5"), headers=headers)
            else:
                response = client.get(url, headers=headers)
            if role == "anonymous":
                assert response.status_code == (401 if headers else 302), (method, url, headers)
                location = response.headers["HX-Redirect" if headers else "Location"]
                assert location.startswith("/signin"), location
            else:
                assert response.status_code == 403, (method, url, headers)
    assert (_campaigns(app), _unit_entries(app), _prices(app)) == before


def test_an_admin_creates_a_campaign_with_one_of_two_options(app, admin_client):
    product, (red, blue) = product_with_skus(cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    page = admin_client.get(f"/admin/groups/new?product_id={product.id}", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'name="skus-0-sku_id" type="hidden" value="{red.id}"' in html
    assert f'name="skus-1-sku_id" type="hidden" value="{blue.id}"' in html
    form = _form(app, [red, blue], per_user_limit="2", auto_complete_percent="60")
    response = admin_client.post_form(f"/admin/groups/new?product_id={product.id}", form)
    assert response.status_code == 303
    (made,) = _campaigns(app)
    assert response.headers["Location"] == f"/admin/groups/{made[0]}"
    assert made[1:] == (3, 24, 30, 30, 2, 6000, True)
    assert _prices(app) == [(made[0], red.id, 990, 890)]
    assert _unit_entries(app) == [(30, 30, "stock cap", "cap", "1")]
    with app.app_context():
        saved = db.session.get(GroupCampaign, made[0])
        assert saved.product_id == product.id and saved.currency == "CNY"
        assert _local(app, saved.starts_at) == form["starts_at"]
        assert _local(app, saved.ends_at) == form["ends_at"]
        assert db.session.scalar(select(CampaignUnitEntry.actor_id)) is not None
    listing = admin_client.get("/admin/groups/", headers=EN).get_data(as_text=True)
    assert f'href="/admin/groups/{made[0]}"' in listing and "30 / 30" in listing
    # the shopper side: the campaign runs, with the one option priced
    shop_page = app.test_client().get(f"/group-buys/{made[0]}")
    assert shop_page.status_code == 200
    assert app.test_client().get(f"/admin/groups/{made[0]}/groups").status_code == 302
    assert admin_client.get(f"/admin/groups/{made[0]}/groups").status_code == 200


@pytest.mark.parametrize("changes, code, message", [
    ({"group_size": "1"}, 422, "Enter a whole number from 2 to 100."),
    ({"group_size": "101"}, 422, "Enter a whole number from 2 to 100."),
    ({"hours": "0"}, 422, "Enter a whole number from 1 to 720."),
    ("ends_before_start", 422, "The end must come after the start."),
    ({"skus-0-leader_price": "10.00"}, 422, "at most the group price"),
    ({"skus-0-price": "0"}, 422, "A price must be more than zero."),
    ({"skus-0-price": "", "skus-0-leader_price": ""}, 409, "Give a group price to at least one option."),
    ({"skus-1-sku_id": "999999"}, 422, "The product's options changed; reload the page."),
])
def test_bad_input_is_refused_and_makes_nothing(app, admin_client, changes, code, message):
    product, skus = product_with_skus()
    form = _form(app, skus)
    if changes == "ends_before_start":
        changes = {"ends_at": form["starts_at"], "starts_at": _form(app, skus)["ends_at"]}
    response = admin_client.post_form(f"/admin/groups/new?product_id={product.id}",
                                      dict(form, **changes), headers=EN)
    assert response.status_code == code
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert _campaigns(app) == [] and _unit_entries(app) == [] and _prices(app) == []


def test_a_product_that_does_not_exist_is_refused(app, admin_client):
    response = admin_client.get("/admin/groups/new?product_id=product:999999", headers=EN)
    assert response.status_code == 422 and "No product has this number: 999999." in response.get_data(as_text=True)
    assert admin_client.post_form("/admin/groups/new?product_id=999999", {}).status_code == 422
    sku = SkuFactory()  # an SKU's token is not a product's
    response = admin_client.get(f"/admin/groups/new?product_id=sku:{sku.id}", headers=EN)
    assert response.status_code == 422 and "This takes a product, not an SKU." in response.get_data(as_text=True)
    # without JavaScript: a search shows the matches to choose from, nothing is made
    response = admin_client.get(f"/admin/groups/new?product_id=&q_product_id={sku.product.code}", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'value="product:{sku.product_id}"' in html
    assert admin_client.get("/admin/groups/999999").status_code == 404
    assert admin_client.get("/admin/groups/999999/groups").status_code == 404
    assert _campaigns(app) == []


def test_the_stock_cap_moves_through_the_ledger_and_not_below_what_seats_took(app, admin_client):
    product, skus = product_with_skus(skus=(("红", 1990, 50), ("蓝", 2590, 50)),
                                      cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    response = admin_client.post_form(f"/admin/groups/new?product_id={product.id}", _form(app, skus))
    assert response.status_code == 303
    ((campaign_id, *_rest),) = _campaigns(app)
    _leader, _user, group_id = open_paid_group(app, campaign_id, skus[0].id, price=890)
    join_held(app, group_id, skus[0].id)
    assert _campaigns(app)[0][3:5] == (30, 28)
    entries = _unit_entries(app)
    assert [e[:3] for e in entries] == [(30, 30, "stock cap"), (-1, 29, "claimed"), (-1, 28, "claimed")]

    # below the two units seats hold: refused with a message, nothing changed
    before = (_campaigns(app), _unit_entries(app), _prices(app))
    response = admin_client.post_form(f"/admin/groups/{campaign_id}",
                                      _form(app, skus, stock_cap="1", group_size="4"), headers=EN)
    assert response.status_code == 409
    assert "The stock cap can not go below the 2 units seats have taken." in response.get_data(as_text=True)
    assert (_campaigns(app), _unit_entries(app), _prices(app)) == before

    # down to exactly what is taken: allowed, no unit left
    response = admin_client.post_form(f"/admin/groups/{campaign_id}", _form(app, skus, stock_cap="2"))
    assert response.status_code == 303
    assert _campaigns(app)[0][3:5] == (2, 0)
    # raised: the new units come through the ledger
    response = admin_client.post_form(f"/admin/groups/{campaign_id}", _form(app, skus, stock_cap="40"))
    assert response.status_code == 303
    assert _campaigns(app)[0][3:5] == (40, 38)
    assert _unit_entries(app)[3:] == [(-28, 0, "stock cap", "cap", "2"), (38, 38, "stock cap", "cap", "3")]
    with app.app_context():
        assert db.session.scalar(select(func.sum(CampaignUnitEntry.delta))) == 38
    # the edit page shows the figures
    page = admin_client.get(f"/admin/groups/{campaign_id}", headers=EN).get_data(as_text=True)
    assert "Units left: 38 of 40" in page and 'value="40"' in page


def test_new_opened_without_a_product_asks_for_one_without_an_error(app, admin_client):
    product, _skus = product_with_skus(title="拼团苹果")
    response = admin_client.get("/admin/groups/new", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required" not in html and 'class="error"' not in html
    assert 'data-testid="choose-product"' in html and 'name="q_product_id"' in html
    # chosen with the picker, the form is shown
    response = admin_client.get(f"/admin/groups/new?product_id=product:{product.id}", headers=EN)
    assert response.status_code == 200 and "拼团苹果" in response.get_data(as_text=True)
    # the choice form sent with nothing chosen is still an error
    response = admin_client.get("/admin/groups/new?product_id=", headers=EN)
    assert response.status_code == 422 and "This field is required" in response.get_data(as_text=True)
    # a search without JavaScript: the matches, no "required" error
    response = admin_client.get("/admin/groups/new?product_id=&q_product_id=拼团", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'value="product:{product.id}"' in html
    assert "This field is required" not in html
    assert _campaigns(app) == []
