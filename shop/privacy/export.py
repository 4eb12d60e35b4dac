"""A shopper's data, as one ZIP: my-data.json (everything, one object per kind) and a CSV
file per kind (one row a record, the same columns). Built with the standard library
(zipfile, csv, json): nothing here needs more. One query per kind, whatever the number of
rows (no query per order), all filtered on the shopper's id, so nobody else's rows can
come in; of the shoppers bound to them as referees, only when and how (not who: that is
those shoppers' data)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime

from sqlalchemy import select

from shop.accounts.models import User
from shop.db import db
from shop.orders.models import Address, Order, OrderLine
from shop.points.models import PointsEntry
from shop.referrals.models import Binding, CommissionEntry, Withdrawal
from shop.wallet.models import WalletEntry

# What the account row holds that is the shopper's (not the password's hash, nor how many
# times their sessions were ended).
PROFILE = ("id", "email", "email_verified_at", "nickname", "phone", "signin_phone",
           "referral_code", "created_at", "last_signin_at")


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _table(model, *where, columns=None, order_by=None) -> tuple[list[str], list[dict]]:
    """(column names, rows as dicts of plain values) of one query."""
    columns = columns or list(model.__table__.columns)
    names = [column.key for column in columns]
    query = select(*columns).where(*where).order_by(*(order_by or model.__table__.primary_key))
    return names, [{name: _value(value) for name, value in zip(names, row)}
                   for row in db.session.execute(query)]


def collect(user_id: int) -> dict[str, tuple[list[str], list[dict]]]:
    """Every kind of the shopper's data: kind -> (its columns, its rows)."""
    mine = Order.user_id == user_id
    referrer = [Binding.referrer_id, Binding.via, Binding.bound_at, Binding.expires_at]
    referee = [Binding.via, Binding.bound_at, Binding.expires_at]
    return {
        "profile": _table(User, User.id == user_id, columns=[getattr(User, n) for n in PROFILE]),
        "addresses": _table(Address, Address.user_id == user_id),
        "orders": _table(Order, mine),
        "order_lines": _table(OrderLine, OrderLine.order_id.in_(select(Order.id).where(mine)),
                              order_by=[OrderLine.order_id, OrderLine.id]),
        "wallet_entries": _table(WalletEntry, WalletEntry.user_id == user_id),
        "points_entries": _table(PointsEntry, PointsEntry.user_id == user_id),
        "commission_entries": _table(CommissionEntry, CommissionEntry.user_id == user_id),
        "withdrawals": _table(Withdrawal, Withdrawal.user_id == user_id),
        "my_referrer": _table(Binding, Binding.user_id == user_id, columns=referrer,
                              order_by=[Binding.bound_at]),
        "bound_to_me": _table(Binding, Binding.referrer_id == user_id, columns=referee,
                              order_by=[Binding.bound_at]),
    }


def _csv(rows: list[dict], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def archive(user_id: int) -> bytes:
    """The ZIP of collect(user_id)."""
    data = collect(user_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("my-data.json", json.dumps({kind: rows for kind, (_names, rows) in data.items()},
                                               ensure_ascii=False, indent=2))
        for kind, (names, rows) in data.items():
            # a BOM, so a spreadsheet opens the Chinese text as UTF-8
            zf.writestr(f"{kind}.csv", "\ufeff" + _csv(rows, names))
    return buffer.getvalue()
