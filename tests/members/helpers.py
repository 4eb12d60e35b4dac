"""Shared steps of the member tests: a ladder of levels, growth given through the
service, and a member read back with their ledger checked against the cached growth."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.db import db
from shop.members import services
from shop.members.models import GrowthEntry, Member, MemberLevel
from tests.factories import MemberLevelFactory

# name: (threshold, discount_bp, points_multiplier_bp, free_shipping), as the demo has them
LADDER = {"普通会员": (0, 0, 10_000, False), "银卡会员": (500, 200, 10_000, False),
          "金卡会员": (2000, 500, 15_000, True), "钻石会员": (10_000, 800, 20_000, True)}


def ladder(*names: str) -> dict[str, int]:
    """The named levels of LADDER (all by default); {name: id}."""
    made = {}
    for name in names or LADDER:
        threshold, discount, multiplier, free = LADDER[name]
        made[name] = MemberLevelFactory(name=name, threshold=threshold, discount_bp=discount,
                                        points_multiplier_bp=multiplier, free_shipping=free).id
    return made


def give(app, user_id: int, amount: int, ref: str = "gift") -> int:
    """Growth through services.move (a ledger row like any other), committed."""
    with app.app_context():
        growth = services.move(user_id, amount, reason="test", ref_type="test", ref_id=ref)
        db.session.commit()
        return growth


def member(app, user_id: int) -> tuple[int, str | None]:
    """(growth, level name) of a user, after checking that the ledger sums to the cached
    growth, that the last entry says the same, and that the level is the one the growth
    reaches."""
    with app.app_context():
        row = db.session.get(Member, user_id)
        if row is None:  # never earned: no ledger, and the level 0 growth reaches
            assert not db.session.scalar(select(func.count()).select_from(GrowthEntry)
                                         .where(GrowthEntry.user_id == user_id))
            level = services.level_of(user_id)
            assert level == db.session.scalar(select(MemberLevel).where(MemberLevel.threshold == 0))
            return 0, level.name if level else None
        total = db.session.scalar(select(func.coalesce(func.sum(GrowthEntry.amount), 0))
                                  .where(GrowthEntry.user_id == user_id))
        last = db.session.scalar(select(GrowthEntry.growth_after).where(GrowthEntry.user_id == user_id)
                                 .order_by(GrowthEntry.id.desc()).limit(1))
        assert total == row.growth == (last or 0), (total, row.growth, last)
        reached = db.session.scalar(select(MemberLevel).where(MemberLevel.threshold <= row.growth)
                                    .order_by(MemberLevel.threshold.desc()).limit(1))
        assert row.level_id == (reached.id if reached else None) == getattr(services.level_of(user_id), "id", None)
        return row.growth, reached.name if reached else None


def entries(app, user_id: int) -> list[tuple[int, str, str]]:
    """(amount, ref_type, ref_id) of the user's growth ledger, oldest first."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(GrowthEntry.amount, GrowthEntry.ref_type, GrowthEntry.ref_id)
            .where(GrowthEntry.user_id == user_id).order_by(GrowthEntry.id))]
