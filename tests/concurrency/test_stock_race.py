"""Stock is claimed atomically: parallel claims never oversell (PostgreSQL only;
SQLite serialises writers and ignores FOR UPDATE, so it would prove nothing)."""

import threading

import pytest
from sqlalchemy import select

from shop.catalog.models import Sku, StockMovement
from shop.catalog.services import CatalogError, move_stock
from shop.db import db
from tests.factories import product_with_skus

pytestmark = pytest.mark.postgres


def test_twenty_parallel_claims_for_ten_units_sell_exactly_ten(app):
    _product, (sku, _other) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 1990, 0)))
    workers = 20
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                move_stock(sku.id, -1, reason="sale", ref_type="race", ref_id=str(n))
                db.session.commit()
                result = "ok"
            except CatalogError:
                db.session.rollback()
                result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["ok"] * 10 + ["refused"] * 10
    with app.app_context():
        assert db.session.get(Sku, sku.id).stock == 0
        moved = db.session.scalars(select(StockMovement.delta).where(StockMovement.sku_id == sku.id)
                                   .order_by(StockMovement.id)).all()
        assert moved == [10] + [-1] * 10  # the opening row, then one per unit sold
