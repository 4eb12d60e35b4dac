"""The address book: addresses get the codes of their province, city and district
(China's divisions, shop.divisions), an optional postcode and a default (one per
shopper: a partial unique index). Saved addresses whose names match the divisions get
their codes; the others keep none and ask for an edit before use. Each shopper's most
recently used address becomes the default. Shipping regions list province codes
instead of name prefixes ("新疆" -> "65"); the downgrade writes the provinces' full names
back, which match the old prefix rule.

Revision ID: d2b6f0a4c8e3
Revises: c1a5e9d3b7f2
Create Date: 2026-12-08 00:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

from shop import divisions


revision = 'd2b6f0a4c8e3'
down_revision = 'c1a5e9d3b7f2'
branch_labels = None
depends_on = None


def _regions(convert) -> None:
    """Each shipping region's provinces through `convert` (a list -> a list)."""
    bind = op.get_bind()
    for region_id, provinces in bind.execute(sa.text("SELECT id, provinces FROM shipping_regions")).all():
        names = json.loads(provinces) if isinstance(provinces, str) else (provinces or [])
        bind.execute(sa.text("UPDATE shipping_regions SET provinces = :p WHERE id = :id")
                     .bindparams(sa.bindparam("p", type_=sa.JSON)),
                     {"p": convert(names), "id": region_id})


def _codes(names: list) -> list:
    return list(dict.fromkeys(code for name in names for code in divisions.province_codes(str(name))))


def _names(codes: list) -> list:
    return [division.name for division in map(divisions.get, codes) if division is not None]


def upgrade():
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_code', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('city_code', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('district_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('is_default', sa.Boolean(), server_default=sa.false(), nullable=False))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, user_id, province, city, district FROM addresses "
        "ORDER BY user_id, updated_at DESC, id DESC")).all()
    newest = set()
    for address_id, user_id, province, city, district in rows:
        province_code, city_code, district_code = divisions.match_names(province, city, district)
        values = {"id": address_id, "default": user_id not in newest,
                  "p": None, "c": None, "d": None}
        if district_code is not None:  # all three, or none: such an address asks for an edit
            values.update(p=province_code, c=city_code, d=district_code)
        newest.add(user_id)
        bind.execute(sa.text(
            "UPDATE addresses SET province_code = :p, city_code = :c, district_code = :d, "
            "is_default = :default WHERE id = :id"), values)
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index('uq_addresses_default', ['user_id'], unique=True,
                              postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))
    _regions(_codes)


def downgrade():
    _regions(_names)
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index('uq_addresses_default', postgresql_where=sa.text('is_default'),
                            sqlite_where=sa.text('is_default'))
        batch_op.drop_column('is_default')
        batch_op.drop_column('postcode')
        batch_op.drop_column('district_code')
        batch_op.drop_column('city_code')
        batch_op.drop_column('province_code')
