"""Downloading one's data (shop.privacy): a ZIP of JSON and CSV with the shopper's rows and
nobody else's, in a constant number of queries, limited per account."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from flask_babel import force_locale, gettext
from PIL import Image

from shop.accounts.models import User
from shop.db import db
from shop.media.services import store_image
from shop.points import services as points
from shop.referrals import services as referrals
from shop.wallet import services as wallet
from tests.conftest import counted_queries, signed_in
from tests.factories import (AcquisitionFactory, AddressFactory, BargainCampaignFactory,
                             BargainFactory, BargainHelpFactory, BindingFactory, CouponFactory,
                             GroupCampaignFactory, GroupFactory, GroupMemberFactory,
                             HitFactory, LinkOpenFactory, PasskeyFactory, SigninFactory,
                             TaskCompletionFactory, UserCouponFactory, UserFactory,
                             WithdrawalFactory, product_with_skus)
from tests.payments.helpers import EN, bought

KINDS = ("profile", "passkeys", "addresses", "orders", "order_lines", "cart_items", "favourites",
         "wallet_entries", "points_entries", "points_lots", "points_mall_redemptions",
         "daily_signins", "tasks", "growth_entries", "coupons", "group_buy_seats",
         "bargains_started", "bargain_cuts_by_friends", "bargains_helped",
         "distributor_application", "commission_entries", "withdrawals", "my_referrer",
         "bound_to_me", "my_link_opens", "my_page_views", "how_i_came")


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


def _everything_of(user, order_id: int, sku_id: int, helper) -> None:
    """A row of each kind the account pages show for `user`; `helper` cuts their bargain,
    and they cut one of `helper`'s."""
    PasskeyFactory(user_id=user.id, name=f"手机 {user.nickname}")
    SigninFactory(user_id=user.id)
    TaskCompletionFactory(user_id=user.id, code="profile", points=20)
    UserCouponFactory(user_id=user.id, coupon_id=CouponFactory(name=f"券 {user.nickname}").id)
    campaign = GroupCampaignFactory()
    group = GroupFactory(campaign_id=campaign.id, leader_id=user.id)
    GroupMemberFactory(group_id=group.id, campaign_id=campaign.id, user_id=user.id,
                       order_id=order_id, sku_id=sku_id, leader=True)
    for starter, cutter in ((user, helper), (helper, user)):
        campaign = BargainCampaignFactory()
        cut = BargainFactory(campaign=campaign, user_id=starter.id, helps=1,
                             price_minor=campaign.start_price_minor - 100)
        BargainHelpFactory(bargain_id=cut.id, helper_id=cutter.id, amount_minor=100,
                           price_after_minor=cut.price_minor)
    LinkOpenFactory(sharer_id=user.id, target="p1", visitor=f"{user.id:032x}")
    HitFactory(user_id=user.id, ref_code=helper.referral_code, source="referral")
    AcquisitionFactory(user_id=user.id, ref_code=helper.referral_code, source="referral")


