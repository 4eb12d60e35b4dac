"""Shared steps of the points tests: giving points, reading the ledger back."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.db import db
from shop.points import services
from shop.points.models import PointsAccount, PointsEntry, PointsLot, PointsLotTake


def give(app, user_id: int, points: int, ref: str = "gift") -> int:
    with app.app_context():
        balance = services.move(user_id, points, reason="adjustment", ref_type="test", ref_id=ref)
        db.session.commit()
        return balance


def points_of(app, user_id: int) -> int:
    """The balance, checked against the ledger and the lots (the two invariants)."""
    with app.app_context():
        return checked_balance(user_id)


def checked_balance(user_id: int) -> int:
    balance = db.session.scalar(select(PointsAccount.balance).where(PointsAccount.user_id == user_id)) or 0
    ledger = db.session.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0))
                               .where(PointsEntry.user_id == user_id))
    lots = db.session.scalar(select(func.coalesce(func.sum(PointsLot.remaining), 0))
                             .where(PointsLot.user_id == user_id))
    assert ledger == balance, (ledger, balance)
    assert lots == max(balance, 0), (lots, balance)
    # every debit wrote down what it took from the lots: all of it unless it made a debt
    for entry in db.session.scalars(select(PointsEntry).where(PointsEntry.user_id == user_id,
                                                              PointsEntry.amount < 0)):
        taken = db.session.scalar(select(func.coalesce(func.sum(PointsLotTake.points), 0))
                                  .where(PointsLotTake.entry_id == entry.id))
        owed = max(0, -entry.balance_after)
        assert taken <= -entry.amount and (taken == -entry.amount or owed > 0), (entry.id, taken)
    return balance


def entries(app, user_id: int) -> list[tuple[str, int]]:
    with app.app_context():
        return [(e.reason, e.amount) for e in db.session.scalars(
            select(PointsEntry).where(PointsEntry.user_id == user_id).order_by(PointsEntry.id))]
