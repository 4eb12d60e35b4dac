"""Operations signals: the sweeper adds paid units to sales counts once, notes the
crossing of 100 and 1,000 sales and the last sale; products on sale 15 days without a
sale and articles due for re-promotion are listed for the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from shop.analytics import services
from shop.analytics.models import OrderFact, ProductMilestone, ProductSales
from shop.catalog.models import Product
from shop.db import db, utcnow
from shop.sweeper import sweep
from tests.concurrency.http import together
from tests.factories import (ArticleFactory, CategoryFactory, ProductSalesFactory, UserFactory,
                             product_with_skus)
from tests.payments.helpers import bought


def _sales(app, product_id):
    with app.app_context():
        product = db.session.get(Product, product_id)
        milestones = {m.threshold: m.reached_at for m in db.session.scalars(
            select(ProductMilestone).where(ProductMilestone.product_id == product_id))}
        last = db.session.get(ProductSales, product_id)
        return product.sales_count, milestones, last.last_sold_at if last else None


def test_the_sweeper_counts_paid_units_once_and_notes_the_milestones(app):
    user = UserFactory()
    product, (sku, _other) = product_with_skus(skus=(("红", 12000, 50), ("蓝", 12000, 0)),
                                               sales_count=97)
    with app.app_context():
        first = bought(user.id, sku.id, "a", quantity=2).id
        second = bought(user.id, sku.id, "b", quantity=3).id
        bought(user.id, sku.id, "c", pay=False)  # unpaid: not a sale
        db.session.commit()
        paid_at = db.session.get(OrderFact, second).paid_at
        assert services.uncounted_order_ids() == [first, second]
        counts = sweep()
    assert counts["sales_counted"] == 2
    sales, milestones, last = _sales(app, product.id)
    assert sales == 97 + 5 and list(milestones) == [100] and last == paid_at
    assert milestones[100] == paid_at  # the order that took it past 100
    with app.app_context():
        assert sweep()["sales_counted"] == 0
        assert services.count_sales(first) is False  # once per order, even when asked again
        db.session.commit()
    assert _sales(app, product.id)[0] == 102
    with app.app_context():
        bought(user.id, sku.id, "d", quantity=40)  # past 100 already: no second milestone
        db.session.commit()
    product_1000, (sku_1000, _o) = product_with_skus(skus=(("红", 12000, 50), ("蓝", 1, 0)),
                                                     sales_count=999)
    with app.app_context():
        bought(user.id, sku_1000.id, "e")
        db.session.commit()
        sweep()
    assert _sales(app, product.id)[0] == 142 and list(_sales(app, product.id)[1]) == [100]
    sales, milestones, _last = _sales(app, product_1000.id)
    assert sales == 1000 and list(milestones) == [1000]


def test_stale_products_and_due_articles_are_listed(app, admin_client):
    now = utcnow()
    category = CategoryFactory()
    never, _s = product_with_skus(title="从没卖过", category=category,
                                  on_sale_since=now - timedelta(days=20))
    long_ago, _s = product_with_skus(title="半月前卖过", category=category,
                                     on_sale_since=now - timedelta(days=40))
    ProductSalesFactory(product_id=long_ago.id, last_sold_at=now - timedelta(days=16))
    recent, _s = product_with_skus(title="最近卖过", category=category,
                                   on_sale_since=now - timedelta(days=40))
    ProductSalesFactory(product_id=recent.id, last_sold_at=now - timedelta(days=3))
    product_with_skus(title="刚上架", category=category, on_sale_since=now - timedelta(days=5))
    product_with_skus(title="已下架", category=category, status="off_sale",
                      on_sale_since=now - timedelta(days=40))
    due = ArticleFactory(title="该复推了", repromote_days=15, last_promoted_at=now - timedelta(days=16),
                         repromote_due_at=now - timedelta(days=1))
    ArticleFactory(title="还不用", repromote_days=15, repromote_due_at=now + timedelta(days=3))
    with app.app_context():
        found = services.signals(now)
        assert [p.title for p, _last in found.stale] == ["从没卖过", "半月前卖过"]
        assert [a.id for a in found.articles] == [due.id]
    body = admin_client.get("/admin/data/signals", headers={"Accept-Language": "en"}).get_data(as_text=True)
    stale = body.split('id="stale"', 1)[1].split("</table>", 1)[0]
    assert "从没卖过" in stale and "半月前卖过" in stale and "Never" in stale
    assert not any(t in stale for t in ("最近卖过", "刚上架", "已下架"))
    assert "该复推了" in body and "还不用" not in body


def test_a_product_put_on_sale_starts_its_15_days(app, admin_client):
    from tests.catalog.test_backoffice import _product_form

    category = CategoryFactory()
    draft = admin_client.post_form("/admin/catalog/products/new",
                                   _product_form(category.id, status="draft"))
    assert draft.status_code == 302
    with app.app_context():
        product = db.session.scalar(select(Product))
        assert product.on_sale_since is None
        sku_id = product.skus[0].id
    before = utcnow()
    edited = admin_client.post_form(f"/admin/catalog/products/{product.id}", _product_form(
        category.id, status="on_sale", **{"skus-0-id": str(sku_id), "skus-0-stock_seen": "7"}))
    assert edited.status_code == 302, edited.get_data(as_text=True)[:1000]
    with app.app_context():
        since = db.session.get(Product, product.id).on_sale_since
        assert since is not None and since >= before
    again = admin_client.post_form(f"/admin/catalog/products/{product.id}", _product_form(
        category.id, status="on_sale", title="改个名", **{"skus-0-id": str(sku_id),
                                                          "skus-0-stock_seen": "7"}))
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Product, product.id).on_sale_since == since  # still on sale


def _sweeper(app, order_ids):
    """A sweeper counting these orders' sales in turn, one commit each: how many it counted."""
    def run():
        with app.app_context():
            done = 0
            for order_id in order_ids:
                done += services.count_sales(order_id)
                db.session.commit()
            return done
    return run


