"""The audit log page: admins only; each entry a sentence; filters by who (a staff
account picked by name), area, action (its phrase), kind of thing, table, outcome and days
in the shop's time zone; a wrong filter is a 400 with the reason and no rows."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.conftest import counted_queries, signed_in
from tests.factories import AuditEntryFactory, UserFactory

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true"}
STORE_CHANGE = [{"table": "stores", "id": 7, "op": "update",
                 "before": {"name": "老店", "active": True}, "after": {"name": "新店", "active": False}}]


def _ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'data-entry-id="(\d+)"', response.get_data(as_text=True))]


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def entries(app):
    """Five entries by two admins and a staff member, oldest first."""
    li = UserFactory(role="admin", email="li.admin@example.com", nickname="小李")
    wang = UserFactory(role="admin", email="wang@example.com", nickname="老王")
    staff = UserFactory(role="staff", email="zhao@example.com", nickname="赵店员")
    return {
        "edit": AuditEntryFactory(actor_id=li.id, created_at=_at(2026, 3, 1, 15, 59),
                                  target="store_id=7", path="/admin/stores/7", changes=STORE_CHANGE),
        "price": AuditEntryFactory(actor_id=wang.id, created_at=_at(2026, 3, 1, 16, 0),
                                   endpoint="catalog_admin.product_form", target="product_id=4",
                                   path="/admin/catalog/products/4",
                                   changes=[{"table": "products", "id": 4, "op": "update",
                                             "before": {"price_minor": 1990}, "after": {"price_minor": 1590}},
                                            {"table": "skus", "id": 9, "op": "update",
                                             "before": {"price_minor": 1990}, "after": {"price_minor": 1590}}]),
        "refused": AuditEntryFactory(actor_id=li.id, created_at=_at(2026, 3, 2, 3, 0),
                                     endpoint="catalog_admin.product_form", status=422,
                                     form={"title": ""}),
        "denied": AuditEntryFactory(actor_id=staff.id, actor_role="staff", created_at=_at(2026, 3, 3, 12, 0),
                                    endpoint="stores_admin.store_form", status=403),
        "wallet": AuditEntryFactory(actor_id=wang.id, created_at=_at(2026, 3, 4, 12, 0),
                                    endpoint="wallet.adjust", path="/admin/wallet", target="",
                                    changes=[{"table": "wallets", "op": "statement",
                                              "sql": "UPDATE wallets SET balance_minor=..."}]),
        "users": {"li": li, "wang": wang, "staff": staff},
    }


def test_the_admin_sees_the_log_newest_first_with_who_what_and_the_changes(app, admin_client, entries):
    response = admin_client.get("/admin/audit/", headers=EN)
    assert response.status_code == 200
    assert _ids(response) == [entries[k].id for k in ("wallet", "denied", "refused", "price", "edit")]
    html = response.get_data(as_text=True)
    # who by nickname and role, what in words: never an endpoint's name or an HTTP status
    assert "小李" in html and "赵店员" in html and "(Store staff)" in html and "(Admin)" in html
    rows = html.split('data-testid="audit-log"', 1)[1]  # (the action filter's values name endpoints)
    assert "catalog_admin.product_form" not in rows and "stores_admin" not in rows and "303 Done" not in rows
    assert re.search(r"老王</strong>.*?changed the price of product #4 \(deleted\)\s*</span>", html, re.S)
    assert re.search(r'赵店员</strong>.*?refused</span> change store #1 \(deleted\)\s*<small class="muted">\(not allowed\)', html, re.S)
    assert re.search(r'refused</span> create product\s*<small class="muted">\(the form had errors\)', html)
    assert "adjusted the wallet of a customer" in html
    edit_row = html[html.index(f'data-entry-id="{entries["edit"].id}"'):]
    assert re.search(r"<details><summary>1 change</summary>.*?<th scope=\"row\"><code>name</code></th><td>老店</td><td>新店</td>"
                     r".*?<th scope=\"row\"><code>active</code></th><td>true</td><td>false</td>", edit_row, re.S)
    assert "UPDATE wallets SET balance_minor=..." in html


@pytest.mark.parametrize("query, expected", [
    ({"domain": "catalog_admin"}, ["refused", "price"]),
    ({"domain": "wallet"}, ["wallet"]),
    ({"endpoint": "stores_admin.store_form"}, ["denied", "edit"]),
    ({"kind": "store"}, ["denied", "edit"]),
    ({"kind": "product"}, ["refused", "price"]),
    ({"kind": "coupon"}, []),
    ({"table": "skus"}, ["price"]),
    ({"table": "Stores"}, ["edit"]),
    ({"table": "store"}, []),  # a table by its whole name
    ({"table": "wallets"}, ["wallet"]),
    ({"status": "ok"}, ["wallet", "price", "edit"]),
    ({"status": "refused"}, ["denied", "refused"]),
    # days in Asia/Shanghai (UTC+8): 2026-03-01 15:59 UTC is 23:59 on the 1st there
    ({"since": "2026-03-01", "until": "2026-03-01"}, ["edit"]),
    ({"since": "2026-03-02", "until": "2026-03-02"}, ["refused", "price"]),
    ({"since": "2026-03-03"}, ["wallet", "denied"]),
    ({"until": "2026-03-02"}, ["refused", "price", "edit"]),
    ({"since": "0001-01-01", "until": "9999-12-31"}, ["wallet", "denied", "refused", "price", "edit"]),
    ({"since": "9999-12-31"}, []),
    ({"status": "refused", "domain": "catalog_admin"}, ["refused"]),
])
def test_the_log_filters(app, admin_client, entries, query, expected):
    response = admin_client.get("/admin/audit/", query_string=query)
    assert response.status_code == 200
    assert _ids(response) == [entries[key].id for key in expected]


def test_the_actor_is_picked_by_name_from_the_staff_accounts(app, admin_client, entries):
    users = entries["users"]
    html = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    select = html.split('name="actor"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{users["staff"].id}">赵店员 · Store staff · zhao@example.com</option>' in select
    assert f'value="{users["li"].id}">小李 · Admin' in select
    shopper = UserFactory(role="shopper", nickname="顾客甲")
    assert "顾客甲" not in admin_client.get("/admin/audit/").get_data(as_text=True)
    for who, expected in (("staff", ["denied"]), ("li", ["refused", "edit"]), ("wang", ["wallet", "price"])):
        response = admin_client.get("/admin/audit/", query_string={"actor": str(users[who].id)})
        assert _ids(response) == [entries[key].id for key in expected], who
    # an account not offered (a shopper who never acted) is not a choice
    response = admin_client.get("/admin/audit/", query_string={"actor": str(shopper.id)}, headers=EN)
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)


def test_the_action_filter_offers_phrases(app, admin_client, entries):
    html = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    select = html.split('name="endpoint"', 1)[1].split("</select>", 1)[0]
    assert '<option value="promotions_admin.new_coupon">create coupon</option>' in select
    kinds = html.split('name="kind"', 1)[1].split("</select>", 1)[0]
    assert '<option value="coupon">coupon</option>' in kinds


@pytest.mark.parametrize("query, message", [
    ({"since": "2026-03-03", "until": "2026-03-01"}, "The end date comes before the start date."),
    ({"since": "2026-02-30"}, "Not a valid date value."),
    ({"until": "next week"}, "Not a valid date value."),
    ({"status": "maybe"}, "Not a valid choice."),
    ({"domain": "nonsense_admin"}, "Not a valid choice."),
    ({"endpoint": "stores_admin"}, "Not a valid choice."),  # an action is one of the phrases
    ({"kind": "spaceship"}, "Not a valid choice."),
    ({"actor": "li.admin"}, "Not a valid choice."),  # people are picked, not typed
    ({"actor": "999999"}, "Not a valid choice."),
])
def test_a_wrong_filter_is_a_400_with_the_reason_and_no_rows(app, admin_client, entries, query, message):
    for headers in (EN, dict(EN, **HX)):
        response = admin_client.get("/admin/audit/", query_string=query, headers=headers)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        assert _ids(response) == []


def test_htmx_gets_the_results_alone_and_the_pages_are_pushable(app, admin_client, entries):
    fragment = admin_client.get("/admin/audit/?status=ok", headers=HX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and len(_ids(fragment)) == 3
    assert "HX-Request" in fragment.headers["Vary"]
    page = admin_client.get("/admin/audit/?status=ok")
    assert "<html" in page.get_data(as_text=True) and _ids(page) == _ids(fragment)


def test_the_log_pages_and_costs_the_same_queries_for_many_rows(app, admin_client):
    actor = UserFactory(role="admin")
    for n in range(55):
        AuditEntryFactory(actor_id=actor.id, created_at=_at(2026, 1, 1, 0, n), changes=STORE_CHANGE)
    with counted_queries(app) as statements:
        first = admin_client.get("/admin/audit/", headers=EN)
    many = len(statements)
    assert len(_ids(first)) == 50 and "Page 1 of 2" in first.get_data(as_text=True)
    second = admin_client.get("/admin/audit/?page=2")
    assert len(_ids(second)) == 5 and set(_ids(first)).isdisjoint(_ids(second))
    assert admin_client.get("/admin/audit/?page=3").status_code == 404
    assert admin_client.get("/admin/audit/?page=abc").status_code == 404
    with counted_queries(app) as statements:
        admin_client.get("/admin/audit/?since=2026-01-01&until=2026-01-01", headers=EN)
    assert len(statements) == many  # a page of 50 rows or of fewer: the same queries


def test_the_entry_page_shows_the_form_and_each_change(app, admin_client, entries):
    response = admin_client.get(f"/admin/audit/{entries['price'].id}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "wang@example.com" in html and "老王" in html and "catalog_admin.product_form" not in html
    assert "product_id=4" not in html
    assert "changed the price of product" in html
    assert re.search(r"price_minor</code></th><td>1990</td><td>1590</td>", html)
    assert "products #4" in html and "skus #9" in html
    refused = admin_client.get(f"/admin/audit/{entries['refused'].id}", headers=EN).get_data(as_text=True)
    assert "Refused: nothing was changed." in refused and '<th scope="row"><code>title</code></th>' in refused
    assert admin_client.get("/admin/audit/999999").status_code == 404


@pytest.mark.parametrize("role", ["editor", "staff", "shopper"])
def test_only_admins_read_the_log(app, entries, role):
    client, _user = signed_in(app, role)
    assert client.get("/admin/audit/").status_code == 403
    assert client.get(f"/admin/audit/{entries['edit'].id}").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(app, client, entries):
    for url in ("/admin/audit/", f"/admin/audit/{entries['edit'].id}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/signin?next=")


def test_the_backoffice_menu_links_the_log_for_admins_only(app, admin_client):
    assert 'href="/admin/audit/"' in admin_client.get("/admin/").get_data(as_text=True)
    for role in ("editor", "staff"):
        client, _user = signed_in(app, role)
        assert 'href="/admin/audit/"' not in client.get("/admin/").get_data(as_text=True)
