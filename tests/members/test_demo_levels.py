from sqlalchemy import select

from shop.accounts.models import User
from shop.db import db
from shop.demo import load_demo
from shop.members import services
from tests.members.helpers import member


def test_the_demo_has_four_levels_and_a_silver_shopper_once(app, monkeypatch):
    monkeypatch.setattr("shop.demo.CATEGORIES", [])  # accounts and the rest, no catalogue
    with app.app_context():
        first = load_demo()
        db.session.commit()
        assert first["member levels"] == 4
        assert [(l.name, l.threshold, l.discount_bp, l.points_multiplier_bp, l.free_shipping)
                for l in services.levels()] == [
            ("普通会员", 0, 0, 10_000, False), ("银卡会员", 500, 200, 10_000, False),
            ("金卡会员", 2000, 500, 15_000, True), ("钻石会员", 10_000, 800, 20_000, True)]
        assert load_demo()["member levels"] == 0
        db.session.commit()
        shopper = db.session.scalar(select(User.id).where(User.email == "shopper@example.com"))
    assert member(app, shopper) == (600, "银卡会员")
