"""Points under parallel requests on PostgreSQL, as real HTTP: 20 redemptions of a
100-point item by a shopper with 100 points make one order; 5 sign-ins at once make one
reward; 5 claims of one task reward pay once."""

import pytest
from sqlalchemy import func, select

from shop.db import db
from shop.orders.models import Order
from shop.points import services
from shop.points.models import MallItem, MallStockEntry, PointsEntry, Signin, TaskCompletion
from tests.concurrency.http import form_fields, post_together, request, session_cookie
from tests.conftest import ADDRESS
from tests.factories import MallItemFactory, TaskCompletionFactory, UserFactory
from tests.points.helpers import give, points_of

pytestmark = pytest.mark.postgres


def test_twenty_parallel_redemptions_with_points_for_one_make_one_order(app, live_server):
    item = MallItemFactory(points_price=100, per_user_limit=0, stock=0)
    with app.app_context():
        services.move_mall_stock(item.id, 10, reason="initial", ref_type="admin", ref_id="1")
        db.session.commit()
    user = UserFactory()
    give(app, user.id, 100)
    cookie, posts = session_cookie(app, user.id), []
    url = f"{live_server.url}/points/mall/{item.id}"
    for _ in range(20):  # twenty open pages, each with its own form token
        status, html, cookie = request(url, cookie)
        assert status == 200
        posts.append((url, cookie, dict(ADDRESS, quantity="1", **form_fields(html, "csrf_token", "token"))))
    codes = post_together(posts)
    assert sorted(codes) == [200] + [409] * 19
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.get(MallItem, item.id).stock == 9
        assert db.session.scalars(select(MallStockEntry.delta).order_by(MallStockEntry.id)).all() == [10, -1]
    assert points_of(app, user.id) == 0


def test_a_redemption_form_sent_five_times_at_once_makes_one_order(app, live_server):
    item = MallItemFactory(points_price=100, per_user_limit=0)
    user = UserFactory()
    give(app, user.id, 100)
    url = f"{live_server.url}/points/mall/{item.id}"
    status, html, cookie = request(url, session_cookie(app, user.id))
    form = dict(ADDRESS, quantity="1", **form_fields(html, "csrf_token", "token"))
    assert post_together([(url, cookie, form)] * 5) == [200] * 5  # each lands on the order
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert points_of(app, user.id) == 0


def test_five_parallel_sign_ins_make_one_reward(app, live_server):
    user = UserFactory()
    cookie = session_cookie(app, user.id)
    status, html, cookie = request(f"{live_server.url}/points/signin", cookie)
    form = form_fields(html, "csrf_token")
    codes = post_together([(f"{live_server.url}/points/signin", cookie, form)] * 5)
    assert sorted(codes) == [200] + [409] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signin)) == 1
        assert db.session.scalar(select(func.count()).select_from(PointsEntry)) == 1
    assert points_of(app, user.id) == 5


def test_five_parallel_claims_of_one_reward_pay_once(app, live_server):
    user = UserFactory()
    completion = TaskCompletionFactory(user_id=user.id, points=50)
    cookie = session_cookie(app, user.id)
    status, html, cookie = request(f"{live_server.url}/points/tasks", cookie)
    url = f"{live_server.url}/points/tasks/{completion.id}/claim"
    codes = post_together([(url, cookie, form_fields(html, "csrf_token"))] * 5)
    assert sorted(codes) == [200] + [409] * 4
    assert points_of(app, user.id) == 50
    with app.app_context():
        assert db.session.get(TaskCompletion, completion.id).claimed_at is not None
