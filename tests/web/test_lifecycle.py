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


def test_success_commits_refusal_and_crash_roll_back(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
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


def test_a_get_never_changes_state_even_when_a_view_writes(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
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


def test_a_refused_request_undoes_writes_made_in_savepoints(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
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


def test_htmx_gets_error_fragments_for_403_and_500(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
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


class _Deadlock(Exception):
    """What psycopg raises when PostgreSQL picks this transaction to break a deadlock."""

    sqlstate = "40P01"


def _deadlocking_route(app, fails: int):
    """A route that writes a user and flashes, and whose first `fails` runs die of a
    deadlock as the database reports it (wrapped by SQLAlchemy, as a real one is)."""
    from flask import flash
    from sqlalchemy.exc import OperationalError

    runs = []

    def view():
        runs.append(1)
        db.session.add(User(email=f"run{len(runs)}@example.com", password_hash="x", nickname="r"))
        db.session.flush()
        flash("saved")
        if len(runs) <= fails:
            raise OperationalError("UPDATE orders ...", {}, _Deadlock())
        return "ok"

    app.add_url_rule("/_t/deadlock", "t_deadlock", view, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return runs


def test_a_deadlock_is_run_again_once_from_a_clean_start(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
    runs = _deadlocking_route(app, fails=1)
    response = client.post("/_t/deadlock", data={"csrf_token": client.csrf_token()})
    assert response.status_code == 200 and len(runs) == 2
    with app.app_context():  # the first run's row was rolled back, the second committed
        assert db.session.scalars(select(User.email)).all() == ["run2@example.com"]
    with client.session_transaction() as session:  # one flash, not one per run
        assert session["_flashes"] == [("message", "saved")]


def test_a_second_deadlock_in_a_row_is_a_503_not_a_500(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
    runs = _deadlocking_route(app, fails=2)
    response = client.post("/_t/deadlock", data={"csrf_token": client.csrf_token()},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 503 and len(runs) == 2
    assert "The shop is very busy right now." in response.get_data(as_text=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert _count(app) == 0


def test_other_database_errors_are_not_run_again(fresh_app):
    app = fresh_app  # it registers routes of its own
    client = app.test_client()
    from sqlalchemy.exc import OperationalError

    runs = []

    def view():
        runs.append(1)
        raise OperationalError("SELECT 1", {}, RuntimeError("connection lost"))

    app.add_url_rule("/_t/broken", "t_broken", view, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/_t/broken", data={"csrf_token": client.csrf_token()}).status_code == 500
    assert len(runs) == 1


def test_a_failing_after_commit_hook_is_logged_and_the_others_still_run(app, caplog):
    from shop.db import on_commit

    ran = []

    def enqueue_to_a_dead_redis():
        raise ConnectionError("Redis is down")

    with app.app_context():
        db.session.add(User(email="kept@example.com", password_hash="x", nickname="k"))
        on_commit(lambda: ran.append("before"))
        on_commit(enqueue_to_a_dead_redis)
        on_commit(lambda: ran.append("after"))
        db.session.commit()  # no exception: the work is committed
    assert ran == ["before", "after"] and _count(app) == 1
    assert any("after-commit hook" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_request_whose_job_queue_is_down_still_succeeds(app):
    """Shipping enqueues the shopper's email after the commit; with Redis unreachable the
    enqueue fails, is logged, and the shipment stands (a 302, not a 500)."""
    from shop.orders.models import Order
    from tests.conftest import signed_in
    from tests.factories import UserFactory, product_with_skus
    from tests.payments.helpers import bought

    _product, (sku, _) = product_with_skus()
    user = UserFactory()
    with app.app_context():
        order_id = bought(user.id, sku.id, "k1").id
        db.session.commit()
    staff, _ = signed_in(app, "admin")  # staff: own stores' pickups only
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = staff.post_form(f"/admin/orders/{order_id}/ship",
                               {"carrier": "顺丰", "tracking_number": "SF1"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Order, order_id).status == "shipped"
