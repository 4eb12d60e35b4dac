"""Jobs: inline without Redis (after the commit, never after a rollback); on RQ with
REDIS_URL, processed by `flask shop worker`, which also schedules the sweeper."""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from shop import jobs
from shop.db import db, utcnow
from shop.orders.models import Order
from tests.conftest import signed_in
from tests.payments.helpers import order_status, placed_order


def test_an_inline_job_runs_after_the_commit_and_not_after_a_rollback(app):
    from shop import notices

    _client, _user, order_id, _total = placed_order(app)
    outbox = Path(app.config["MAIL_OUTBOX"])
    with app.app_context():
        db.session.get(Order, order_id)  # in a transaction, as a service always is
        jobs.enqueue(notices.order_shipped, order_id)
        db.session.rollback()
        jobs.run_inline()
        assert not outbox.exists()
        db.session.get(Order, order_id)
        jobs.enqueue(notices.order_shipped, order_id)
        db.session.commit()
        jobs.run_inline()
    (mail,) = outbox.glob("*.eml")
    assert f"/orders/{order_id}".encode() in mail.read_bytes()


def test_shipping_sends_the_shopper_an_email(app):
    _client, user, order_id, _total = placed_order(app)
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.status = "paid"
        db.session.commit()
    staff, _ = signed_in(app, "admin")
    response = staff.post_form(f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_number": "SF123"})
    assert response.status_code == 302
    (mail,) = Path(app.config["MAIL_OUTBOX"]).glob("*.eml")
    text = mail.read_text()
    assert f"To: {user.email}" in text


@pytest.fixture
def redis_app(app):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379: `make test` starts it")
    app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", JOBS_QUEUE=f"test-{uuid.uuid4().hex[:8]}")
    yield app
    with app.app_context():
        jobs.queue().empty()


def test_the_worker_runs_queued_jobs_and_the_sweeper(redis_app):
    app = redis_app
    _client, _user, order_id, _total = placed_order(app)  # no payment yet
    _c2, _u2, paid_id, _t2 = placed_order(app)
    with app.app_context():
        db.session.get(Order, order_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.get(Order, paid_id).status = "paid"
        db.session.commit()
    staff, _ = signed_in(app, "admin")
    staff.post_form(f"/admin/orders/{paid_id}/ship", {"carrier": "顺丰", "tracking_number": "SF1"})
    outbox = Path(app.config["MAIL_OUTBOX"])
    assert not outbox.exists()  # queued on Redis, not run inline
    with app.app_context():
        assert jobs.queue().count == 1
    result = app.test_cli_runner().invoke(args=["shop", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert len(list(outbox.glob("*.eml"))) == 1  # the shipping email
    assert order_status(app, order_id) == "cancelled"  # the sweeper, scheduled by the worker
    with app.app_context():
        assert jobs.queue().count == 0
        # one sweep per time slot, however many workers ask
        assert jobs.enqueue_sweep_once(10**9) is True
        assert jobs.enqueue_sweep_once(10**9) is False
        jobs.redis_connection().delete(f"shop:jobs:{app.config['JOBS_QUEUE']}:sweep:{10**9}")


def test_the_worker_command_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["shop", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output
