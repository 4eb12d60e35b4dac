"""Finding the social offers: the group-buy list page, and honest social proof ("x 人已拼",
who bought or joined recently) on product and group pages.

Social proof is counted from paid orders only (statuses in PAID_STATUSES): an order
awaiting payment, cancelled or refunded in full never counts, and nothing is invented,
so a fresh shop shows none. Names are masked (mask_name) and the recent list is kept in
the cache for PROOF_SECONDS: one query per product (or campaign list) per interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.db import db, utcnow
from shop.extensions import cache
from shop.groups.models import Group, GroupCampaign, GroupMember
from shop.orders.models import PAID_STATUSES, Order, OrderEvent, OrderLine

PROOF_SECONDS = 60
RECENT = 5
_PAID = sorted(PAID_STATUSES)


def _running(now):
    return [GroupCampaign.active.is_(True), GroupCampaign.starts_at <= now,
            GroupCampaign.ends_at > now, Product.status == "on_sale", Product.archived_at.is_(None)]


def running_campaigns(page: int, per_page: int):
    """Running group buys of products on sale, the most joined first (a page of them,
    with their SKUs and product pictures)."""
    joined = (select(func.count(GroupMember.id)).join(Order, Order.id == GroupMember.order_id)
              .where(GroupMember.campaign_id == GroupCampaign.id, Order.status.in_(_PAID))
              .correlate(GroupCampaign).scalar_subquery())
    query = (select(GroupCampaign).join(Product, Product.id == GroupCampaign.product_id)
             .where(*_running(utcnow()))
             .options(selectinload(GroupCampaign.skus),
                      selectinload(GroupCampaign.product).selectinload(Product.images))
             .order_by(joined.desc(), GroupCampaign.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def joined_counts(campaign_ids: list[int]) -> dict[int, int]:
    """{campaign id: seats taken by paid orders} ("x 人已拼"); campaigns with none left out."""
    if not campaign_ids:
        return {}
    return dict(db.session.execute(
        select(GroupMember.campaign_id, func.count(GroupMember.id))
        .join(Order, Order.id == GroupMember.order_id)
        .where(GroupMember.campaign_id.in_(campaign_ids), Order.status.in_(_PAID))
        .group_by(GroupMember.campaign_id)).all())


def joinable_groups(limit: int = 6) -> list[Group]:
    """Open groups of running campaigns with a seat free, closest to their deadline first,
    with their members and campaign (three queries)."""
    now = utcnow()
    return list(db.session.scalars(
        select(Group).join(GroupCampaign, GroupCampaign.id == Group.campaign_id)
        .join(Product, Product.id == GroupCampaign.product_id)
        .where(Group.status == "open", Group.expires_at > now, Group.seats_left > 0,
               *_running(now))
        .options(selectinload(Group.members), selectinload(Group.campaign))
        .order_by(Group.expires_at, Group.id).limit(limit)))


# --- social proof -------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """A nickname as others may see it: up to four characters, the first and a star
    ("小明" -> "小*"); longer, the first two, two stars and the last two ("用户4812" is
    six characters: "用户**12")."""
    name = (name or "").strip()
    if not name:
        return "*"
    if len(name) <= 4:
        return name[0] + "*"
    return f"{name[:2]}**{name[-2:]}"


@dataclass(frozen=True)
class Proof:
    """One real purchase or seat, as shown: masked name, when it was paid, how (order kind)."""

    name: str
    at: datetime
    kind: str


def _cached(key: str, load) -> list[Proof]:
    rows = cache.get(key)
    if rows is None:
        rows = [(mask_name(name), at, kind) for name, at, kind in load()]
        cache.set(key, rows, timeout=PROOF_SECONDS)
    return [Proof(*row) for row in rows]


def recent_buyers(product_id: int) -> list[Proof]:
    """The last RECENT paid orders of the product (any way it was bought), newest first,
    each with when it was paid: one query, then PROOF_SECONDS from the cache. Newest is by
    order id: the index of lines by (product, order) is read backwards and the query stops
    after RECENT paid ones, however often the product sold (the time each was paid is
    looked up for those only)."""
    def load():
        paid_at = (select(func.min(OrderEvent.created_at)).where(
            OrderEvent.order_id == Order.id, OrderEvent.to_status == "paid")
            .correlate(Order).scalar_subquery())
        bought = select(OrderLine.order_id).where(OrderLine.product_id == product_id)
        return db.session.execute(
            select(User.nickname, paid_at.label("paid_at"), Order.kind)
            .join(User, User.id == Order.user_id)
            .where(Order.id.in_(bought), Order.status.in_(_PAID))
            .order_by(Order.id.desc()).limit(RECENT)).all()

    return [p for p in _cached(f"proof:product:{product_id}", load) if p.at is not None]


def recent_joins(campaign_ids: list[int]) -> list[Proof]:
    """The last RECENT paid seats in these campaigns, newest first (one query, cached)."""
    if not campaign_ids:
        return []
    ids = sorted(campaign_ids)

    def load():
        return db.session.execute(
            select(User.nickname, GroupMember.paid_at, Order.kind)
            .join(Order, Order.id == GroupMember.order_id)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.campaign_id.in_(ids), Order.status.in_(_PAID),
                   GroupMember.paid_at.is_not(None))
            .order_by(GroupMember.paid_at.desc(), GroupMember.id.desc()).limit(RECENT)).all()

    return _cached("proof:campaigns:" + ",".join(map(str, ids)), load)
