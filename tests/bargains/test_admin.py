"""The bargain backoffice: admins only; a campaign's form refuses prices that leave no
room for every cut, with a form error, and creates nothing."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from shop.bargains import services
from shop.bargains.models import BargainCampaign
from shop.db import db
from tests.bargains.helpers import EN, buy_form, cut_by_new_helpers
from tests.conftest import signed_in
from tests.factories import BargainCampaignFactory, BargainFactory, SkuFactory

FORM = {"sku_id": "", "start_price_minor": "100.00", "floor_price_minor": "9.90",
        "helpers_needed": "5", "hours": "24", "starts_at": "2030-01-01T08:00",
        "ends_at": "2030-01-08T08:00", "active": "y"}


def _campaigns(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BargainCampaign))


@pytest.mark.parametrize("role", ["anonymous", "shopper", "editor", "staff"])
def test_only_admins_get_in(app, role):
    campaign = BargainCampaignFactory()
    client = app.test_client() if role == "anonymous" else signed_in(app, role)[0]
    sku = SkuFactory()
    form = dict(FORM, sku_id=f"sku:{sku.id}")
    for url in ("/admin/bargains/", "/admin/bargains/new", f"/admin/bargains/{campaign.id}"):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and response.headers["Location"].startswith("/signin?next=")
        else:
            assert response.status_code == 403, url
    for url in ("/admin/bargains/new", f"/admin/bargains/{campaign.id}"):
        assert client.post_form(url, form).status_code == (302 if role == "anonymous" else 403)
    assert _campaigns(app) == 1
    with app.app_context():
        assert db.session.get(BargainCampaign, campaign.id).sku_id == campaign.sku_id


def test_an_admin_creates_a_campaign_in_the_shops_time_zone(app, admin_client):
    sku = SkuFactory(product__cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    response = admin_client.post_form("/admin/bargains/new", dict(FORM, sku_id=f"sku:{sku.id}"))
    assert response.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(select(BargainCampaign))
        assert (campaign.sku_id, campaign.product_id, campaign.currency) == (sku.id, sku.product_id, "CNY")
        assert (campaign.start_price_minor, campaign.floor_price_minor) == (10000, 990)
        assert (campaign.helpers_needed, campaign.hours, campaign.active) == (5, 24, True)
        assert campaign.starts_at == datetime(2030, 1, 1, 0, 0, tzinfo=timezone.utc)  # 08:00 Shanghai
        assert campaign.ends_at == datetime(2030, 1, 8, 0, 0, tzinfo=timezone.utc)
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="100.00"' in page and 'value="9.90"' in page and 'value="2030-01-01T08:00"' in page
    assert f'value="sku:{sku.id}" checked' in page and sku.code in page


def test_an_admin_edits_a_campaign_and_bargains_started_keep_their_prices(app, admin_client):
    bargain = BargainFactory(campaign__sku__product__cost_price_minor=0)  # no cost: the below-cost guard (test_below_cost.py) stays out of this test
    campaign_id = bargain.campaign_id
    with app.app_context():
        sku_id = db.session.get(BargainCampaign, campaign_id).sku_id
        code = db.session.get(BargainCampaign, campaign_id).sku.code
    form = dict(FORM, sku_id=f"sku:{sku_id}", start_price_minor="50.00", floor_price_minor="5.00", active="")
    assert admin_client.post_form(f"/admin/bargains/{campaign_id}", form).status_code == 303
    with app.app_context():
        campaign = db.session.get(BargainCampaign, campaign_id)
        assert (campaign.start_price_minor, campaign.floor_price_minor, campaign.active) == (5000, 500, False)
        assert (bargain.start_price_minor, bargain.floor_price_minor) == (10000, 1000)
    assert admin_client.get("/admin/bargains/999999").status_code == 404

    # another item, once bargains have started: refused, the campaign keeps its SKU
    other = SkuFactory(product__cost_price_minor=0)
    form = dict(form, sku_id=f"sku:{other.id}")
    response = admin_client.post_form(f"/admin/bargains/{campaign_id}", form, headers=EN)
    assert response.status_code == 422
    assert "The item can not change once bargains have started" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(BargainCampaign, campaign_id).sku.code == code


@pytest.mark.parametrize("change,field,message", [
    ({"floor_price_minor": "120.00"}, "floor", "The floor price must be below the start price."),
    ({"floor_price_minor": "100.00"}, "floor", "The floor price must be below the start price."),
    ({"floor_price_minor": "99.97"}, "start", "above the floor by at least 0.01 per helper"),
    ({"floor_price_minor": "0"}, "floor", "The floor price must be at least 0.01."),
    ({"helpers_needed": "101"}, "helpers", "Enter a whole number from 1 to 100."),
    ({"hours": "0"}, "hours", "Enter a whole number from 1 to 720."),
    ({"ends_at": "2030-01-01T07:00"}, "ends", "The campaign must end after it starts."),
    ({"start_price_minor": "1.234"}, "start", ""),
    ({"sku_id": "sku:999999"}, "sku", "No SKU has this number: 999999."),
    ({"sku_id": "product:1"}, "sku", "This takes an SKU, not a product."),
])
def test_bad_campaigns_are_refused_with_a_form_error_and_create_nothing(app, admin_client, change, field, message):
    sku = SkuFactory()
    form = {**FORM, "sku_id": f"sku:{sku.id}", **change}
    response = admin_client.post_form("/admin/bargains/new", form, headers=EN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and message in html
    assert _campaigns(app) == 0


def test_the_list_counts_started_completed_bought_and_paid(app, admin_client):
    from shop.orders import services as orders
    from shop.orders.models import Order
    from shop.wallet import services as wallet

    campaign = BargainCampaignFactory()
    empty = BargainCampaignFactory()
    BargainFactory(campaign=campaign)  # started only
    done = BargainFactory(campaign=campaign)
    cut_by_new_helpers(app, done.id, 5)
    owner_client, owner = signed_in(app)
    bought = BargainFactory(campaign=campaign, user_id=owner.id)
    response = owner_client.post_form(f"/bargains/{bought.id}/buy", buy_form(owner_client, bought.id))
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        order = db.session.get(Order, order_id)
        wallet.move(owner.id, order.total_minor, reason="t", ref_type="test", ref_id="o1")
        orders.pay_with_wallet(order, owner.id)
        db.session.commit()
        figures = dict((c.id, f) for c, f in services.admin_campaigns())
    assert figures[campaign.id] == services.CampaignFigures(started=3, completed=1, ordered=1, paid=1)
    assert figures[empty.id] == services.CampaignFigures()
    html = admin_client.get("/admin/bargains/").get_data(as_text=True)
    assert f"/admin/bargains/{campaign.id}" in html and f"/admin/bargains/{empty.id}" in html
