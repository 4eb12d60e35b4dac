"""The stores backoffice: admins keep stores and bind staff; nobody else may."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.accounts.models import User
from shop.db import db
from shop.stores.models import Store, StoreStaff
from tests.conftest import signed_in
from tests.factories import StoreFactory, UserFactory

EN = {"Accept-Language": "en"}
STORE = {"name": "徐家汇店", "city": "上海市", "address": "徐汇区漕溪北路 88 号",
         "phone": "021-64000001", "hours": "每天 9:00–21:00", "latitude_e6": "31.193",
         "longitude_e6": "121.437", "map_url": "", "active": "y"}


def _stores(app) -> list[tuple]:
    with app.app_context():
        return [(s.name, s.city, s.latitude_e6, s.longitude_e6, s.active, s.map_link)
                for s in db.session.scalars(select(Store).order_by(Store.id))]


def test_an_admin_adds_and_edits_a_store(app, admin_client):
    response = admin_client.post_form("/admin/stores/new", STORE)
    assert response.status_code == 303
    assert _stores(app) == [("徐家汇店", "上海市", 31193000, 121437000, True,
                             "https://uri.amap.com/marker?position=121.437000,31.193000")]
    store_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = admin_client.get(f"/admin/stores/{store_id}").get_data(as_text=True)
    assert 'value="31.193000"' in page and "徐家汇店" in page
    edited = dict(STORE, name="徐家汇旗舰店", map_url="https://map.example.com/x", active="")
    edited.pop("active")
    assert admin_client.post_form(f"/admin/stores/{store_id}", edited).status_code == 303
    assert _stores(app)[0][0] == "徐家汇旗舰店" and _stores(app)[0][4] is False
    assert _stores(app)[0][5] == "https://map.example.com/x"
    assert "徐家汇旗舰店" in admin_client.get("/admin/stores").get_data(as_text=True)


def test_bad_store_input_is_refused_and_changes_nothing(app, admin_client):
    for change in ({"name": ""}, {"latitude_e6": "95"}, {"latitude_e6": "abc"},
                   {"longitude_e6": ""}, {"phone": "call us"},
                   {"map_url": "javascript:alert(1)"}, {"hours": "x" * 101}):
        response = admin_client.post_form("/admin/stores/new", dict(STORE, **change), headers=EN)
        assert response.status_code == 422, change
    assert _stores(app) == []


def test_staff_are_bound_by_picking_the_account_and_removed(app, admin_client):
    store = StoreFactory()
    shopper = UserFactory(email="li@example.com")
    response = admin_client.post_form(f"/admin/stores/{store.id}/staff", {"user_id": f"customer:{shopper.id}"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, shopper.id).role == "staff"
        assert db.session.scalar(select(func.count()).select_from(StoreStaff)) == 1
    # twice, an editor, an admin, nobody: clear refusals, nothing changes
    editor, admin = UserFactory(role="editor"), UserFactory(role="admin")
    for picked, words in ((f"customer:{shopper.id}", "already works"), (f"customer:{editor.id}", "editor"),
                          (f"customer:{admin.id}", "every store"),
                          ("customer:999999", "No customer has this number"),
                          (f"store:{store.id}", "This takes a customer, not a store."),
                          ("li@example.com", "Choose from the search results.")):
        response = admin_client.post_form(f"/admin/stores/{store.id}/staff", {"user_id": picked},
                                          headers=EN)
        assert response.status_code in (409, 422) and words in response.get_data(as_text=True), picked
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoreStaff)) == 1
        assert db.session.get(User, editor.id).role == "editor"
    second = StoreFactory()
    assert admin_client.post_form(f"/admin/stores/{second.id}/staff", {"user_id": f"customer:{shopper.id}"}).status_code == 303
    response = admin_client.post_form(f"/admin/stores/{store.id}/staff/{shopper.id}/remove")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, shopper.id).role == "staff"  # still works at the second
    response = admin_client.post_form(f"/admin/stores/{second.id}/staff/{shopper.id}/remove")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, shopper.id).role == "shopper"  # no store: a shopper again
    assert admin_client.post_form(f"/admin/stores/{store.id}/staff/{shopper.id}/remove").status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoreStaff)) == 0


def test_only_admins_keep_stores(app):
    store = StoreFactory()
    for role in ("shopper", "editor", "staff"):
        client, _ = signed_in(app, role)
        assert client.get("/admin/stores").status_code == 403
        assert client.get(f"/admin/stores/{store.id}").status_code == 403
        assert client.post_form("/admin/stores/new", STORE).status_code == 403
        assert client.post_form(f"/admin/stores/{store.id}/staff", {"email": "x@example.com"}).status_code == 403
    assert _stores(app)[0][0] == store.name and len(_stores(app)) == 1


def test_the_pickup_page_lists_only_the_staff_members_stores(app):
    mine = StoreFactory(name="我的店")
    StoreFactory(name="别人的店")
    client, user = signed_in(app, "staff")
    page = client.get("/admin/pickup", headers=EN).get_data(as_text=True)
    assert "not assigned to a store" in page and 'name="code"' not in page
    from tests.factories import StoreStaffFactory

    StoreStaffFactory(store_id=mine.id, user_id=user.id)
    page = client.get("/admin/pickup", headers=EN).get_data(as_text=True)
    assert 'name="code"' in page and f'value="{mine.id}"' in page and "别人的店" not in page


def _store_row(app, store_id: int) -> tuple:
    with app.app_context():
        s = db.session.get(Store, store_id)
        return (s.name, s.city, s.address, s.phone, s.hours, s.map_url, s.latitude_e6,
                s.longitude_e6, s.active)


def test_a_refused_staff_form_leaves_the_store_form_as_stored(app, admin_client):
    """Two forms on one page (shop.web.forms): the staff form refused, the store form
    still shows the store, and saving it as shown changes nothing."""
    from tests.web.page_forms import form_values

    store = StoreFactory(name="静安店", map_url="https://map.example.com/1", active=True)
    before = _store_row(app, store.id)
    page = f"/admin/stores/{store.id}"
    for posted in ({}, {"q_user_id": "nobody-matches-this"}):  # none chosen; a search
        response = admin_client.post_form(f"{page}/staff", posted, headers=EN)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, posted
        shown = form_values(html, page)
        assert shown["name"] == ["静安店"] and shown.get("active") == ["y"], posted
        assert shown["latitude_e6"] == ["31.193000"] and shown["map_url"] == ["https://map.example.com/1"]
        assert html.count("This field is required") == (0 if posted else 1), posted
        assert admin_client.post_form(page, shown).status_code == 303
        assert _store_row(app, store.id) == before
