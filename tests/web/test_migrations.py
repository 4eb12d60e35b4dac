"""Models and migrations agree: autogenerate against the migrated database finds nothing."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop.db import db, include_in_migrations, render_migration_item


def _diff(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_migration_item,
                                    "include_object": include_in_migrations}
        )
        return compare_metadata(context, db.metadata)


@pytest.mark.postgres
def test_models_and_migrations_agree_on_postgresql(app):
    assert _diff(app) == []


def test_models_and_migrations_agree_on_sqlite(app):
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "sqlite":
        pytest.skip("the PostgreSQL pass runs the test above")
    assert _diff(app) == []


def test_the_latest_migration_upgrades_a_database_that_has_data(app):
    """SQLite rebuilds tables in batch mode; rows that reference them must survive."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with app.app_context():
        downgrade(revision="-1")
        db.session.execute(text(
            "INSERT INTO categories (id, slug, name, position, active, translations, created_at, updated_at) "
            "VALUES (1, 'c', 'c', 0, true, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.execute(text(
            "INSERT INTO products (id, code, category_id, title, subtitle, selling_points, description, "
            "option_names, currency, price_minor, cost_price_minor, status, featured, sales_count, "
            "translations, created_at, updated_at) VALUES (1, 'p', 1, 't', '', '', '', '[]', 'CNY', 100, 50, "
            "'on_sale', false, 0, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.execute(text(
            "INSERT INTO skus (id, product_id, code, option_values, price_minor, stock, position, active) "
            "VALUES (1, 1, 's', '[]', 100, 3, 0, true)"))
        db.session.execute(text(  # its opening row: the stock ledger adds up
            "INSERT INTO stock_movements (sku_id, delta, balance_after, reason, ref_type, ref_id, "
            "created_at) VALUES (1, 3, 3, 'opening', 'opening', '1', CURRENT_TIMESTAMP)"))
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT product_id, stock FROM skus")).all() == [(1, 3)]
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.rollback()  # outside a request every SQLite transaction takes the write lock
        assert _diff(app) == []
