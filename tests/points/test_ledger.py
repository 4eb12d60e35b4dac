"""The points ledger: entries with unique references, the guarded balance, lots that
expire by the admin's rule and are consumed oldest first, a debt only from refunds."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from shop.db import db, utcnow
from shop.points import services
from shop.points.models import PointsEntry, PointsLot
from shop.sweeper import sweep
from tests.conftest import signed_in
from tests.factories import MallItemFactory, PointsSettingsFactory, UserFactory
from tests.points.helpers import checked_balance, entries, give, points_of

SHANGHAI = timezone(timedelta(hours=8))


def test_earned_points_expire_at_the_end_of_next_year_in_the_shops_time_zone(app):
    user = UserFactory()
    with app.app_context():
        assert services.expiry_for(datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)) == \
            datetime(2029, 1, 1, tzinfo=SHANGHAI)  # already 1 January 2027 in Shanghai
        assert services.expiry_for(datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc)) == \
            datetime(2028, 1, 1, tzinfo=SHANGHAI)
        services.move(user.id, 30, reason="adjustment", ref_type="test", ref_id="1")
        lot = db.session.scalar(select(PointsLot))
        assert (lot.points, lot.remaining) == (30, 30)
        assert lot.expires_at == services.expiry_for(utcnow())


def test_the_other_expiry_rules(app):
    PointsSettingsFactory(expiry_rule="days", expiry_days=30)
    moment = datetime(2026, 5, 1, tzinfo=timezone.utc)
    with app.app_context():
        assert services.expiry_for(moment) == moment + timedelta(days=30)
        services.save_settings(expiry_rule="never")
        assert services.expiry_for(moment) is None


def test_a_debit_takes_the_lots_that_expire_first(app):
    user = UserFactory()
    give(app, user.id, 50, "a")
    give(app, user.id, 70, "b")
    with app.app_context():
        later, sooner = db.session.scalars(select(PointsLot).order_by(PointsLot.id)).all()
        later.expires_at, sooner.expires_at = utcnow() + timedelta(days=60), utcnow() + timedelta(days=5)
        db.session.commit()
        services.move(user.id, -80, reason="spend", ref_type="test", ref_id="c")
        db.session.commit()
        assert [lot.remaining for lot in db.session.scalars(select(PointsLot).order_by(PointsLot.id))] == [40, 0]
    assert points_of(app, user.id) == 40


def test_a_debit_beyond_the_balance_is_refused_and_changes_nothing(app):
    user = UserFactory()
    give(app, user.id, 50)
    with app.app_context():
        with pytest.raises(services.PointsError, match="积分不足"):
            services.move(user.id, -51, reason="spend", ref_type="test", ref_id="x")
        db.session.commit()
    assert points_of(app, user.id) == 50
    assert entries(app, user.id) == [("adjustment", 50)]


def test_a_business_reference_counts_once(app):
    user = UserFactory()
    give(app, user.id, 50, "same")
    with app.app_context():
        with pytest.raises(services.PointsError, match="已经记过"):
            services.move(user.id, 50, reason="adjustment", ref_type="test", ref_id="same")
        db.session.commit()
    assert points_of(app, user.id) == 50


@pytest.mark.parametrize("amount", [0, services.MAX_POINTS + 1])
def test_zero_or_huge_amounts_are_refused(app, amount):
    user = UserFactory()
    with app.app_context(), pytest.raises(services.PointsError):
        services.move(user.id, amount, reason="adjustment", ref_type="test", ref_id="x")


def test_a_debt_from_a_refund_is_repaid_by_the_next_earnings_before_new_lots(app):
    user = UserFactory()
    give(app, user.id, 30)
    with app.app_context():
        services.move(user.id, -50, reason="order_refund", ref_type="test", ref_id="r", debt=True)
        db.session.commit()
        assert checked_balance(user.id) == -20
        services.move(user.id, 15, reason="order", ref_type="test", ref_id="e1")
        assert checked_balance(user.id) == -5
        services.move(user.id, 25, reason="order", ref_type="test", ref_id="e2")
        assert checked_balance(user.id) == 20
        assert db.session.scalar(select(func.sum(PointsLot.remaining))) == 20


def test_the_sweeper_expires_what_is_due_once(app):
    user = UserFactory()
    give(app, user.id, 40, "old")
    give(app, user.id, 25, "new")
    with app.app_context():
        old = db.session.scalar(select(PointsLot).order_by(PointsLot.id))
        old.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        services.move(user.id, -10, reason="spend", ref_type="test", ref_id="s")  # from the old lot
        db.session.commit()
    with app.app_context():
        assert sweep()["points_expired"] == 1
        assert sweep()["points_expired"] == 0
    assert points_of(app, user.id) == 25
    assert entries(app, user.id)[-1] == ("expiry", -30)


def test_expire_refuses_a_lot_not_yet_due(app):
    user = UserFactory()
    give(app, user.id, 40)
    with app.app_context():
        lot_id = db.session.scalar(select(PointsLot.id))
        assert services.expire(lot_id) is False
        assert db.session.scalar(select(func.count()).select_from(PointsEntry)) == 1


def test_the_points_page_lists_the_history_and_the_next_expiry(app):
    client, user = signed_in(app)
    give(app, user.id, 40, "a")
    with app.app_context():
        services.move(user.id, -15, reason="spend", ref_type="test", ref_id="b")
        db.session.commit()
    html = client.get("/points", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="points-balance">25<' in html
    assert "Adjusted by the shop" in html and "+40" in html and "-15" in html
    assert "25 points expire on" in html


def test_the_points_pages_need_an_account_but_the_mall_does_not(app, client):
    for url in ("/points", "/points/signin", "/points/tasks"):
        assert client.get(url).status_code == 302
    item = MallItemFactory()
    assert client.get("/points/mall").status_code == 200
    page = client.get(f"/points/mall/{item.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign in to redeem" in page and 'data-testid="redeem"' not in page
    response = client.post_form(f"/points/mall/{item.id}", {"quantity": "1"})
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_points_given_back_keep_the_expiry_of_each_lot_they_came_from(app):
    from shop.orders import services as orders
    from shop.orders.models import Order
    from tests.points.test_orders import _cart, _place

    PointsSettingsFactory(expiry_rule="never")
    client, user = signed_in(app)
    give(app, user.id, 100, "soon")
    give(app, user.id, 2_900, "never")
    soon = utcnow() + timedelta(days=1)
    with app.app_context():
        lot = db.session.scalar(select(PointsLot).order_by(PointsLot.id))
        lot.expires_at = soon
        db.session.commit()
    _cart(app, user, price=10_000)
    order_id = int(_place(client, use_points="y").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():  # 2,000 taken: 100 expiring tomorrow, 1,900 that never expire
        orders.cancel(db.session.get(Order, order_id), actor_id=None, reason="expired")
        db.session.commit()
        returned = db.session.execute(select(PointsLot.points, PointsLot.expires_at)
                                      .where(PointsLot.id > 2).order_by(PointsLot.id)).all()
        assert returned == [(1_900, None), (100, soon)]
    assert points_of(app, user.id) == 3_000


def test_the_history_pages_through_every_entry(app):
    client, user = signed_in(app)
    for n in range(31):
        give(app, user.id, n + 1, f"g{n}")
    first = client.get("/points", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "+31" in first and 'rel="next"' in first and ">+1<" not in first
    second = client.get("/points?page=2", headers={"Accept-Language": "en", "HX-Request": "true"})
    html = second.get_data(as_text=True)
    assert "<html" not in html and ">+1<" in html and "+31" not in html
