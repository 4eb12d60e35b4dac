"""The backoffice shell: its own layout and menu, sign-in landing, and each role's home
with the work waiting, counted, linking to the lists that show it."""

import re

import pytest
from sqlalchemy import update

from shop.admin.navigation import MENU
from shop.db import db
from shop.orders.models import Order
from tests.conftest import signed_in
from tests.factories import (DistributorFactory, PickupCodeFactory, StoreFactory, StoreStaffFactory,
                             UserFactory, WithdrawalFactory, product_with_skus)
from tests.payments.helpers import placed_order

EN = {"Accept-Language": "en"}


def _todo(page: str, label: str) -> tuple[int, str]:
    """(count, link) of the home's to-do with that label."""
    match = re.search(r'<a href="([^"]+)"><strong>(\d+)</strong><span>' + re.escape(label) + "</span>", page)
    assert match, f"no to-do {label!r}"
    return int(match.group(2)), match.group(1).replace("&amp;", "&")


def test_signing_in_lands_staff_on_their_home_and_shoppers_on_their_page(app):
    for role, home in (("admin", "/admin/"), ("editor", "/admin/"), ("staff", "/admin/"),
                       ("shopper", "/me")):
        user = UserFactory(role=role)
        response = app.test_client().signin(user.email)
        assert response.headers["Location"] == home, role
    user = UserFactory(role="admin")  # a page to go back to still wins
    client = app.test_client()
    token = client.csrf_token()
    response = client.post("/signin", data={"email": user.email, "password": "password123",
                                            "next": "/admin/orders", "csrf_token": token})
    assert response.headers["Location"] == "/admin/orders"


def test_the_backoffice_has_its_own_layout_without_the_shoppers_tab_bar(app):
    client, _admin = signed_in(app, "admin")
    page = client.get("/admin/", headers=EN).get_data(as_text=True)
    assert 'class="tabbar"' not in page and 'id="bo-nav"' in page
    for group in ("Orders", "Products", "Marketing", "Content", "Distribution", "Members",
                  "Stores", "Data", "Settings"):
        assert f"<h2>{group}</h2>" in page
    assert 'href="#bo-nav">Menu</a>' in page  # phones reach the menu without JavaScript
    assert 'name="lang" value="zh_Hans"' in page  # the shop's language switch
    shopper_page = client.get("/", headers=EN).get_data(as_text=True)
    assert 'class="tabbar"' in shopper_page


def test_the_menu_marks_the_page_and_its_section(app):
    client, _admin = signed_in(app, "admin")
    page = client.get("/admin/catalog/products/new", headers=EN).get_data(as_text=True)
    assert re.search(r'<a href="/admin/catalog/products" aria-current="page">Products</a>', page)
    assert page.count('aria-current="page"') == 1


@pytest.mark.parametrize("role", ["editor", "publisher", "staff", "admin"])
def test_each_role_is_offered_exactly_the_pages_its_routes_admit(app, role):
    user = UserFactory(role="editor", can_publish=True) if role == "publisher" else UserFactory(role=role)
    client = app.test_client()
    client.signin(user.email)
    page = client.get("/admin/", headers=EN).get_data(as_text=True)
    menu = page[page.index('id="bo-nav"'):]
    offered = set(re.findall(r'<li><a href="([^"]+)"', menu))
    every = {app.url_map.bind("localhost").build(endpoint) for _, entries in MENU for endpoint, *_ in entries}
    assert offered <= every and offered
    for url in every:
        status = client.get(url, headers=EN).status_code
        assert (status == 200) == (url in offered), (role, url, status)
    if role in ("editor", "publisher"):
        assert "<h2>Content</h2>" in menu and "<h2>Orders</h2>" not in menu
        assert ("/admin/articles/review" in offered) == (role == "publisher")
    if role == "staff":
        assert "<h2>Orders</h2>" in menu and "<h2>Stores</h2>" in menu and "<h2>Content</h2>" not in menu


def test_every_menu_entry_is_a_guarded_route(app):
    for _, entries in MENU:
        for endpoint, *_label in entries:
            assert app.view_functions[endpoint].required_roles, endpoint


