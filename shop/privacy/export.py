"""A shopper's data, as one ZIP: my-data.json (everything, one object per kind), a CSV
file per kind (one row a record, the same columns) and their avatar's image. Built with
the standard library (zipfile, csv, json): nothing here needs more.

- One query per kind, whatever the number of rows (no query per order), each filtered
  on the shopper's id, so nobody else's rows can come in. Of other shoppers, nothing
  that says who they are: of those bound to them, only when and how; of the friends
  who cut their bargains, only when and how much; of the opens of their share links,
  only which page and when; of the bargains they helped cut, the campaign, not whose.
- What the shop keeps only for its own workings is left out: password and passkey
  keys, session versions, an order's idempotency key, the staff who made an entry or
  a decision, a bargain's drawn cuts, a coupon's claim number.
- Ledger entries and statuses carry the words the shop's own pages show (the wallet,
  points, commission and growth histories; order, withdrawal, coupon, group and
  bargain statuses), in the language of the request, in a `*_label` column beside the
  raw code.
- The avatar: the shop does not keep the uploaded file (it keeps only re-encoded
  sizes, stripped of metadata, shop.media), so the ZIP holds the largest of them, and
  the profile names it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select

from shop.accounts.models import Passkey, User
from shop.analytics.models import Acquisition, Hit
from shop.bargains import BARGAIN_STATUS_LABELS
from shop.bargains.models import Bargain, BargainHelp
from shop.cart.models import CartItem
from shop.db import db
from shop.favourites.models import Favourite
from shop.groups import MEMBER_STATUS_LABELS
from shop.groups.models import GroupMember
from shop.media.services import path_for
from shop.members import GROWTH_ENTRY_LABELS
from shop.members.models import GrowthEntry
from shop.orders import STATUS_LABELS as ORDER_STATUS_LABELS
from shop.orders.models import Address, Order, OrderLine
from shop.points import REASON_LABELS as POINTS_REASON_LABELS
from shop.points import TASKS
from shop.points.models import PointsEntry, PointsLot, Redemption, Signin, TaskCompletion
from shop.promotions import SOURCE_LABELS, USER_COUPON_STATUS_LABELS
from shop.promotions.models import Coupon, UserCoupon
from shop.referrals import DISTRIBUTOR_STATUS_LABELS, WITHDRAWAL_METHOD_LABELS
from shop.referrals import ENTRY_LABELS as COMMISSION_ENTRY_LABELS
from shop.referrals import WITHDRAWAL_STATUS_LABELS
from shop.referrals.models import Binding, CommissionEntry, Distributor, LinkOpen, Withdrawal
from shop.wallet import ENTRY_LABELS as WALLET_ENTRY_LABELS
from shop.wallet.models import WalletEntry

# What the account row holds that is the shopper's (not the password's hash, nor how many
# times their sessions were ended); the avatar is named by _profile().
PROFILE = ("id", "email", "email_verified_at", "nickname", "phone", "signin_phone",
           "referral_code", "created_at", "last_signin_at")
AVATAR = "avatar.webp"

Rows = tuple[list[str], list[dict]]
Label = Callable[[dict], object]


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _table(model, *where, columns=None, exclude=(), labels: dict[str, Label] | None = None,
           order_by=None) -> Rows:
    """(column names, rows as dicts of plain values) of one query; `labels` adds columns
    computed from each row (the words the shop's pages show for its codes)."""
    columns = [column for column in columns or model.__table__.columns
               if column.key not in exclude]
    names = [column.key for column in columns]
    query = select(*columns).where(*where).order_by(*(order_by or model.__table__.primary_key))
    rows = [{name: _value(value) for name, value in zip(names, row)}
            for row in db.session.execute(query)]
    for name, label in (labels or {}).items():
        for row in rows:
            row[name] = str(label(row))
    return names + list(labels or {}), rows


def _coded(column: str, words: dict) -> Label:
    """The words for a row's code, or the code itself when the shop has none for it (a
    reason typed by staff, shown as typed on the shop's pages too)."""
    return lambda row: words.get(row[column], row[column])


def _profile(user_id: int) -> tuple[Rows, bytes | None]:
    """The profile row, and the avatar's largest stored image (None without one)."""
    names, rows = _table(User, User.id == user_id, columns=[
        getattr(User, name) for name in (*PROFILE, "avatar_key", "avatar_widths")])
    avatar = None
    for row in rows:
        key, widths = row.pop("avatar_key"), row.pop("avatar_widths")
        if key and widths:
            path = path_for(key, max(int(width) for width in widths.split(",")))
            avatar = path.read_bytes() if path.is_file() else None
        row["avatar"] = AVATAR if avatar else ""
    return ([*PROFILE, "avatar"], rows), avatar


def collect(user_id: int) -> tuple[dict[str, Rows], bytes | None]:
    """Every kind of the shopper's data (kind -> (its columns, its rows)), and their
    avatar's image (None without one)."""
    mine = Order.user_id == user_id
    referrer = [Binding.referrer_id, Binding.via, Binding.bound_at, Binding.expires_at]
    referee = [Binding.via, Binding.bound_at, Binding.expires_at]
    my_bargains = select(Bargain.id).where(Bargain.user_id == user_id)
    profile, avatar = _profile(user_id)
    return {
        "profile": profile,
        "passkeys": _table(Passkey, Passkey.user_id == user_id, columns=[
            Passkey.name, Passkey.created_at, Passkey.last_used_at],
            order_by=[Passkey.created_at]),
        "addresses": _table(Address, Address.user_id == user_id),
        "orders": _table(Order, mine, exclude=("idempotency_key",), labels={
            "status_label": _coded("status", ORDER_STATUS_LABELS)}),
        "order_lines": _table(OrderLine, OrderLine.order_id.in_(select(Order.id).where(mine)),
                              order_by=[OrderLine.order_id, OrderLine.id]),
        "cart_items": _table(CartItem, CartItem.user_id == user_id),
        "favourites": _table(Favourite, Favourite.user_id == user_id, exclude=("id",),
                             order_by=[Favourite.created_at]),
        "wallet_entries": _table(WalletEntry, WalletEntry.user_id == user_id,
                                 exclude=("actor_id",), labels={
                                     "reason_label": lambda row: WALLET_ENTRY_LABELS.get(
                                         row["ref_type"], row["reason"])}),
        "points_entries": _table(PointsEntry, PointsEntry.user_id == user_id,
                                 exclude=("actor_id",), labels={
                                     "reason_label": _coded("reason", POINTS_REASON_LABELS)}),
        "points_lots": _table(PointsLot, PointsLot.user_id == user_id),
        "points_mall_redemptions": _table(Redemption, Redemption.user_id == user_id),
        "daily_signins": _table(Signin, Signin.user_id == user_id, exclude=("id",),
                                order_by=[Signin.day]),
        "tasks": _table(TaskCompletion, TaskCompletion.user_id == user_id, exclude=("id",),
                        labels={"task": lambda row: TASKS[row["code"]].title
                                if row["code"] in TASKS else row["code"]}),
        "growth_entries": _table(GrowthEntry, GrowthEntry.user_id == user_id, labels={
            "reason_label": lambda row: GROWTH_ENTRY_LABELS.get(row["ref_type"],
                                                                row["reason"])}),
        "coupons": _table(UserCoupon, UserCoupon.user_id == user_id,
                          UserCoupon.coupon_id == Coupon.id, columns=[
                              UserCoupon.id, UserCoupon.coupon_id,
                              Coupon.name.label("coupon_name"), UserCoupon.source,
                              UserCoupon.status, UserCoupon.starts_at, UserCoupon.expires_at,
                              UserCoupon.order_id, UserCoupon.discount_minor,
                              UserCoupon.created_at], labels={
                              "source_label": _coded("source", SOURCE_LABELS),
                              "status_label": _coded("status", USER_COUPON_STATUS_LABELS)}),
        "group_buy_seats": _table(GroupMember, GroupMember.user_id == user_id, labels={
            "status_label": _coded("status", MEMBER_STATUS_LABELS)}),
        "bargains_started": _table(Bargain, Bargain.user_id == user_id,
                                   exclude=("plan", "version"), labels={
                                       "status_label": _coded("status", BARGAIN_STATUS_LABELS)}),
        "bargain_cuts_by_friends": _table(BargainHelp, BargainHelp.bargain_id.in_(my_bargains),
                                          exclude=("id", "helper_id"),
                                          order_by=[BargainHelp.bargain_id, BargainHelp.seq]),
        "bargains_helped": _table(BargainHelp, BargainHelp.helper_id == user_id,
                                  BargainHelp.bargain_id == Bargain.id, columns=[
                                      Bargain.campaign_id, BargainHelp.amount_minor,
                                      BargainHelp.created_at], order_by=[BargainHelp.id]),
        "distributor_application": _table(Distributor, Distributor.user_id == user_id,
                                          exclude=("decided_by_id",), labels={
                                              "status_label": _coded(
                                                  "status", DISTRIBUTOR_STATUS_LABELS)}),
        "commission_entries": _table(CommissionEntry, CommissionEntry.user_id == user_id,
                                     labels={"reason_label": _coded(
                                         "reason", COMMISSION_ENTRY_LABELS)}),
        "withdrawals": _table(Withdrawal, Withdrawal.user_id == user_id,
                              exclude=("decided_by_id",), labels={
                                  "method_label": _coded("method", WITHDRAWAL_METHOD_LABELS),
                                  "status_label": _coded("status", WITHDRAWAL_STATUS_LABELS)}),
        "my_referrer": _table(Binding, Binding.user_id == user_id, columns=referrer,
                              order_by=[Binding.bound_at]),
        "bound_to_me": _table(Binding, Binding.referrer_id == user_id, columns=referee,
                              order_by=[Binding.bound_at]),
        "my_link_opens": _table(LinkOpen, LinkOpen.sharer_id == user_id, columns=[
            LinkOpen.target, LinkOpen.created_at], order_by=[LinkOpen.id]),
        "my_page_views": _table(Hit, Hit.user_id == user_id, exclude=("id", "user_id",
                                                                      "ref_code")),
        "how_i_came": _table(Acquisition, Acquisition.user_id == user_id,
                             exclude=("ref_code",)),
    }, avatar


def _csv(rows: list[dict], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def archive(user_id: int) -> bytes:
    """The ZIP of collect(user_id), in the language of the request."""
    data, avatar = collect(user_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("my-data.json", json.dumps({kind: rows for kind, (_names, rows) in data.items()},
                                               ensure_ascii=False, indent=2))
        for kind, (names, rows) in data.items():
            # a BOM, so a spreadsheet opens the Chinese text as UTF-8
            zf.writestr(f"{kind}.csv", "\ufeff" + _csv(rows, names))
        if avatar:
            zf.writestr(AVATAR, avatar)
    return buffer.getvalue()
