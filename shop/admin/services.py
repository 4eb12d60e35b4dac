"""What the backoffice home shows each role: the work waiting for them, counted.

Each to-do is one COUNT query and links to the list that shows exactly those rows, so
following a count and handling one item makes the count go down. A role sees the to-dos
of the pages its routes admit (shop.admin.navigation.may_open), and store staff only
what concerns their own stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from shop.admin.navigation import may_open
from shop.articles import services as articles
from shop.catalog.models import Product, Sku
from shop.db import db
from shop.orders.models import Order
from shop.referrals.models import Distributor, Withdrawal
from shop.stores.models import PickupCode, StoreStaff


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    url: str


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def low_stock_skus():
    """SKUs on sale with few units left (LOW_STOCK_THRESHOLD), of products not archived."""
    return (select(Sku.id).join(Product, Sku.product_id == Product.id)
            .where(Sku.active.is_(True), Product.archived_at.is_(None), Product.status == "on_sale",
                   Sku.stock <= current_app.config["LOW_STOCK_THRESHOLD"]))


def pickups_waiting(user):
    """Paid pickup orders not collected yet, at the user's stores (admins: every store)."""
    query = (select(PickupCode.order_id).join(Order, Order.id == PickupCode.order_id)
             .where(PickupCode.picked_up_at.is_(None), Order.status == "paid"))
    if user.role != "admin":
        query = query.where(PickupCode.store_id.in_(
            select(StoreStaff.store_id).where(StoreStaff.user_id == user.id)))
    return query


def todos(user) -> list[Todo]:
    items: list[Todo] = []

    def add(endpoint: str, label, query, right: str | None = None, **args) -> None:
        if may_open(user, endpoint, right):
            items.append(Todo(str(label), _count(query), url_for(endpoint, **args)))

    add("orders.admin_list", _l("Refund requests to handle"),
        select(Order.id).where(Order.status == "refund_requested"), status="refund_requested")
    add("orders.admin_list", _l("Paid orders to ship"),
        select(Order.id).where(Order.status == "paid", Order.pickup_store_id.is_(None)), status="paid")
    add("referrals_admin.withdrawals", _l("Withdrawals to approve"),
        select(Withdrawal.id).where(Withdrawal.status == "requested"), status="requested")
    add("referrals_admin.distributors", _l("Distributor applications"),
        select(Distributor.user_id).where(Distributor.status == "applied"), status="applied")
    add("stores_admin.pickup", _l("Pickups waiting at my stores"), pickups_waiting(user))
    add("articles_admin.review_queue", _l("Articles in review"), articles.review_queue_query(),
        right="may_publish")
    add("articles_admin.due", _l("Articles due for re-promotion"),
        articles.due_query(author_id=None if user.role == "admin" else user.id))
    add("catalog_admin.products", _l("Low stock"), low_stock_skus(), stock="low")
    return items