def test_the_admin_home_counts_the_work_and_links_to_lists_that_show_it(app):
    orders = [placed_order(app)[2] for _ in range(3)]
    with app.app_context():
        db.session.execute(update(Order).where(Order.id.in_(orders[:2])).values(status="refund_requested"))
        db.session.execute(update(Order).where(Order.id == orders[2]).values(status="paid"))
        db.session.commit()
    distributor = DistributorFactory(status="applied")
    WithdrawalFactory(user_id=DistributorFactory(status="approved").user_id, status="requested")
    product_with_skus(skus=(("红", 1990, 2), ("蓝", 1990, 50)), title="快卖完的茶")
    client, _admin = signed_in(app, "admin")
    home = client.get("/admin/", headers=EN).get_data(as_text=True)

    count, url = _todo(home, "Refund requests to handle")
    assert count == 2
    listed = client.get(url, headers=EN).get_data(as_text=True)
    for order_id in orders[:2]:
        assert f"/admin/orders/{order_id}" in listed
    assert f"/admin/orders/{orders[2]}\"" not in listed
    assert _todo(home, "Paid orders to ship")[0] == 1
    assert _todo(home, "Distributor applications")[0] == 1
    assert _todo(home, "Withdrawals to approve")[0] == 1
    count, url = _todo(home, "Low stock")
    listed = client.get(url, headers=EN).get_data(as_text=True)
    tea = listed[listed.index("快卖完的茶"):].split("</tr>")[0]
    assert "Low: Red, 2 left" in tea and "Blue" not in tea  # which SKU is low (blue has 50)
    assert count == listed.count('<tr><td><a href="/admin/catalog/products/')  # as many as listed
    assert distributor.user_id


def test_store_staff_count_the_pickups_waiting_at_their_own_stores_only(app):
    mine, other = StoreFactory(), StoreFactory()
    client, clerk = signed_in(app, "staff")
    StoreStaffFactory(store_id=mine.id, user_id=clerk.id)
    order_ids = [placed_order(app)[2] for _ in range(3)]
    for order_id, store in zip(order_ids, (mine, mine, other)):
        with app.app_context():
            db.session.execute(update(Order).where(Order.id == order_id)
                               .values(status="paid", pickup_store_id=store.id))
            db.session.commit()
        PickupCodeFactory(order_id=order_id, store_id=store.id)
    home = client.get("/admin/", headers=EN).get_data(as_text=True)
    count, url = _todo(home, "Pickups waiting at my stores")
    assert count == 2 and url == "/admin/orders?status=awaiting_pickup"
    listed = client.get(url, headers=EN).get_data(as_text=True)
    assert f"/admin/orders/{order_ids[0]}" in listed and f"/admin/orders/{order_ids[2]}" not in listed
    for not_theirs in ("Withdrawals to approve", "Paid orders to ship", "Refund requests to handle"):
        assert not_theirs not in home  # not a clerk's work (nor theirs to do)
    admin, _ = signed_in(app, "admin")
    assert _todo(admin.get("/admin/", headers=EN).get_data(as_text=True), "Pickups waiting at my stores")[0] == 3


def test_the_admin_home_shows_today_beside_yesterday_and_the_signals(app):
    placed_order(app)
    admin, _ = signed_in(app, "admin")
    home = admin.get("/admin/", headers=EN).get_data(as_text=True)
    figures = home[home.index("Today, beside yesterday"):]
    assert re.search(r"<span>Orders</span><strong>1</strong>", figures)
    assert "before: 0" in figures and 'href="/admin/data/signals"' in figures
    editor, _ = signed_in(app, "editor")
    assert "Today, beside yesterday" not in editor.get("/admin/", headers=EN).get_data(as_text=True)


def test_store_staff_are_not_offered_shipping_or_refunds_on_the_order_list(app):
    admin, _ = signed_in(app, "admin")
    clerk, _ = signed_in(app, "staff")
    assert "/admin/orders/ship-batch" in admin.get("/admin/orders", headers=EN).get_data(as_text=True)
    page = clerk.get("/admin/orders", headers=EN).get_data(as_text=True)
    assert "/admin/orders/ship-batch" not in page and "/admin/orders/aftersales" not in page


def test_backoffice_errors_come_in_the_backoffice_layout(app):
    clerk, _ = signed_in(app, "staff")
    order_id = placed_order(app)[2]  # a delivery order: not a clerk's
    page = clerk.get(f"/admin/orders/{order_id}", headers=EN)
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert 'id="bo-nav"' in html and 'class="tabbar"' not in html and 'href="/admin/">Back to the backoffice home' in html
    editor, _ = signed_in(app, "editor")
    refused = editor.get("/admin/orders", headers=EN).get_data(as_text=True)
    assert 'id="bo-nav"' in refused
    shopper, _ = signed_in(app)  # never let in: the shop's own layout
    assert 'class="tabbar"' in shopper.get("/admin/orders", headers=EN).get_data(as_text=True)
