"""The two-level commission pool fits under the margin floor: level 1 and level 2
together may take at most what the floor leaves of what is paid for the goods (90 % with
the default 10 % floor), for the shop's defaults, a distributor level and a product's or
SKU's rate; a higher floor is refused while a rate would not fit. The backoffice says why
on the field, and nothing changes."""

from sqlalchemy import func, select

from shop.db import db
from shop.referrals.models import CommissionRate, DistributorLevel, ReferralSettings
from tests.factories import product_with_skus

EN = {"Accept-Language": "en"}
WHY = "Level 1 and level 2 together may take at most 90.00% of what is paid for the goods: the margin floor keeps 10.00%."


def _settings_form(**changes):
    form = {"mode": "everyone", "threshold_minor": "0", "binding_rule": "first_visit",
            "binding_days": "0", "cookie_days": "7", "level1_bp": "1000", "level2_bp": "500",
            "settle_days": "7", "margin_floor_bp": "1000", "withdraw_min_minor": "10.00",
            "withdraw_fee_bp": "0"}
    return dict(form, **changes)


def test_a_pool_of_sixty_and_sixty_percent_is_refused_with_the_reason(app, admin_client):
    response = admin_client.post_form("/admin/distribution/settings",
                                      _settings_form(level1_bp="6000", level2_bp="6000"), headers=EN)
    assert response.status_code == 422 and WHY in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ReferralSettings, 1) is None  # nothing saved
    response = admin_client.post_form("/admin/distribution/settings",
                                      _settings_form(level1_bp="6000", level2_bp="3000"), headers=EN)
    assert response.status_code == 303  # 90 % in all: what the floor leaves


def test_a_level_or_a_products_rate_of_a_hundred_and_a_hundred_is_refused(app, admin_client):
    response = admin_client.post_form("/admin/distribution/levels",
                                      {"name": "贪心", "level1_bp": "10000", "level2_bp": "10000"},
                                      headers=EN)
    assert response.status_code == 422 and WHY in response.get_data(as_text=True)
    product, (sku, _) = product_with_skus()
    for sku_id in ("0", str(sku.id)):
        response = admin_client.post_form(f"/admin/distribution/rates/{product.id}",
                                          {"sku_id": sku_id, "level1_bp": "10000", "level2_bp": "10000"},
                                          headers=EN)
        assert response.status_code == 422 and WHY in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DistributorLevel)) == 0
        assert db.session.scalar(select(func.count()).select_from(CommissionRate)) == 0


def test_a_higher_floor_is_refused_while_a_rate_would_not_fit_under_it(app, admin_client):
    product, _skus = product_with_skus()
    assert admin_client.post_form(f"/admin/distribution/rates/{product.id}",
                                  {"sku_id": "0", "level1_bp": "6000", "level2_bp": "2000"}
                                  ).status_code == 303
    response = admin_client.post_form("/admin/distribution/settings",
                                      _settings_form(margin_floor_bp="3000"), headers=EN)
    assert response.status_code == 422
    assert ("A distributor level or a product rate pays 80.00% in all, more than this margin "
            "floor leaves (70.00%): lower it first.") in response.get_data(as_text=True)
    assert admin_client.post_form("/admin/distribution/settings",
                                  _settings_form(margin_floor_bp="2000")).status_code == 303
