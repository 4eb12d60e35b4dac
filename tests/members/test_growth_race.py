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
