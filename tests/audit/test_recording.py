"""Every backoffice action is recorded: who, what, the form sent, how it ended and the rows
it changed before and after; a refused one without changes, and nothing else is."""

from __future__ import annotations

from datetime import datetime

from flask import request
from sqlalchemy import select, text, update

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.audit.services import MAX_CHANGES
from shop.db import db
from shop.stores.models import Store, StoreStaff
from shop.wallet.models import RechargePackage, Wallet
from shop.web import roles_required
from tests.conftest import signed_in
from tests.factories import PASSWORD_HASH, StoreFactory, UserFactory, product_with_skus

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true"}


def _entries(app) -> list[AuditEntry]:
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return entries


def _stores(app) -> list[tuple]:
    with app.app_context():
        return [tuple(getattr(s, c.key) for c in Store.__table__.columns)
                for s in db.session.scalars(select(Store).order_by(Store.id))]


def _store_form(store, **changes) -> dict:
    """The store's form as the admin page sends it, with `changes`."""
    data = {"name": store.name, "city": store.city, "address": store.address,
            "phone": store.phone, "hours": store.hours, "map_url": store.map_url,
            "latitude_e6": f"{store.latitude_e6 / 1e6:.6f}",
            "longitude_e6": f"{store.longitude_e6 / 1e6:.6f}", "active": "y"}
    data.update(changes)
    return data


def _only(app) -> AuditEntry:
    entries = _entries(app)
    assert len(entries) == 1, [(e.endpoint, e.status) for e in entries]
    return entries[0]


def test_an_admin_edit_is_one_entry_with_the_changed_columns_before_and_after(app):
    client, admin = signed_in(app, "admin")
    store = StoreFactory(name="老店", phone="021-64000000")
    response = client.post_form(f"/admin/stores/{store.id}",
                                _store_form(store, name="新店", phone="021-64999999"))
    assert response.status_code == 303
    entry = _only(app)
    assert (entry.actor_id, entry.actor_role) == (admin.id, "admin")
    assert (entry.endpoint, entry.domain, entry.method) == ("stores_admin.store_form", "stores_admin", "POST")
    assert (entry.path, entry.target, entry.status) == (f"/admin/stores/{store.id}", f"store_id={store.id}", 303)
    assert entry.changes == [{"table": "stores", "id": store.id, "op": "update",
                              "before": {"name": "老店", "phone": "021-64000000"},
                              "after": {"name": "新店", "phone": "021-64999999"}}]
    assert entry.tables == ",stores,"
    assert entry.form["name"] == "新店" and entry.form["latitude_e6"] == "31.193000"
    assert "csrf_token" not in entry.form
    assert entry.created_at.tzinfo is not None
    assert _stores(app)[0][1] == "新店"  # and the action itself was done


def test_an_insert_and_a_delete_are_recorded_with_their_values(app):
    client, admin = signed_in(app, "admin")
    store = StoreFactory()
    shopper = UserFactory()
    assert client.post_form(f"/admin/stores/{store.id}/staff",
                            {"user_id": f"customer:{shopper.id}"}).status_code == 303
    added = _only(app)
    with app.app_context():
        binding = db.session.scalar(select(StoreStaff))
        binding_id, created_at = binding.id, binding.created_at
    row = {"id": binding_id, "store_id": store.id, "user_id": shopper.id}
    (insert,) = [c for c in added.changes if c["op"] == "insert"]
    assert datetime.fromisoformat(insert["after"].pop("created_at")) == created_at
    assert insert == {"table": "store_staff", "id": binding_id, "op": "insert", "before": {},
                      "after": row}
    assert [c for c in added.changes if c["op"] != "insert"] == [
        {"table": "users", "id": shopper.id, "op": "update",
         "before": {"role": "shopper"}, "after": {"role": "staff"}}]
    assert sorted(added.tables.strip(",").split(",")) == ["store_staff", "users"]

    response = client.post_form(f"/admin/stores/{store.id}/staff/{shopper.id}/remove")
    assert response.status_code == 303
    removed = _entries(app)[1]
    assert removed.endpoint == "stores_admin.remove_staff"
    assert removed.target == f"store_id={store.id}, user_id={shopper.id}"
    by_op = {change["op"]: change for change in removed.changes}
    assert len(removed.changes) == 2
    assert datetime.fromisoformat(by_op["delete"]["before"].pop("created_at")) == created_at
    assert by_op["delete"] == {"table": "store_staff", "id": binding_id, "op": "delete",
                               "before": row, "after": {}}
    assert by_op["update"] == {"table": "users", "id": shopper.id, "op": "update",
                               "before": {"role": "staff"}, "after": {"role": "shopper"}}


