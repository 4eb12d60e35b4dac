"""The address-book migration (d2b6f0a4c8e3): saved addresses get their divisions' codes
where their names match (the others none: they ask for an edit), each shopper's most
recently used address becomes the default, and shipping regions' province names become
codes; the downgrade writes the provinces' names back."""

from __future__ import annotations

import json

from sqlalchemy import text

from shop.db import db

BEFORE = "c1a5e9d3b7f2"


def _seed() -> None:
    statements = [
        "INSERT INTO users (id, email, password_hash, nickname, role, active, created_at, updated_at, "
        "can_publish, referral_code) VALUES "
        "(1, 'a@example.com', 'x', 'a', 'shopper', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, 'ABCDEFGH'), "
        "(2, 'b@example.com', 'x', 'b', 'shopper', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, 'ABCDEFGJ')",
        "INSERT INTO addresses (id, user_id, name, phone, province, city, district, detail, created_at, "
        "updated_at) VALUES "
        "(1, 1, 'n', '13800138000', '浙江省', '杭州市', '西湖区', 'd', '2026-01-01', '2026-01-01'), "
        "(2, 1, 'n', '13800138000', '北京', '北京市', '东城区', 'd', '2026-01-02', '2026-01-03'), "
        "(3, 2, 'n', '13800138000', '浙江省', '杭州', '西湖区', 'd', '2026-01-01', '2026-01-01')",
        "INSERT INTO shipping_templates (id, name, currency, fee_minor, free_from_minor, is_default, "
        "created_at, updated_at) VALUES (1, 't', 'CNY', 1000, NULL, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO shipping_regions (template_id, position, provinces, fee_minor, free_from_minor) "
        "VALUES (1, 0, '[\"新疆\", \"西藏\", \"火星\"]', 2000, NULL)",
    ]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()


def test_names_become_codes_and_back(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision=BEFORE)
        _seed()
        upgrade()
        rows = db.session.execute(text(
            "SELECT id, province_code, city_code, district_code, is_default FROM addresses "
            "ORDER BY id")).all()
        regions = db.session.execute(text("SELECT provinces FROM shipping_regions")).scalar()
        db.session.rollback()
        downgrade(revision=BEFORE)
        names = db.session.execute(text("SELECT provinces FROM shipping_regions")).scalar()
        db.session.rollback()
        upgrade()
    assert [tuple(row) for row in rows] == [
        (1, "33", "3301", "330106", False),
        (2, "11", "1101", "110101", True),  # used last: the default (北京 as written short)
        (3, None, None, None, True)]        # 杭州 is no city's full name: it asks for an edit
    as_list = (lambda v: json.loads(v) if isinstance(v, str) else v)  # SQLite: text
    assert as_list(regions) == ["65", "54"]  # a name that is no province is dropped
    assert as_list(names) == ["新疆维吾尔自治区", "西藏自治区"]
