"""The address picker's district search (shop.divisions.search, orders/_divisions.html):
its matches by district, city or province name, best first and at most eight; its htmx
fragment (GET, nothing changed) and its input boundary; a match picked fills the three
selects, with htmx (the picker's fragment) and without JavaScript (the form posted back,
nothing saved)."""

from __future__ import annotations

import re

import pytest

from sqlalchemy import func, select

from shop import divisions
from shop.db import db
from shop.orders import addresses
from shop.orders.models import Order
from tests.conftest import ADDRESS, signed_in
from tests.factories import product_with_skus

EN = {"Accept-Language": "en"}
SEARCH = "/me/addresses/divisions/search"


def _labels(html: str) -> list[str]:
    return re.findall(r'data-testid="district-match">([^<]+)</button>', html)


@pytest.mark.pages
def test_the_search_matches_districts_by_their_own_their_citys_or_their_provinces_name():
    labels = lambda query: [p.label for p in divisions.search(query)]  # noqa: E731
    assert labels("海淀") == ["北京市 · 海淀区"]
    # a city's name lists its districts, at most eight
    shenzhen = labels("深圳")
    assert len(shenzhen) == 8 and all(label.startswith("广东省 · 深圳市 · ") for label in shenzhen)
    assert labels("深圳 光明") == ["广东省 · 深圳市 · 光明区"]  # every word must match
    # districts named so come first, then those holding the word (东西湖区 last)
    assert labels("西湖") == ["浙江省 · 杭州市 · 西湖区", "江西省 · 南昌市 · 西湖区",
                            "湖北省 · 武汉市 · 东西湖区"]
    assert labels("杭州·西湖") == labels("杭州 西湖") == ["浙江省 · 杭州市 · 西湖区"]
    assert labels("海") == labels("  ") == labels(None) == labels("火星") == []
    assert len(divisions.search("区", limit=3)) == 0 and len(divisions.search("北京", limit=3)) == 3
    assert divisions.place("330106").label == "浙江省 · 杭州市 · 西湖区"
    assert divisions.place("3301") is divisions.place("33") is divisions.place("x") is None


def test_the_search_fragment_lists_matches_as_buttons_that_load_the_picker(client):
    response = client.get(SEARCH, query_string={"district_search": "海淀"}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and _labels(html) == ["北京市 · 海淀区"]
    assert ('name="district_pick" value="110108"' in html
            and 'hx-get="/me/addresses/divisions?district_pick=110108"' in html)
    assert len(_labels(client.get(SEARCH, query_string={"district_search": "深圳"}).get_data(as_text=True))) == 8
    # too short, empty: nothing listed and nothing said; no match: said
    for query in ("海", "", " "):
        html = client.get(SEARCH, query_string={"district_search": query}, headers=EN).get_data(as_text=True)
        assert html.strip() == "", query
    html = client.get(SEARCH, query_string={"district_search": "火星"}, headers=EN).get_data(as_text=True)
    assert "No district matches “火星”." in html and not _labels(html)
    # a control character: refused at the input boundary
    response = client.get(SEARCH, query_string={"district_search": "海淀\x00"}, headers=EN)
    assert response.status_code == 400 and "control characters" in response.get_data(as_text=True)


def test_a_picked_district_comes_back_in_the_picker_with_its_city_and_province(client):
    html = client.get("/me/addresses/divisions?district_pick=330106", headers=EN).get_data(as_text=True)
    for code, name in (("33", "浙江省"), ("3301", "杭州市"), ("330106", "西湖区")):
        assert f'<option selected value="{code}">{name}</option>' in html
    assert 'data-testid="district-search"' in html and 'hx-get="/me/addresses/divisions/search"' in html
    assert 'data-testid="divisions" data-picked>' in html  # page.js sends the change for it
    for bad in ("3301", "33", "999999", "西湖区"):  # not a district: nothing chosen
        html = client.get("/me/addresses/divisions", query_string={"district_pick": bad}).get_data(as_text=True)
        assert "<option selected value" not in html and "data-picked" not in html, bad


def test_without_javascript_a_search_and_a_pick_post_the_form_back_and_save_nothing(app):
    client, user = signed_in(app)
    page = client.get("/me/addresses/new", headers=EN).get_data(as_text=True)
    assert '<noscript><button type="submit" name="divisions" value="search"' in page
    assert '<label for="district_search">Search a district</label>' in page
    typed = {**ADDRESS, "province": "", "city": "", "district": ""}
    response = client.post_form("/me/addresses/new", {**typed, "district_search": "海淀",
                                                      "divisions": "search"}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="error"' not in html
    assert _labels(html) == ["北京市 · 海淀区"] and 'value="海淀"' in html
    # Enter in the search box sends the form's own button: a search while no district is
    # chosen, at checkout too (never an order placed)
    response = client.post_form("/me/addresses/new", {**typed, "district_search": "海淀"},
                                headers=EN)
    assert response.status_code == 200 and _labels(response.get_data(as_text=True)) == ["北京市 · 海淀区"]
    product, (sku, _other) = product_with_skus()
    client.post_form("/cart/add", {"sku_id": sku.id, "quantity": 1})
    checkout = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', checkout).group(1)
    response = client.post_form("/checkout", {**typed, "district_search": "海淀", "token": token},
                                headers=EN)
    assert _labels(response.get_data(as_text=True)) == ["北京市 · 海淀区"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0
    response = client.post_form("/me/addresses/new", {**typed, "district_search": "海淀",
                                                      "district_pick": "110108"}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="error"' not in html and not _labels(html)
    assert '<option selected value="110108">海淀区</option>' in html and 'value="海淀"' not in html
    assert 'value="文三路 1 号"' in html  # what was typed stays
    with app.app_context():
        assert addresses.book(user.id) == []
    # saved with the three codes the pick chose
    assert client.post_form("/me/addresses/new", {**ADDRESS, "province": "11", "city": "1101",
                                                  "district": "110108"}).status_code == 303
    with app.app_context():
        assert [a.district_code for a in addresses.book(user.id)] == ["110108"]