def test_a_refused_form_is_recorded_with_its_status_and_no_changes(app):
    client, admin = signed_in(app, "admin")
    store = StoreFactory(name="老店")
    before = _stores(app)
    response = client.post_form(f"/admin/stores/{store.id}", _store_form(store, name="新店", phone="call us"),
                                headers=EN)
    assert response.status_code == 422
    entry = _only(app)
    assert (entry.actor_id, entry.status, entry.changes, entry.tables) == (admin.id, 422, [], "")
    assert entry.form["phone"] == "call us" and entry.form["name"] == "新店"
    assert _stores(app) == before

    response = client.post_form(f"/admin/stores/{store.id}/staff", {"user_id": "customer:999999"})
    assert response.status_code == 422  # no such account: the picker's form error
    assert [(e.endpoint, e.status, e.changes) for e in _entries(app)][1:] == [
        ("stores_admin.add_staff", 422, [])]
    assert _stores(app) == before


def test_an_action_refused_after_it_changed_rows_keeps_neither_the_rows_nor_their_record(fresh_app):
    """The probe flushes a change, then refuses (409): the edge rolls it back, and the
    entry says 409 with no changes."""
    app = fresh_app  # it registers a route of its own
    _add_probe(app)
    client, admin = signed_in(app, "admin")
    store = StoreFactory(name="老店")
    before = _stores(app)
    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "refuse"}).status_code == 409
    entry = _only(app)
    assert (entry.endpoint, entry.status, entry.changes) == ("probe_admin.probe", 409, [])
    assert _stores(app) == before


def test_staff_and_shoppers_posting_to_admin_routes_are_recorded_as_refused(app):
    store = StoreFactory()
    before = _stores(app)
    for role in ("staff", "editor", "shopper"):
        client, user = signed_in(app, role)
        response = client.post_form(f"/admin/stores/{store.id}", _store_form(store, name="被改了"))
        assert response.status_code == 403
        entry = _entries(app)[-1]
        assert (entry.actor_id, entry.actor_role, entry.status, entry.changes) == (user.id, role, 403, [])
        assert entry.endpoint == "stores_admin.store_form" and entry.form["name"] == "被改了"
    assert len(_entries(app)) == 3
    assert _stores(app) == before


def test_anonymous_posts_and_every_get_record_nothing(app, client):
    store = StoreFactory()
    token = client.csrf_token()
    assert client.post(f"/admin/stores/{store.id}", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/stores/{store.id}", data={"csrf_token": token}, headers=HX).status_code == 401
    admin_client, _admin = signed_in(app, "admin")
    for url in ("/admin/", "/admin/stores", f"/admin/stores/{store.id}", "/admin/catalog/products",
                "/admin/orders", "/admin/audit/", "/admin/wallet"):
        assert admin_client.get(url).status_code == 200, url
        assert admin_client.head(url).status_code == 200, url
    assert _entries(app) == []


def test_shopper_side_posts_record_nothing(app):
    client, _user = signed_in(app, "shopper")
    _product, (sku, *_rest) = product_with_skus()
    token = client.csrf_token()
    response = client.post("/cart/add", data={"csrf_token": token, "sku_id": sku.id, "quantity": "1"},
                           headers=HX)
    assert response.status_code == 200
    admin_client, _admin = signed_in(app, "admin")  # an admin shopping is shopping too
    assert admin_client.post("/cart/add", data={"csrf_token": admin_client.csrf_token(),
                                                "sku_id": sku.id, "quantity": "1"},
                             headers=HX).status_code == 200
    assert _entries(app) == []


def test_secrets_in_the_form_and_in_changed_columns_are_masked(fresh_app):
    app = fresh_app  # it registers a route of its own
    _add_probe(app)
    client, _admin = signed_in(app, "admin")
    store = StoreFactory()
    response = client.post_form(f"/admin/stores/{store.id}", _store_form(
        store, name="新店", password="hunter2", new_password="x", api_key="k-123",
        client_secret="s-456", refund_token="t-789", note="y" * 300))
    assert response.status_code == 303
    form = _only(app).form
    assert {key: form[key] for key in ("password", "new_password", "api_key", "client_secret",
                                       "refund_token")} == dict.fromkeys(
        ("password", "new_password", "api_key", "client_secret", "refund_token"), "***")
    assert form["name"] == "新店" and "csrf_token" not in form
    assert len(form["note"]) == 200 and form["note"].startswith("yyy")

    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "user"}).status_code == 200
    entry = _entries(app)[-1]
    (change,) = entry.changes
    assert change["table"] == "users" and change["op"] == "insert"
    assert change["after"]["password_hash"] == "***"
    assert change["after"]["email"] == "made@example.com"
    assert PASSWORD_HASH not in str(entry.changes)

    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "bulk_secret"}).status_code == 200
    (change,) = _entries(app)[-1].changes
    assert change["table"] == "users" and change["op"] == "statement"
    assert "new-hash" not in change["sql"] and '"***"' in change["sql"]


