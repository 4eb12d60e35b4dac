"""Parallel growth for one shopper who is not a member yet, on PostgreSQL: the member row
is made once (ON CONFLICT), every distinct reference counts once, a repeated reference
once in all, and the level is the one the final growth reaches."""

import threading

import pytest

from shop.db import db
from shop.members import services
from tests.factories import UserFactory
from tests.members.helpers import ladder, member

pytestmark = pytest.mark.postgres


def test_parallel_growth_counts_every_reference_once(app):
    ladder("普通会员", "银卡会员")
    user = UserFactory()
    refs = [f"t{i}" for i in range(8)] + ["same"] * 4
    barrier, outcomes, lock = threading.Barrier(len(refs)), [], threading.Lock()

    def give(ref: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.move(user.id, 60, reason="test", ref_type="test", ref_id=ref)
                db.session.commit()
                outcome = "ok"
            except services.MemberError:
                db.session.rollback()
                outcome = "refused"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=give, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["ok"] * 9 + ["refused"] * 3
    assert member(app, user.id) == (540, "银卡会员")


def test_growth_and_an_admins_level_changes_at_once_never_deadlock_or_fail(app):
    """Members gaining growth while an admin lowers, raises and deletes a level: every
    transaction commits (no deadlock, no foreign key error) and every member ends on the
    level their growth reaches."""
    from sqlalchemy import select

    from shop.members.models import Member, MemberLevel

    ladder("普通会员", "银卡会员")
    with app.app_context():
        silver = db.session.scalar(select(MemberLevel.id).where(MemberLevel.name == "银卡会员"))
    users = [UserFactory().id for _ in range(6)]
    for user in users:
        with app.app_context():
            services.move(user, 450, reason="test", ref_type="test", ref_id="start")
            db.session.commit()
    errors, lock = [], threading.Lock()
    barrier = threading.Barrier(len(users) + 1)

    def run(action) -> None:
        with app.app_context():
            barrier.wait()
            try:
                action()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                db.session.rollback()
                with lock:
                    errors.append(repr(exc))

    def admin() -> None:
        for threshold in (300, 600, 300):
            services.save_level(silver, name="银卡会员", threshold=threshold, discount_bp=0,
                                points_multiplier_bp=10_000, free_shipping=False)
            db.session.commit()
        services.delete_level(silver)

    def grow(user) -> None:
        for n in range(4):
            services.move(user, 30, reason="test", ref_type="test", ref_id=f"g{n}")
            db.session.commit()

    threads = [threading.Thread(target=run, args=(admin,))] + [
        threading.Thread(target=run, args=(lambda user=user: grow(user),)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        for user in users:
            row = db.session.get(Member, user)
            best = db.session.scalar(select(MemberLevel.id).where(MemberLevel.threshold <= row.growth)
                                     .order_by(MemberLevel.threshold.desc()).limit(1))
            assert (row.growth, row.level_id) == (570, best)