def _download(client):
    response = client.get("/me/data/download")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 400), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


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
    _everything_of(me, mine[0], sku.id, helper=other)
    _everything_of(other, theirs[0], sku.id, helper=me)
    WithdrawalFactory(user_id=me.id, method="bank", account="6222 我的卡", status="paid")
    with app.app_context():
        db.session.get(User, me.id).avatar_key, widths = (lambda i: (i.key, i.widths))(
            store_image(_png()))
        db.session.get(User, me.id).avatar_widths = ",".join(map(str, widths))
        referrals.standing(me.id).real_name = "我的真名"
        db.session.commit()

    archive = _download(client)
    assert sorted(archive.namelist()) == sorted(
        ["my-data.json", "avatar.webp"] + [f"{k}.csv" for k in KINDS])
    assert Image.open(io.BytesIO(archive.read("avatar.webp"))).width == 600
    data = json.loads(archive.read("my-data.json"))
    assert list(data) == list(KINDS)
    profile = data["profile"]
    assert len(profile) == 1 and profile[0]["email"] == me.email
    assert profile[0]["avatar"] == "avatar.webp"
    assert {"password_hash", "session_version", "avatar_key"}.isdisjoint(profile[0])
    assert {"email_verified_at", "signin_phone", "phone"} <= set(profile[0])
    assert [o["id"] for o in data["orders"]] == mine
    assert "idempotency_key" not in data["orders"][0]
    assert {line["order_id"] for line in data["order_lines"]} == set(mine)
    assert any(a["detail"] == "我的路 8 号" for a in data["addresses"])
    for kind in ("wallet_entries", "points_entries", "commission_entries", "points_lots",
                 "withdrawals", "group_buy_seats", "bargains_started",
                 "distributor_application", "tasks"):
        assert data[kind] and {row["user_id"] for row in data[kind]} == {me.id}, kind
        assert {"actor_id", "decided_by_id", "plan", "version", "claim_no"}.isdisjoint(
            data[kind][0]), kind
    # each of us started a bargain the other cut, twice over
    assert {kind: len(data[kind]) for kind in (
        "daily_signins", "bargains_started", "bargain_cuts_by_friends", "bargains_helped",
        "my_link_opens", "my_page_views", "how_i_came")} == {
        "daily_signins": 1, "bargains_started": 2, "bargain_cuts_by_friends": 2,
        "bargains_helped": 2, "my_link_opens": 1, "my_page_views": 1, "how_i_came": 1}
    assert set(data["passkeys"][0]) == {"name", "created_at", "last_used_at"}
    assert data["distributor_application"][0]["real_name"] == "我的真名"
    assert data["withdrawals"][0]["account"] == "6222 我的卡"
    assert [c["coupon_name"] for c in data["coupons"]] == [f"券 {me.nickname}"]
    # of others: when and how much, never who
    assert "helper_id" not in data["bargain_cuts_by_friends"][0]
    assert set(data["bargains_helped"][0]) == {"campaign_id", "amount_minor", "created_at"}
    assert set(data["my_link_opens"][0]) == {"target", "created_at"}
    assert "ref_code" not in data["my_page_views"][0] and "ref_code" not in data["how_i_came"][0]
    assert [b["referrer_id"] for b in data["my_referrer"]] == [referrer.id]
    assert len(data["bound_to_me"]) == 1 and set(data["bound_to_me"][0]) == {
        "via", "bound_at", "expires_at"}
    everything = " ".join(archive.read(name).decode("utf-8-sig")
                          for name in archive.namelist() if name.endswith((".json", ".csv")))
    for value in ("别人的昵称", "别人的路 5 号", other.email, other.referral_code,
                  f"{other.id:032x}"):
        assert value not in everything
    assert all(o["id"] not in theirs for o in data["orders"])
    # each CSV has the JSON's rows, under a header of its columns
    orders_csv = list(csv.DictReader(io.StringIO(archive.read("orders.csv").decode("utf-8-sig"))))
    assert [int(row["id"]) for row in orders_csv] == mine
    assert archive.read("withdrawals.csv").decode("utf-8-sig").startswith("id,user_id,")


def test_ledger_reasons_read_as_on_the_shops_pages_in_the_readers_language(app):
    client, me = signed_in(app)
    _product, (sku, _blue) = product_with_skus(skus=(("红", 9900, 20), ("蓝", 9900, 0)))
    _shopper_with(app, me, 1, sku.id)  # "order payment", points and commission adjustments
    with app.app_context():
        wallet.move(me.id, 500, reason="Demo credit", ref_type="demo", ref_id="welcome")
        wallet.move(me.id, 100, reason="goodwill, late parcel", ref_type="adjustment",
                    ref_id="a1")
        db.session.commit()
    client.post_form("/language", {"lang": "zh_Hans"})
    data = json.loads(_download(client).read("my-data.json"))
    with app.test_request_context(), force_locale("zh_Hans"):
        said = {key: gettext(key) for key in ("Order payment", "Welcome credit",
                                               "Adjusted by the shop", "Earned on an order")}
    assert said["Order payment"] != "Order payment"  # translated
    labels = {row["reason"]: row["reason_label"] for row in data["wallet_entries"]}
    assert labels == {"order payment": said["Order payment"], "Demo credit": said["Welcome credit"],
                      "goodwill, late parcel": "goodwill, late parcel", "t": "t"}  # typed: as typed
    assert {row["reason_label"] for row in data["points_entries"]} == {
        said["Adjusted by the shop"], said["Earned on an order"]}
    assert data["orders"][0]["status_label"] != data["orders"][0]["status"]


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


def test_the_data_page_says_the_limit_the_download_keeps(app):
    client, _me = signed_in(app)
    app.config["DATA_EXPORT_RATE_LIMIT"] = "3 per hour;10 per day"
    page = client.get("/me/data", headers=EN).get_data(as_text=True)
    assert "You can download it 3 times per hour and 10 times per day." in page
    app.config["DATA_EXPORT_RATE_LIMIT"] = "1/2 minutes"
    page = client.get("/me/data", headers=EN).get_data(as_text=True)
    assert "You can download it 1 time per 2 minutes." in page