def test_a_csrf_failure_on_an_admin_route_is_recorded_as_refused(app):
    client, admin = signed_in(app, "admin")
    store = StoreFactory()
    before = _stores(app)
    response = client.post(f"/admin/stores/{store.id}", data=_store_form(store, name="新店"))
    assert response.status_code == 400
    entry = _only(app)
    assert (entry.actor_id, entry.endpoint, entry.status, entry.changes) == (
        admin.id, "stores_admin.store_form", 400, [])
    assert _stores(app) == before


def test_a_body_refused_unread_is_recorded_without_its_form(app):
    client, admin = signed_in(app, "admin")
    store = StoreFactory()
    token = client.csrf_token()
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = client.post(f"/admin/stores/{store.id}", data={"csrf_token": token, "name": "x" * 3000})
    assert response.status_code == 413
    entry = _only(app)
    assert (entry.actor_id, entry.status, entry.form, entry.changes) == (admin.id, 413, {}, [])


def test_htmx_posts_are_recorded_like_any_other(app):
    client, admin = signed_in(app, "admin")
    store = StoreFactory(name="老店")
    response = client.post_form(f"/admin/stores/{store.id}", _store_form(store, name="新店"), headers=HX)
    assert response.status_code < 400
    entry = _only(app)
    assert entry.actor_id == admin.id and entry.changes[0]["after"] == {"name": "新店"}


def test_backoffice_routes_outside_the_admin_blueprints_are_recorded(app):
    """The wallet's backoffice pages live in the wallet blueprint, under /admin: recorded,
    unflushed changes (the toggle), bulk statements (the balance) and all."""
    client, admin = signed_in(app, "admin")
    assert client.post_form("/admin/wallet/packages", {"pay": "100.00", "credit": "120.00"}).status_code == 302
    with app.app_context():
        package_id = db.session.scalar(select(RechargePackage.id))
    added = _only(app)
    assert (added.endpoint, added.domain) == ("wallet.packages", "wallet")
    assert added.changes[0]["op"] == "insert" and added.changes[0]["id"] == package_id
    assert added.changes[0]["after"]["pay_minor"] == 10000

    # the view sets the flag and returns without flushing: the edge's flush is recorded
    assert client.post_form(f"/admin/wallet/packages/{package_id}/toggle").status_code == 302
    toggled = _entries(app)[-1]
    assert toggled.changes == [{"table": "recharge_packages", "id": package_id, "op": "update",
                                "before": {"active": True}, "after": {"active": False}}]

    shopper = UserFactory()
    response = client.post_form("/admin/wallet", {"user_id": f"customer:{shopper.id}", "direction": "credit",
                                                  "amount": "5.00", "reason": "补偿", "token": "c" * 32})
    assert response.status_code == 302
    adjusted = _entries(app)[-1]
    assert adjusted.endpoint == "wallet.adjust"
    statements = [c for c in adjusted.changes if c["op"] == "statement"]
    assert statements and all(c["table"] == "wallets" for c in statements)
    assert any("UPDATE wallets" in c["sql"] and "500" in c["sql"] for c in statements)
    inserts = [c for c in adjusted.changes if c["op"] == "insert"]
    assert [c["table"] for c in inserts] == ["wallet_entries"]
    assert inserts[0]["after"]["amount_minor"] == 500 and inserts[0]["after"]["user_id"] == shopper.id
    assert ",wallets," in adjusted.tables and ",wallet_entries," in adjusted.tables
    with app.app_context():
        assert db.session.scalar(select(Wallet.balance_minor).where(Wallet.user_id == shopper.id)) == 500


