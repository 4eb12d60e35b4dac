"""The dashboard's date shortcuts, each figure beside the period just before it, and the
backoffice home's summary of today against yesterday (shop.analytics.services)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from shop.analytics import services
from shop.analytics.forms import shortcut_ranges
from shop.analytics.services import Change, previous_range
from shop.db import local_day, utcnow
from tests.analytics.helpers import D1, D2, at, known_dataset
from tests.conftest import counted_queries

EN = {"Accept-Language": "en"}


def _delta(body: str, figure: str) -> str:
    """The change shown beside one figure, as text."""
    found = re.search(rf'id="fig-{figure}">[^<]*</strong><small class="delta (\w+)[^"]*">(.*?)</small>',
                      body, re.S)
    assert found, figure
    return found.group(1) + " " + " ".join(found.group(2).split())


def test_a_change_in_integers_with_no_share_of_nothing():
    assert Change(150, 100).diff == 50 and Change(150, 100).percent_bp == 5000
    assert Change(200, 520).percent_bp == -6154  # -61.538...%: half away from zero
    assert Change(1, 3).percent_bp == -6667
    assert Change(2, 3).percent_bp == -3333
    assert Change(7, 0).percent_bp is None and Change(7, 0).direction == "up"
    assert Change(0, 0).percent_bp is None and Change(0, 0).direction == "same"
    assert Change(0, 5).percent_bp == -10000 and Change(0, 5).direction == "down"
    # money: a sum of minor units too large for a float's exact integers stays exact
    big = 10 ** 17 + 1
    assert Change(2 * big, big).diff == big and Change(2 * big, big).percent_bp == 10000


def test_the_previous_range_has_as_many_days_just_before():
    assert previous_range(date(2026, 11, 1), date(2026, 11, 3)) == (date(2026, 10, 29),
                                                                   date(2026, 10, 31))
    assert previous_range(date(2026, 3, 1), date(2026, 3, 1)) == (date(2026, 2, 28),
                                                                  date(2026, 2, 28))
    assert previous_range(date(2024, 3, 1), date(2024, 3, 31)) == (date(2024, 1, 30),
                                                                   date(2024, 2, 29))


def test_shortcut_ranges():
    today = date(2026, 12, 7)
    spans = {key: (first, last) for key, _label, first, last in shortcut_ranges(today)}
    assert spans == {"today": (today, today), "7d": (date(2026, 12, 1), today),
                     "30d": (date(2026, 11, 8), today), "90d": (date(2026, 9, 9), today),
                     "month": (date(2026, 12, 1), today)}


def test_the_shortcuts_are_plain_links_and_the_current_one_is_marked(app, admin_client):
    body = admin_client.get("/admin/data/", headers=EN).get_data(as_text=True)
    with app.app_context():
        today = local_day(utcnow())
    links = dict(re.findall(r'<a href="([^"]+)"(?: aria-current="page")? data-shortcut="(\w+)"', body))
    links = {key: url.replace("&amp;", "&") for url, key in links.items()}
    assert links["today"] == f"/admin/data/?start={today.isoformat()}&end={today.isoformat()}"
    assert links["90d"] == (f"/admin/data/?start={(today - timedelta(days=89)).isoformat()}"
                            f"&end={today.isoformat()}")
    # the default range (the last 30 days) is the 30-day shortcut, marked as current
    assert re.findall(r'aria-current="page" data-shortcut="(\w+)"', body) == ["30d"]
    for key in ("today", "7d", "90d", "month"):  # each link leads to its figures, marked
        page = admin_client.get(links[key], headers=EN).get_data(as_text=True)
        assert 'id="fig-visitors"' in page and "Compared with the" in page
        # "month" and "7d" are the same days on the 7th, "month" and "today" on the 1st
        assert key in re.findall(r'aria-current="page" data-shortcut="(\w+)"', page)


def test_each_figure_is_shown_beside_the_days_before(app, admin_client):
    known_dataset(app)
    body = admin_client.get("/admin/data/?start=2026-11-02&end=2026-11-02",
                            headers=EN).get_data(as_text=True)
    assert "Compared with the previous 1 day: Nov 1, 2026 – Nov 1, 2026" in body
    # D2 against D1 (tests/analytics/helpers.py): visitors 2 and 2, page views 3 and 4,
    # orders 2 and 1, GMV 520.00 and 120.00, refunds 30.00 and 0
    assert _delta(body, "visitors") == "same before: 2 · 0 (0%)"
    assert _delta(body, "page-views") == "down before: 4 · -1 (-25%)"
    assert _delta(body, "orders") == "up before: 1 · +1 (+100%)"
    assert re.fullmatch(r"up before: CN¥120\.00 · \+CN¥400\.00 \(\+333\.33%\)", _delta(body, "gmv"))
    assert re.fullmatch(r"up before: CN¥0\.00 · \+CN¥30\.00 \(new\)", _delta(body, "refunded"))
    # conversion: D2 both visitors paid (100%), D1 one of two (50%): 50 points more
    assert 'id="fig-conversion">100%<' in body
    assert _delta(body, "conversion") == "up before: 50% · +50%"

    down = admin_client.get("/admin/data/?start=2026-11-03&end=2026-11-03",
                            headers=EN).get_data(as_text=True)
    assert re.fullmatch(r"down before: CN¥520\.00 · -CN¥320\.00 \(-61\.54%\)", _delta(down, "gmv"))

    nothing_before = admin_client.get("/admin/data/?start=2026-10-31&end=2026-11-01",
                                      headers=EN).get_data(as_text=True)
    assert _delta(nothing_before, "orders") == "up before: 0 · +1 (new)"
    assert _delta(nothing_before, "customers").endswith("(new)")
    assert _delta(nothing_before, "refunded") == "same before: CN¥0.00 · CN¥0.00 (—)"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_comparison_renders_in_both_languages_and_in_a_fragment(app, admin_client, lang):
    known_dataset(app)
    url = "/admin/data/?start=2026-11-02&end=2026-11-03"
    page = admin_client.get(url, headers={"Accept-Language": lang})
    assert page.status_code == 200 and page.get_data(as_text=True).count('class="delta ') == 12
    fragment = admin_client.get(url, headers={"Accept-Language": lang, "HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and body.count('class="delta ') == 12


def test_the_page_costs_the_same_queries_for_a_day_or_ninety(app, admin_client):
    known_dataset(app)
    counts = []
    for query in ("start=2026-11-02&end=2026-11-02", "start=2026-11-01&end=2026-11-03",
                  "start=2026-08-06&end=2026-11-03"):
        with counted_queries(app) as statements:
            assert admin_client.get(f"/admin/data/?{query}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] <= 40, counts


def test_today_against_yesterday(app):
    known_dataset(app)
    with app.app_context():
        found = services.today_vs_yesterday(at(D2))
        assert found.day == D2 and found.currency == "CNY"
        assert (found.visitors.current, found.visitors.previous) == (2, 2)
        assert (found.orders.current, found.orders.previous) == (2, 1)
        assert (found.paid_orders.current, found.paid_orders.previous) == (2, 1)
        assert (found.paid_minor.current, found.paid_minor.previous) == (52000, 12000)
        assert found.paid_minor.percent_bp == 33333
        assert (found.conversion_bp.current, found.conversion_bp.previous) == (10000, 5000)
        quiet = services.today_vs_yesterday(at(D1 - timedelta(days=5)))
        assert quiet.paid_minor == Change(0, 0) and quiet.paid_minor.percent_bp is None


def test_the_signals_say_how_many_ask_for_attention(app):
    from tests.factories import ProductFactory

    with app.app_context():
        assert services.signals().count == 0
    ProductFactory(on_sale_since=utcnow() - timedelta(days=20))
    with app.app_context():
        assert services.signals().count == 1


def test_more_refunds_are_not_shown_as_good_news(app):
    from flask import render_template_string

    from shop.analytics.services import Change

    with app.test_request_context():
        macro = '{% from "admin/analytics/_charts.html" import delta %}'
        sales = render_template_string(macro + "{{ delta(c) }}", c=Change(200, 100))
        refunds = render_template_string(macro + "{{ delta(c, 'count', None, True) }}", c=Change(200, 100))
    assert 'class="delta up good"' in sales and 'class="delta up bad"' in refunds


def test_the_homes_signal_count_is_the_signals_page_count(app):
    from shop.analytics.services import signals, signals_count
    from tests.factories import ArticleFactory, ProductMilestoneFactory, product_with_skus

    product, _skus = product_with_skus()
    ProductMilestoneFactory(product_id=product.id)
    ArticleFactory(repromote_days=15, repromote_due_at=utcnow() - timedelta(days=1))
    with app.app_context():
        assert signals_count() == signals().count >= 2
