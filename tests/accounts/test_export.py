"""Downloading one's data (shop.privacy): a ZIP of JSON and CSV with the shopper's rows and
nobody else's, in a constant number of queries, limited per account."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from shop.db import db
from shop.points import services as points
from shop.referrals import services as referrals
from tests.conftest import counted_queries, signed_in
from tests.factories import (AddressFactory, BindingFactory, UserFactory, product_with_skus)
from tests.payments.helpers import EN, bought

KINDS = ("profile", "addresses", "orders", "order_lines", "wallet_entries", "points_entries",
         "commission_entries", "withdrawals", "my_referrer", "bound_to_me")


def _shopper_with(app, user, orders: int, sku_id: int) -> list[int]:
    """Orders (paid from the wallet), points and commission entries for the user."""
    ids = []
    with app.app_context():
        for n in range(orders):
            ids.append(bought(user.id, sku_id, f"k{n}").id)
        points.move(user.id, 30, reason="adjustment", ref_type="test", ref_id=f"u{user.id}")
        referrals.account(user.id)
        referrals._entry(user.id, "balance", 200, reason="adjustment", ref_type="test",
                         ref_id=f"u{user.id}")
        db.session.commit()
    return ids


def _download(client):
    response = client.get("/me/data/download")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_download_holds_my_rows_and_none_of_another_shoppers(app):
    client, me = signed_in(app)
    other = UserFactory(nickname="别人的昵称")
    referrer = UserFactory()
    _product, (sku, _blue) = product_with_skus(skus=(("红", 9900, 20), ("蓝", 9900, 0)))
    AddressFactory(user_id=me.id, detail="我的路 8 号", is_default=False)
    AddressFactory(user_id=other.id, name="别人", detail="别人的路 5 号")
    mine = _shopper_with(app, me, 1, sku.id)
    theirs = _shopper_with(app, other, 1, sku.id)
    BindingFactory(user_id=me.id, referrer_id=referrer.id)
    BindingFactory(user_id=other.id, referrer_id=me.id)  # a referee: when, not who

    archive = _download(client)
    assert sorted(archive.namelist()) == sorted(["my-data.json"] + [f"{k}.csv" for k in KINDS])
    data = json.loads(archive.read("my-data.json"))
    assert data["profile"] == [data["profile"][0]] and data["profile"][0]["email"] == me.email
    assert "password_hash" not in data["profile"][0]
    assert [o["id"] for o in data["orders"]] == mine
    assert {line["order_id"] for line in data["order_lines"]} == set(mine)
    assert any(a["detail"] == "我的路 8 号" for a in data["addresses"])
    for kind in ("wallet_entries", "points_entries", "commission_entries"):
        assert data[kind] and {row["user_id"] for row in data[kind]} == {me.id}, kind
    assert [b["referrer_id"] for b in data["my_referrer"]] == [referrer.id]
    assert len(data["bound_to_me"]) == 1 and set(data["bound_to_me"][0]) == {
        "via", "bound_at", "expires_at"}
    everything = " ".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    for value in ("别人的昵称", "别人的路 5 号", other.email):
        assert value not in everything
    assert all(o["id"] not in theirs for o in data["orders"])
    # each CSV has the JSON's rows, under a header of its columns
    orders_csv = list(csv.DictReader(io.StringIO(archive.read("orders.csv").decode("utf-8-sig"))))
    assert [int(row["id"]) for row in orders_csv] == mine
    assert archive.read("withdrawals.csv").decode("utf-8-sig").startswith("id,user_id,")


def test_the_download_costs_the_same_queries_for_one_order_or_many(app):
    _product, (sku, _blue) = product_with_skus(skus=(("红", 9900, 20), ("蓝", 9900, 0)))
    counts = []
    for orders in (1, 4):
        client, user = signed_in(app)
        _shopper_with(app, user, orders, sku.id)
        with counted_queries(app) as statements:
            _download(client)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_download_is_limited_per_account_and_needs_a_sign_in(app):
    app.config["DATA_EXPORT_RATE_LIMIT"] = "2 per hour"
    client, _me = signed_in(app)
    assert client.get("/me/data", headers=EN).status_code == 200
    for _ in range(2):
        _download(client)
    refused = client.get("/me/data/download", headers=EN)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Try again in" in refused.get_data(as_text=True)
    # another account has its own allowance
    other, _user = signed_in(app)
    _download(other)
    anonymous = app.test_client().get("/me/data/download")
    assert anonymous.status_code == 302 and "/signin" in anonymous.headers["Location"]