def test_a_rolled_back_savepoint_leaves_no_record_and_bulk_updates_are_recorded(fresh_app):
    app = fresh_app  # it registers a route of its own
    _add_probe(app)
    client, _admin = signed_in(app, "admin")
    store = StoreFactory(name="老店", phone="021-64000000", hours="9-18")
    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "savepoint"}).status_code == 200
    entry = _only(app)
    assert entry.changes == [{"table": "stores", "id": store.id, "op": "update",
                              "before": {"phone": "021-64000000"}, "after": {"phone": "021-1"}}]
    assert _stores(app)[0][1] == "老店"

    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "bulk"}).status_code == 200
    (change,) = _entries(app)[-1].changes
    assert change["table"] == "stores" and change["op"] == "statement"
    assert change["sql"].startswith("UPDATE stores SET hours=") and "全天" in change["sql"]
    assert len(change["sql"]) <= 500

    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "text"}).status_code == 200
    (change,) = _entries(app)[-1].changes
    assert change["table"] == "stores" and change["op"] == "statement"
    assert change["sql"].startswith("UPDATE stores SET hours = ") and "夜间" in change["sql"]
    assert _stores(app)[0][5] == "夜间"


def test_the_changes_kept_are_capped(fresh_app):
    app = fresh_app  # it registers a route of its own
    _add_probe(app)
    client, _admin = signed_in(app, "admin")
    store = StoreFactory()
    assert client.post_form(f"/admin/probe/{store.id}", {"mode": "many"}).status_code == 200
    changes = _entries(app)[-1].changes
    assert len(changes) == MAX_CHANGES + 1
    assert changes[-1] == {"truncated": 10}
    assert all(change["op"] == "insert" for change in changes[:-1])
    assert len(_stores(app)) == MAX_CHANGES + 11


# --- a backoffice route for these tests only ------------------------------------------------


def _add_probe(app) -> None:
    """POST /admin/probe/<store_id> (admins), doing what `mode` says; added before the
    app's first request."""

    @roles_required("admin")
    def probe(store_id: int):
        store = db.session.get(Store, store_id)
        mode = request.form["mode"]
        if mode == "refuse":  # changes a row, then refuses
            store.name = "改了又退"
            db.session.flush()
            return "refused", 409
        if mode == "savepoint":  # a savepoint rolled back, then a change outside it
            try:
                with db.session.begin_nested():
                    store.name = "不算数"
                    db.session.flush()
                    raise ValueError
            except ValueError:
                pass
            store.phone = "021-1"
        elif mode == "bulk":
            db.session.execute(update(Store).where(Store.id == store_id).values(hours="全天"))
        elif mode == "many":
            db.session.add_all(Store(name=f"店{n}", city="上海市", address="路", phone="021-1",
                                     hours="全天") for n in range(MAX_CHANGES + 10))
            db.session.flush()
        elif mode == "text":
            db.session.execute(text("UPDATE stores SET hours = :hours WHERE id = :id"),
                               {"hours": "夜间", "id": store_id})
        elif mode == "bulk_secret":
            db.session.execute(update(User).where(User.email == "made@example.com")
                               .values(password_hash="new-hash"))
        elif mode == "user":
            db.session.add(User(email="made@example.com", nickname="新人", role="shopper",
                                password_hash=PASSWORD_HASH))
        return "done"

    app.add_url_rule("/admin/probe/<int:store_id>", "probe_admin.probe", probe, methods=["POST"])
