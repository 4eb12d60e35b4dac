"""The request edge: commit on success, roll back on refusal or error; error pages."""


from flask import abort
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.catalog.models import ProductImage
from shop.db import db


def _add_routes(app):
    """Routes registered for this test only: a write followed by success, a 4xx, a crash."""

    def write(then):
        db.session.add(User(email=f"{then}@example.com", password_hash="x", nickname=then))
        db.session.flush()
        if then == "refuse":
            abort(409)
        if then == "crash":
            raise RuntimeError("boom")
        return "ok"

    app.add_url_rule("/_t/<then>", "t_write", lambda then: write(then), methods=["GET", "POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_success_commits_refusal_and_crash_roll_back(app, client):
    _add_routes(app)
    token = client.csrf_token()
    assert client.post("/_t/ok", data={"csrf_token": token}).status_code == 200
    assert _count(app) == 1
    assert client.post("/_t/refuse", data={"csrf_token": token}).status_code == 409
    assert _count(app) == 1
    response = client.post("/_t/crash", data={"csrf_token": token}, headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert _count(app) == 1


def test_a_get_never_changes_state_even_when_a_view_writes(app, client):
    _add_routes(app)
    assert client.get("/_t/ok").status_code == 200
    assert _count(app) == 0


def test_error_pages_are_full_pages_or_htmx_fragments(client):
    full = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert full.status_code == 404
    body = full.get_data(as_text=True)
    assert "<html" in body and "We could not find that page." in body
    frag = client.get("/no-such-page", headers={"HX-Request": "true", "Accept-Language": "en"})
    assert frag.status_code == 404
    body = frag.get_data(as_text=True)
    assert "<html" not in body and "We could not find that page." in body
    assert "HX-Request" in frag.headers.get("Vary", "")


def test_forbidden_and_bad_request_pages(client, shopper_client):
    assert shopper_client.get("/admin/", headers={"Accept-Language": "en"}).status_code == 403
    response = client.post("/signin", data={"email": "a@b.c", "password": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_upload_over_the_request_limit_gets_413_page(admin_client, app):
    from tests.factories import ProductFactory

    product = ProductFactory()
    # 13 MB of body: refused from its Content-Length before any of it is parsed.
    response = admin_client.post(
        f"/admin/catalog/products/{product.id}/images",
        data=b"x" * (13 * 1024 * 1024), content_type="multipart/form-data; boundary=zzz",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 413
    assert "The upload is too large." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 0


def test_a_refused_request_undoes_writes_made_in_savepoints(app, client):
    """pysqlite would start the transaction at the SAVEPOINT and commit it at RELEASE."""
    from shop.accounts.services import register_user

    def write_then_refuse():
        register_user("saved@example.com", "longenough1", "保存")  # a savepoint inside
        abort(409)

    app.add_url_rule("/_t/savepoint", "t_savepoint", write_then_refuse, methods=["POST"])
    assert client.post("/_t/savepoint", data={"csrf_token": client.csrf_token()}).status_code == 409
    assert _count(app) == 0


def test_on_commit_runs_after_commit_and_on_rollback_after_rollback(app):
    from shop.db import on_commit, on_rollback

    ran = []
    with app.app_context():
        on_commit(lambda: ran.append("commit 1"))
        on_rollback(lambda: ran.append("rollback 1"))
        with db.session.begin_nested():
            db.session.add(User(email="a@example.com", password_hash="x", nickname="a"))
        assert ran == []  # releasing a savepoint is not the commit
        db.session.commit()
        on_commit(lambda: ran.append("commit 2"))
        on_rollback(lambda: ran.append("rollback 2"))
        db.session.add(User(email="b@example.com", password_hash="x", nickname="b"))
        db.session.flush()
        db.session.rollback()
    assert ran == ["commit 1", "rollback 2"]


def test_htmx_gets_error_fragments_for_403_and_500(app, client):
    from tests.conftest import signed_in

    _add_routes(app)
    shopper_client, _user = signed_in(app, "shopper")
    headers = {"HX-Request": "true", "Accept-Language": "en"}
    forbidden = shopper_client.get("/admin/", headers=headers)
    body = forbidden.get_data(as_text=True)
    assert forbidden.status_code == 403 and "<html" not in body
    assert "You do not have permission to do this." in body
    crashed = client.post("/_t/crash", data={"csrf_token": client.csrf_token()}, headers=headers)
    body = crashed.get_data(as_text=True)
    assert crashed.status_code == 500 and "<html" not in body and "Something went wrong" in body


def test_work_registered_in_a_savepoint_that_rolls_back_is_dropped(app):
    from shop.db import on_commit
    from shop.orders.models import ShopSetting

    ran = []
    with app.app_context():
        db.session.get(ShopSetting, "x")  # a transaction is open, as in any service
        on_commit(lambda: ran.append("outer"))
        try:
            with db.session.begin_nested():
                on_commit(lambda: ran.append("inner, undone"))
                raise ValueError
        except ValueError:
            pass
        with db.session.begin_nested():
            on_commit(lambda: ran.append("inner, kept"))
        db.session.commit()
    assert ran == ["outer", "inner, kept"]
