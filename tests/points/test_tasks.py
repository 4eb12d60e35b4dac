"""Tasks: done by what the shopper does (signals), once per period, claimed once."""

from datetime import datetime, timezone

from sqlalchemy import select

from shop.accounts import services as accounts
from shop.accounts.models import User
from shop.db import db
from shop.points import services
from shop.points.models import TaskCompletion
from tests.conftest import signed_in
from tests.factories import BindingFactory, TaskRuleFactory, UserFactory
from tests.payments.helpers import EN
from tests.points.helpers import entries, points_of
from tests.referrals.helpers import order_paid_by


def _done(app, user_id):
    with app.app_context():
        return sorted((row.code, row.period, row.claimed_at is not None) for row in
                      db.session.scalars(select(TaskCompletion).where(TaskCompletion.user_id == user_id)))


def test_a_paid_order_completes_first_order_and_this_weeks_order_and_the_inviters_task(app):
    inviter, buyer = UserFactory(), UserFactory()
    BindingFactory(user_id=buyer.id, referrer_id=inviter.id)
    order_paid_by(app, buyer.id, price=10_000)
    done = _done(app, buyer.id)
    assert [code for code, _period, _claimed in done] == ["first_order", "weekly_order"]
    assert _done(app, inviter.id) == [("invite_buyer", "once", False)]
    order_paid_by(app, buyer.id, price=10_000)  # once per period: nothing new
    assert len(_done(app, buyer.id)) == 2


def test_the_period_keys(app):
    moment = datetime(2026, 12, 31, 17, tzinfo=timezone.utc)  # 1 January 2027 in Shanghai
    with app.app_context():
        assert [services.period_of(p, moment) for p in ("once", "day", "week", "month")] == \
            ["once", "2027-01-01", "2026-W53", "2027-01"]


def test_a_complete_profile_completes_its_task(app):
    user = UserFactory()
    with app.app_context():
        row = db.session.get(User, user.id)
        accounts.update_profile(row, "新名字", "13800138000")
        assert services.tasks_of(user.id)[0].completion is None  # no photo yet
        row.avatar_key = "abc"
        accounts.update_profile(row, "新名字", "13800138000")
        db.session.commit()
    assert _done(app, user.id) == [("profile", "once", False)]


def test_a_shared_link_opened_by_a_signed_in_friend_completes_the_share_tasks(app):
    from shop.referrals import links

    _client, user = signed_in(app)
    with app.app_context():
        token = links.token(user.referral_code, "")
    stranger = app.test_client()  # signed out: it could be the sharer in another browser
    assert stranger.post_form(f"/s/{token}/opened").status_code == 204
    assert _done(app, user.id) == []
    friend, _friend = signed_in(app)
    assert friend.post_form(f"/s/{token}/opened").status_code == 204
    assert [code for code, _p, _c in _done(app, user.id)] == ["daily_share", "first_share"]


def test_claiming_pays_once_and_a_second_claim_changes_nothing(app):
    client, user = signed_in(app)
    order_paid_by(app, user.id, price=5_000)
    before = points_of(app, user.id)
    html = client.get("/points/tasks", headers=EN).get_data(as_text=True)
    assert "Claim 50 points" in html and "Claim 20 points" in html
    with app.app_context():
        completion = db.session.scalar(select(TaskCompletion.id).where(
            TaskCompletion.user_id == user.id, TaskCompletion.code == "first_order"))
    response = client.post_form(f"/points/tasks/{completion}/claim", headers={**EN, "HX-Request": "true"})
    assert response.status_code == 200 and "+50 points" in response.get_data(as_text=True)
    assert points_of(app, user.id) == before + 50
    again = client.post_form(f"/points/tasks/{completion}/claim", headers={**EN, "HX-Request": "true"})
    assert again.status_code == 409
    assert "You have already claimed this reward." in again.get_data(as_text=True)
    assert points_of(app, user.id) == before + 50
    assert entries(app, user.id)[-1] == ("task", 50)


def test_another_shoppers_task_is_not_found(app):
    owner = UserFactory()
    order_paid_by(app, owner.id, price=5_000)
    client, _user = signed_in(app)
    with app.app_context():
        completion = db.session.scalar(select(TaskCompletion.id).where(TaskCompletion.user_id == owner.id))
    assert client.post_form(f"/points/tasks/{completion}/claim").status_code == 404
    assert all(not claimed for *_x, claimed in _done(app, owner.id))


def test_a_switched_off_task_is_neither_offered_nor_done(app):
    TaskRuleFactory(code="first_order", points=50, active=False)
    user = UserFactory()
    order_paid_by(app, user.id, price=5_000)
    assert [code for code, _p, _c in _done(app, user.id)] == ["weekly_order"]
    with app.app_context():
        assert "first_order" not in [t.code for t in services.tasks_of(user.id)]


def test_the_reward_is_the_one_set_when_the_task_was_done(app):
    TaskRuleFactory(code="weekly_order", points=33)
    user = UserFactory()
    order_paid_by(app, user.id, price=5_000)
    with app.app_context():
        services.save_task_rule("weekly_order", 99, True)
        completion = db.session.scalar(select(TaskCompletion).where(TaskCompletion.code == "weekly_order"))
        services.claim(user.id, completion.id)
        db.session.commit()
    assert entries(app, user.id)[-1] == ("task", 33)