@pytest.mark.postgres
def test_parallel_sweepers_count_each_order_once(app):
    user = UserFactory()
    product, (sku, _other) = product_with_skus(skus=(("红", 12000, 100), ("蓝", 12000, 0)))
    with app.app_context():
        ids = [bought(user.id, sku.id, f"k{n}", quantity=n + 1).id for n in range(8)]
        db.session.commit()

    results = together([_sweeper(app, ids) for _ in range(4)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(results) == len(ids)  # each order counted by exactly one of them
    with app.app_context():
        assert db.session.get(Product, product.id).sales_count == sum(range(1, 9))
        assert db.session.scalar(select(func.count()).select_from(OrderFact)
                                 .where(OrderFact.counted.is_(False))) == 0


@pytest.mark.postgres
def test_parallel_sweepers_with_overlapping_products_neither_deadlock_nor_double_count(app):
    """Orders of two products each, overlapping (p1+p2, p2+p3, p3+p1...): every sweeper
    locks an order's products lowest id first, and nothing else between them."""
    user = UserFactory()
    skus = [product_with_skus(skus=(("红", 12000, 100), ("蓝", 12000, 0)))[1][0] for _ in range(3)]
    from shop.cart.models import CartItem
    from shop.orders import placement
    from shop.orders import services as orders
    from shop.wallet import services as wallet
    from tests.payments.helpers import saved_address

    with app.app_context():
        ids = []
        for n in range(9):
            for sku in (skus[n % 3], skus[(n + 1) % 3]):
                db.session.add(CartItem(user_id=user.id, sku_id=sku.id, quantity=1))
            db.session.flush()
            order = placement.place_from_cart(user.id, saved_address(user.id), f"o{n}", None)
            wallet.move(user.id, order.total_minor, reason="t", ref_type="test", ref_id=f"o{n}")
            orders.pay_with_wallet(order, user.id)
            ids.append(order.id)
        db.session.commit()

    results = together([_sweeper(app, ids), _sweeper(app, ids[::-1]),
                        _sweeper(app, ids[3:] + ids[:3]), _sweeper(app, ids)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(results) == len(ids)
    with app.app_context():
        assert [db.session.get(Product, sku.product_id).sales_count for sku in skus] == [6, 6, 6]


@pytest.mark.postgres
def test_parallel_rollups_roll_each_day_once(app):
    from datetime import date

    from pyroaring import BitMap

    from shop.analytics.models import DayFigures
    from tests.analytics.helpers import at
    from tests.factories import HitFactory

    days = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    for day in days:
        for visitor in ("a", "b"):
            HitFactory(day=day, created_at=at(day), visitor=visitor * 32)

    def sweeper():
        with app.app_context():
            rolled = 0
            for day in services.days_to_roll_up(at(date(2026, 11, 4))):
                rolled += services.roll_up_day(day)
                db.session.commit()
            return rolled

    results = together([sweeper for _ in range(4)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(results) == 3
    with app.app_context():
        assert [(row.day, len(BitMap.deserialize(row.visitor_set))) for row in db.session.scalars(
            select(DayFigures).order_by(DayFigures.day))] == [(day, 2) for day in days]
        assert services.rolled_through() == days[-1]


@pytest.mark.postgres
@pytest.mark.parametrize("moment", ["INSERT INTO visitor_numbers", "UPDATE order_facts"])
def test_an_order_committed_while_its_day_rolls_up_counts_once(app, moment):
    """Another transaction commits an order of the day right before the rollup marks the
    day's facts, or right after: the rollup counts it, or the dashboard does (LATE), not
    both and not neither."""
    from datetime import date

    from sqlalchemy import event, insert, update

    from tests.analytics.helpers import at

    day = date(2026, 11, 1)
    user = UserFactory()
    _p, (sku, _o) = product_with_skus(skus=(("红", 12000, 5), ("蓝", 1, 0)))
    with app.app_context():
        ids = [bought(user.id, sku.id, key).id for key in ("a", "b")]
        db.session.execute(update(OrderFact).values(placed_day=day, paid_day=day, paid_at=at(day),
                                                    first_paid_day=day))
        second = db.session.get(OrderFact, ids[1])
        values = {c.key: getattr(second, c.key) for c in OrderFact.__table__.columns}
        values["visitor"] = "a-visitor-seen-only-now"
        db.session.delete(second)
        db.session.commit()
        fired = []

        def commit_the_second(conn, cursor, statement, *args):
            if fired or not statement.lstrip().startswith(moment):
                return
            fired.append(statement)
            with db.engine.connect() as other:  # its own transaction
                other.execute(insert(OrderFact).values(**values))
                other.commit()

        event.listen(db.engine, "before_cursor_execute", commit_the_second)
        try:
            assert services.days_to_roll_up(at(day + timedelta(days=1))) == [day]
            assert services.roll_up_day(day)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", commit_the_second)
        assert fired
        board = services.dashboard(day, day)
        assert (board.orders, board.paid_orders, board.gmv_minor) == (2, 2, 24000)
        assert [d.orders for d in board.days] == [2]


@pytest.mark.postgres
def test_no_rollup_commits_while_a_dashboard_reads(app):
    """The dashboard holds the rollup's mark for share until its transaction ends, so its
    rolled and raw days stay apart: a rollup (FOR UPDATE of the mark) has to wait."""
    from datetime import date

    from sqlalchemy.exc import OperationalError

    from tests.analytics.helpers import at
    from tests.factories import HitFactory

    day = date(2026, 11, 1)
    HitFactory(day=day, created_at=at(day))
    with app.app_context():
        assert services.roll_up_day(day)
        db.session.commit()
        services.dashboard(day, day + timedelta(days=1))
        with db.engine.connect() as other:
            with pytest.raises(OperationalError, match="could not obtain lock"):
                other.execute(text("SELECT through FROM rollup_marks FOR UPDATE NOWAIT"))
        db.session.rollback()  # the request ends
        with db.engine.connect() as other:
            assert other.execute(text("SELECT through FROM rollup_marks FOR UPDATE NOWAIT")
                                 ).scalar_one() == day


def test_the_backfill_gives_orders_and_accounts_made_before_tracking_their_facts(app):
    """The latest migration, run over a shop whose orders have no facts yet."""
    from flask_migrate import downgrade, upgrade

    from shop.analytics.models import Acquisition
    from shop.analytics.services import local_day
    from shop.orders.models import Order

    user = UserFactory()
    _p, (sku, _o) = product_with_skus(skus=(("红", 12000, 5), ("蓝", 1, 0)))
    with app.app_context():
        paid = bought(user.id, sku.id, "paid")
        unpaid = bought(user.id, sku.id, "unpaid", pay=False)
        db.session.commit()
        placed_day = local_day(db.session.get(Order, paid.id).created_at)
        paid_id, unpaid_id = paid.id, unpaid.id
        db.session.rollback()
        downgrade(revision="c3c80d02f2d6")  # before the backfill: as if tracking began now
        db.session.execute(text("DELETE FROM order_facts"))
        db.session.execute(text("DELETE FROM acquisitions"))
        db.session.commit()
        upgrade()
        facts = {f.order_id: (f.visitor, f.source, f.total_minor, f.placed_day, f.paid_day is not None,
                              f.first_paid_day is not None and f.first_paid_day == f.paid_day,
                              f.counted)
                 for f in db.session.scalars(select(OrderFact))}
        assert facts == {paid_id: (f"u{user.id}", "direct", 12000, placed_day, True, True, False),
                         unpaid_id: (f"u{user.id}", "direct", 12000, placed_day, False, False, False)}
        assert [(a.user_id, a.source, a.paid_orders, a.revenue_minor)
                for a in db.session.scalars(select(Acquisition))] == [(user.id, "direct", 1, 12000)]
        db.session.rollback()


def test_the_day_figures_migration_keeps_the_rankings_and_fills_what_customers_paid(app):
    """Down to product_days and up again: sales_days comes back as count_sales made it
    (products from product_days; articles, distributors and coupons from the counted
    orders), and each acquisition gets its customer's paid orders and revenue to date."""
    from flask_migrate import downgrade, upgrade

    from shop.analytics.models import Acquisition, SalesDay
    from tests.analytics.helpers import known_dataset

    known_dataset(app)
    with app.app_context():
        def rankings():
            return sorted((r.day, r.kind, r.item_id, r.orders, r.units, r.revenue_minor,
                           r.discount_minor) for r in db.session.scalars(select(SalesDay)))

        def paid_to_date():
            return sorted((a.user_id, a.paid_orders, a.revenue_minor)
                          for a in db.session.scalars(select(Acquisition)))

        before, customers = rankings(), paid_to_date()
        assert {kind for _d, kind, *_ in before} == {"product", "article", "distributor", "coupon"}
        db.session.rollback()
        downgrade(revision="f2a9c1d4e8b3")
        upgrade()
        assert rankings() == before
        assert paid_to_date() == customers
        db.session.rollback()
