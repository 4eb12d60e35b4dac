"""The dashboard, its exports and the signals page: who may see them, what bad input
gets, what the pages show of the known dataset, and CSV cells that can not run."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop.analytics.models import Hit
from shop.db import db, local_day, utcnow
from tests.analytics.helpers import known_dataset
from tests.conftest import signed_in
from tests.factories import ProductFactory

URLS = ("/admin/data/", "/admin/data/?start=2026-11-01&end=2026-11-03",
        "/admin/data/export.csv?start=2026-11-01&end=2026-11-03&table=daily",
        "/admin/data/signals")


@pytest.mark.parametrize("role", ["shopper", "editor", "staff"])
def test_only_admins_see_the_figures(app, role):
    client, _user = signed_in(app, role)
    for url in URLS:
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code == 403, url
        assert "You do not have permission" in response.get_data(as_text=True)
        # The figures' own markers: a bare "GMV" can turn up inside a random CSRF token.
        assert 'id="fig-gmv"' not in response.get_data(as_text=True)
        assert "text/csv" not in response.content_type


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/signin" in response.headers["Location"], url


@pytest.mark.parametrize("query, message", [
    ("start=2026-11-03&end=2026-11-01", "The range ends before it starts"),
    ("start=2026-02-30&end=2026-03-01", "There is no such day"),
    ("start=2026-11-01&end=tomorrow", "There is no such day"),
    ("start=2024-01-01&end=2026-11-01", "Choose at most 366 days"),
    ("start=2026-11-01", "This field is required"),
    ("start=9999-12-30&end=9999-12-31", "Choose days from 2000-01-01 to 2999-12-31"),
    ("start=0001-01-01&end=0001-01-02", "Choose days from 2000-01-01 to 2999-12-31"),
])
def test_a_bad_range_is_said_so_and_shows_no_figures(app, admin_client, query, message):
    known_dataset(app)
    for url in (f"/admin/data/?{query}", f"/admin/data/export.csv?{query}&table=daily"):
        response = admin_client.get(url, headers={"Accept-Language": "en"})
        body = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert message in body and 'id="fig-gmv"' not in body and response.mimetype == "text/html"
    fragment = admin_client.get(f"/admin/data/?{query}", headers={"HX-Request": "true",
                                                                  "Accept-Language": "en"})
    assert fragment.status_code == 400 and message in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)


def test_an_unknown_export_is_refused(app, admin_client):
    response = admin_client.get("/admin/data/export.csv?start=2026-11-01&end=2026-11-03&table=users")
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_the_dashboard_shows_the_figures_and_charts(app, admin_client):
    known_dataset(app)
    body = admin_client.get("/admin/data/?start=2026-11-01&end=2026-11-03",
                            headers={"Accept-Language": "en"}).get_data(as_text=True)
    for figure, shown in [("visitors", "4"), ("page-views", "9"), ("orders", "5"),
                          ("paid-orders", "4"), ("customers", "3"), ("gmv", "840.00"),
                          ("aov", "210.00"), ("refunded", "30.00"), ("repurchase", "33.33%"),
                          ("new", "2"), ("returning", "1"), ("groups-complete", "2"),
                          ("groups-failed", "1"), ("group-rate", "66.67%")]:
        assert f'id="fig-{figure}">' in body, figure
        value = body.split(f'id="fig-{figure}">', 1)[1].split("<", 1)[0]
        assert shown in value, (figure, value)
    assert body.count('<figure class="chart">') == 2 and body.count('class="funnel"') == 1
    assert body.count("<rect") == 3 + 3 + 5  # a bar per day in each chart, one per stage
    assert "分销员X" in body and "好文章" in body and "满减券K" in body and "4,000%" in body
    with app.app_context():  # looking at figures writes nothing
        assert db.session.scalar(select(func.count()).select_from(Hit)) == 13


def test_the_default_range_is_the_last_30_days(app, admin_client):
    body = admin_client.get("/admin/data/").get_data(as_text=True)
    assert 'id="fig-visitors">0<' in body and 'name="start"' in body
    with app.app_context():
        today = local_day(utcnow())
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in body
    assert f'value="{today.isoformat()}"' in body
    assert body.count('<rect x=') == 30 + 30 + 5  # a bar per day in each chart


def test_csv_exports_neutralise_formula_cells(app, admin_client):
    data = known_dataset(app)
    with app.app_context():
        from shop.catalog.models import Product
        db.session.get(Product, data.p2.id).title = "=HYPERLINK(\"http://evil\",\"x\")"
        db.session.get(Product, data.p1.id).title = "@SUM(1+1)"
        db.session.commit()
    response = admin_client.get("/admin/data/export.csv?start=2026-11-01&end=2026-11-03&table=products",
                                headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["Product", "Units", "Orders", "Revenue (CNY)"],
                    ["'=HYPERLINK(\"http://evil\",\"x\")", "3", "2", "600.00"],
                    ["'@SUM(1+1)", "2", "2", "240.00"]]
    for name, expected in [
            ("daily", [["2026-11-01", "2", "4", "1", "1", "120.00"],
                       ["2026-11-02", "2", "3", "2", "2", "520.00"],
                       ["2026-11-03", "2", "2", "2", "1", "200.00"]]),
            ("sources", [["Share link", "2", "1", "2", "520.00", "260.00"],
                         ["Article", "1", "1", "1", "90.00", "90.00"],
                         ["Campaign (utm)", "1", "0", "0", "0.00", "0.00"]]),
            ("articles", [["好文章", "1", "1", "120.00"]]),
            ("distributors", [["分销员X", "2", "520.00", "12.00"]]),
            ("coupons", [["满减券K", "1", "1", "10.00", "400.00"]])]:
        text = admin_client.get(f"/admin/data/export.csv?start=2026-11-01&end=2026-11-03&table={name}",
                                headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:] == expected, name


def test_neutral_cells():
    from shop.analytics.export import Number, neutral

    assert [neutral(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx", "ok", "中-文")] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "ok", "中-文"]
    assert str(neutral(Number("-12.50"))) == "-12.50" and neutral(-3) == -3


def test_signals_page_lists_nothing_on_a_new_shop(app, admin_client):
    ProductFactory(on_sale_since=None)
    body = admin_client.get("/admin/data/signals", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No product crossed 100 or 1,000 sales" in body and "No article is due" in body
