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
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.db import db
from shop.orders import services as orders
from shop.referrals.models import Distributor, Withdrawal


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    url: str


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def low_stock_products():
    """Products not archived with an active SKU of LOW_STOCK_THRESHOLD units or fewer: the
    rows the product list's "Low stock" filter shows."""
    return select(Product.id).where(Product.archived_at.is_(None), catalog.low_stock_condition(
        current_app.config["LOW_STOCK_THRESHOLD"]))


def todos(user) -> list[Todo]:
    items: list[Todo] = []

    def add(endpoint: str, label, count, right: str | None = None, handled_at: str | None = None,
            **args) -> None:
        """`count`: a query whose rows are counted, or a function of no argument;
        `handled_at`: the route that does the work, when it is not the list's (the
        to-do is shown only to those it admits)."""
        if may_open(user, endpoint, right) and may_open(user, handled_at or endpoint):
            number = count() if callable(count) else _count(count)
            items.append(Todo(str(label), number, url_for(endpoint, **args)))

    scope = orders.order_scope(user)
    add("orders.admin_aftersales", _l("Refund requests to handle"),
        lambda: orders.count_refunds_to_handle(scope), handled_at="orders.admin_refund")
    if scope.everything:  # store staff see their stores' pickup orders: nothing to ship
        add("orders.admin_list", _l("Paid orders to ship"), lambda: orders.count_to_ship(scope),
            status="to_ship")
    add("referrals_admin.withdrawals", _l("Withdrawals to approve"),
        select(Withdrawal.id).where(Withdrawal.status == "requested"), status="requested")
    add("referrals_admin.distributors", _l("Distributor applications"),
        select(Distributor.user_id).where(Distributor.status == "applied"), status="applied")
    add("orders.admin_list", _l("Pickups waiting at my stores"),
        lambda: orders.count_awaiting_pickup(scope), handled_at="stores_admin.pickup",
        status="awaiting_pickup")
    add("articles_admin.review_queue", _l("Articles in review"), articles.review_queue_query(),
        right="may_publish")
    add("articles_admin.due", _l("Articles due for re-promotion"),
        articles.due_query(author_id=None if user.role == "admin" else user.id))
    add("catalog_admin.products", _l("Low stock"), low_stock_products(), stock="low")
    return items
