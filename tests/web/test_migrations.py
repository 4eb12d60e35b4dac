"""Models and migrations agree: autogenerate against the migrated database finds nothing."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop.db import db, render_migration_item


def _diff(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_migration_item}
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
