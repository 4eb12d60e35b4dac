"""The shipping migration (9b94f3934ae2) turns the shop's shipping settings into the
default template, drops them, and dates orders already shipped by their event."""

from __future__ import annotations

from sqlalchemy import text

from shop.db import db

SHIPPING = "9b94f3934ae2"
BEFORE = "b5354764c945"


def _seed(settings: dict) -> None:
    statements = [
        "INSERT INTO users (id, email, password_hash, nickname, role, active, created_at, updated_at, "
        "can_publish, referral_code) VALUES (1, 'a@example.com', 'x', 'a', 'shopper', true, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, 'ABCDEFGH')",
        "INSERT INTO categories (id, slug, name, position, active, translations, created_at, updated_at) "
        "VALUES (1, 'c', 'c', 0, true, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO products (id, code, category_id, title, subtitle, selling_points, description, "
        "option_names, currency, price_minor, cost_price_minor, status, featured, sales_count, "
        "translations, created_at, updated_at) VALUES (1, 'p', 1, 't', '', '', '', '[]', 'CNY', 100, "
        "50, 'on_sale', false, 0, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO skus (id, product_id, code, option_values, price_minor, stock, position, active) "
        "VALUES (1, 1, 's', '[]', 100, 3, 0, true)",
        "INSERT INTO stock_movements (sku_id, delta, balance_after, reason, ref_type, ref_id, created_at) "
        "VALUES (1, 3, 3, 'opening', 'opening', '1', CURRENT_TIMESTAMP)",
        "INSERT INTO orders (id, user_id, idempotency_key, kind, status, currency, subtotal_minor, "
        "total_minor, ship_name, ship_phone, ship_address, created_at, updated_at, carrier, "
        "tracking_number) VALUES "
        "(1, 1, 'k1', 'standard', 'shipped', 'CNY', 100, 100, 'n', '1', 'a', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, 'SF', 'SF1'), "
        "(2, 1, 'k2', 'standard', 'paid', 'CNY', 100, 100, 'n', '1', 'a', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, NULL, NULL)",
        "INSERT INTO order_events (order_id, from_status, to_status, reason, created_at) VALUES "
        "(1, NULL, 'awaiting_payment', 'placed', '2026-01-01 00:00:00'), "
        "(1, 'paid', 'shipped', 'SF SF1', '2026-01-02 03:04:05'), "
        "(2, NULL, 'awaiting_payment', 'placed', '2026-01-01 00:00:00')",
    ]
    for statement in statements:
        db.session.execute(text(statement))
    for key, value in settings.items():
        db.session.execute(text("INSERT INTO shop_settings (key, value) VALUES (:k, :v)"),
                           {"k": key, "v": value})
    db.session.commit()


def _after_upgrade():
    from flask_migrate import upgrade

    upgrade()
    templates = db.session.execute(text(
        "SELECT name, currency, fee_minor, free_from_minor, is_default FROM shipping_templates")).all()
    settings = dict(db.session.execute(text("SELECT key, value FROM shop_settings")).all())
    shipped = db.session.execute(text("SELECT id, shipped_at FROM orders ORDER BY id")).all()
    assert db.session.execute(text("SELECT product_id, stock FROM skus")).all() == [(1, 3)]
    assert db.session.execute(text("SELECT shipping_template_id FROM products")).all() == [(None,)]
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
    db.session.rollback()
    return templates, settings, shipped


def test_the_shipping_settings_become_the_default_template(app):
    from flask_migrate import downgrade

    with app.app_context():
        downgrade(revision=BEFORE)
        _seed({"shipping_fee_minor": 800, "free_shipping_from_minor": 5000, "other": 7})
        templates, settings, shipped = _after_upgrade()
    assert [tuple(t) for t in templates] == [("默认运费", "CNY", 800, 5000, True)]
    assert settings == {"other": 7}  # the shipping ones went, others stay
    (first_id, first_at), (second_id, second_at) = shipped
    assert (first_id, second_id, second_at) == (1, 2, None)
    assert str(first_at)[:19] == "2026-01-02 03:04:05"  # when its event shipped it


def test_without_settings_the_default_template_has_the_old_defaults(app):
    from flask_migrate import downgrade

    with app.app_context():
        downgrade(revision=BEFORE)
        _seed({})
        templates, settings, _shipped = _after_upgrade()
    assert [tuple(t) for t in templates] == [("默认运费", "CNY", 1000, 9900, True)]
    assert settings == {}


def test_a_downgrade_gives_the_default_templates_terms_back_as_settings(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        db.session.execute(text(
            "INSERT INTO shipping_templates (name, currency, fee_minor, free_from_minor, is_default, "
            "created_at, updated_at) VALUES ('a', 'CNY', 600, NULL, true, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"))
        db.session.commit()
        downgrade(revision=BEFORE)
        settings = dict(db.session.execute(text("SELECT key, value FROM shop_settings")).all())
        db.session.rollback()
        upgrade()
    assert settings == {"shipping_fee_minor": 600, "free_shipping_from_minor": 2**31 - 1}
