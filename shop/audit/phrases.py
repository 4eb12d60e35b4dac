"""The audit log in words: each backoffice action (an endpoint) has a phrase — what was
done, and what was tried when it was refused — and, where it acts on one thing, the kind
of thing and where its id is (a view argument of the URL, or the row the action inserted).
An endpoint missing here still reads as words: "changed 2 rows in products" from the
tables it changed (tests/audit walks the URL map so that none is forgotten).

describe(rows) turns a page of entries into sentences with batched look-ups: one query
per kind of thing for their names, whatever the number of rows. Every kind is named by a
name, never by its number (a flash sale by its name, a group-buy campaign by its
product's title, a flash, bargain or points-mall item by its SKU: shop.catalog.labels, an
order by its number, a withdrawal by who and how much); "#N (deleted)" only when the row
is gone. change_names() and shown_value() do the same for an entry's change tables: a
table as its kind's label and its row's name (the table's own name and the row number
kept in small print), instants in the shop's time zone; column names stay as the
database has them, the technical detail under the heading "Column (technical name)"."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.routing import BuildError

from shop.db import db


@dataclass(frozen=True)
class Kind:
    """A kind of thing an action acts on: its name, its table (to find a row it inserted),
    the backoffice page that shows one (endpoint, view argument) and how one is named:
    `name`, a function of a list of ids giving {id: name} in one query (see _NAMES)."""

    label: object
    table: str
    endpoint: str | None = None
    arg: str | None = None
    name: Callable[[list[int]], dict[int, str]] | None = None


def _model(path: str):
    """"shop.catalog.models.Product" -> the class (imported when first named: phrases is
    imported by the audit log, below every domain)."""
    module, _dot, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _column(path: str, column: str) -> Callable[[list[int]], dict[int, str]]:
    """Things named by a column of their own row."""
    def names(ids: list[int]) -> dict[int, str]:
        model = _model(path)
        return {object_id: text for object_id, text in db.session.execute(
            select(model.id, getattr(model, column)).where(model.id.in_(ids)))}
    return names


def _by_sku(path: str) -> Callable[[list[int]], dict[int, str]]:
    """Things named by their SKU (a flash item, a bargain, a points-mall item): its
    product's title, options and code (shop.catalog.labels), SKU and product joined."""
    def names(ids: list[int]) -> dict[int, str]:
        from sqlalchemy.orm import joinedload

        from shop.catalog.labels import sku_label
        from shop.catalog.models import Sku

        model = _model(path)
        return {object_id: sku_label(sku) for object_id, sku in db.session.execute(
            select(model.id, Sku).join(Sku, Sku.id == model.sku_id)
            .options(joinedload(Sku.product)).where(model.id.in_(ids)))}
    return names


def _group_campaigns(ids: list[int]) -> dict[int, str]:
    """A group-buy campaign is named by its product's title."""
    from shop.catalog.models import Product
    from shop.groups.models import GroupCampaign

    return {object_id: title for object_id, title in db.session.execute(
        select(GroupCampaign.id, Product.title).join(Product, Product.id == GroupCampaign.product_id)
        .where(GroupCampaign.id.in_(ids)))}


def _orders(ids: list[int]) -> dict[int, str]:
    """An order by its number (Order.number), as the orders' pages show it."""
    from sqlalchemy.orm import load_only

    from shop.orders.models import Order

    return {order.id: order.number for order in db.session.scalars(
        select(Order).options(load_only(Order.id, Order.created_at)).where(Order.id.in_(ids)))}


def _customers(ids: list[int]) -> dict[int, str]:
    """A customer by nickname, else email."""
    from shop.accounts.models import User

    return {object_id: nickname or email for object_id, nickname, email in db.session.execute(
        select(User.id, User.nickname, User.email).where(User.id.in_(ids)))}


def _withdrawals(ids: list[int]) -> dict[int, str]:
    """A withdrawal by who asked and how much: "张三 · ¥100.00"."""
    from shop.accounts.models import User
    from shop.money import format_minor
    from shop.referrals.models import Withdrawal

    return {object_id: f"{nickname or email} · {format_minor(amount, currency)}"
            for object_id, nickname, email, amount, currency in db.session.execute(
                select(Withdrawal.id, User.nickname, User.email, Withdrawal.amount_minor,
                       Withdrawal.currency).join(User, User.id == Withdrawal.user_id)
                .where(Withdrawal.id.in_(ids)))}


def _packages(ids: list[int]) -> dict[int, str]:
    """A top-up package by what it takes and gives: "pay ¥100.00, get ¥110.00"."""
    from flask import current_app

    from shop.money import format_minor
    from shop.wallet.models import RechargePackage

    currency = current_app.config["SHOP_CURRENCY"]
    return {object_id: _("pay %(pay)s, get %(credit)s", pay=format_minor(pay, currency),
                         credit=format_minor(credit, currency))
            for object_id, pay, credit in db.session.execute(
                select(RechargePackage.id, RechargePackage.pay_minor, RechargePackage.credit_minor)
                .where(RechargePackage.id.in_(ids)))}


KINDS = {
    "product": Kind(_l("product"), "products", "catalog_admin.product_form", "product_id",
                    _column("shop.catalog.models.Product", "title")),
    "product_category": Kind(_l("product category"), "categories", "catalog_admin.category_form",
                             "category_id", _column("shop.catalog.models.Category", "name")),
    "coupon": Kind(_l("coupon"), "coupons", "promotions_admin.edit_coupon", "coupon_id",
                   _column("shop.promotions.models.Coupon", "name")),
    "promotion": Kind(_l("promotion"), "promotions", "promotions_admin.edit_promotion",
                      "promotion_id", _column("shop.promotions.models.Promotion", "name")),
    "flash_session": Kind(_l("flash sale"), "flash_sessions", "promotions_admin.edit_flash_session",
                          "session_id", _column("shop.promotions.models.FlashSession", "name")),
    "flash_item": Kind(_l("flash sale item"), "flash_items", name=_by_sku("shop.promotions.models.FlashItem")),
    "timed_price": Kind(_l("timed price"), "timed_prices", "promotions_admin.edit_timed_price",
                        "timed_id", _column("shop.promotions.models.TimedPrice", "name")),
    "order": Kind(_l("order"), "orders", "orders.admin_detail", "order_id", _orders),
    "article": Kind(_l("article"), "articles", "articles_admin.edit", "article_id",
                    _column("shop.articles.models.Article", "title")),
    "article_category": Kind(_l("article category"), "article_categories",
                             "articles_admin.category_form", "category_id",
                             _column("shop.articles.models.ArticleCategory", "name")),
    "customer": Kind(_l("customer"), "users", "accounts_admin.customer", "user_id", _customers),
    "store": Kind(_l("store"), "stores", "stores_admin.store_form", "store_id",
                  _column("shop.stores.models.Store", "name")),
    "group_campaign": Kind(_l("group-buy campaign"), "group_campaigns", "groups_admin.edit",
                           "campaign_id", _group_campaigns),
    "bargain_campaign": Kind(_l("bargain campaign"), "bargain_campaigns",
                             "bargains_admin.edit_campaign", "campaign_id",
                             _by_sku("shop.bargains.models.BargainCampaign")),
    "mall_item": Kind(_l("points-mall item"), "mall_items", "points_admin.edit_item", "item_id",
                      _by_sku("shop.points.models.MallItem")),
    "member_level": Kind(_l("member level"), "member_levels", "members_admin.edit_level",
                         "level_id", _column("shop.members.models.MemberLevel", "name")),
    "distributor_level": Kind(_l("distributor level"), "distributor_levels",
                              "referrals_admin.edit_level", "level_id",
                              _column("shop.referrals.models.DistributorLevel", "name")),
    "withdrawal": Kind(_l("withdrawal"), "withdrawals", name=_withdrawals),
    "shipping_template": Kind(_l("shipping template"), "shipping_templates",
                              "shipping_admin.template_form", "template_id",
                              _column("shop.shipping.models.ShippingTemplate", "name")),
    "wallet_package": Kind(_l("top-up package"), "recharge_packages", name=_packages),
}
# The kind a table's rows are (an entry's changes name their tables).
TABLE_KINDS = {kind.table: key for key, kind in KINDS.items()}


@dataclass(frozen=True)
class Action:
    """done: the phrase of a success ("created coupon"); tried: of a refusal ("create
    coupon"); kind and arg: the thing acted on and the view argument holding its id
    (none: the row of the kind's table the action inserted); new: (done, tried) when the
    route was called without that argument (a form that creates or edits); price: (done,
    tried) when the action changed a price column."""

    done: object
    tried: object
    kind: str | None = None
    arg: str | None = None
    new: tuple | None = None
    price: tuple | None = None


def A(done, tried, kind=None, arg=None, **more) -> Action:  # noqa: N802  (a table of rows)
    return Action(done, tried, kind, arg, **more)


ACTIONS: dict[str, Action] = {
    # accounts and customers
    "accounts_admin.add_tag": A(_l("tagged customer"), _l("tag customer"), "customer", "user_id"),
    "accounts_admin.remove_tag": A(_l("removed a tag from customer"), _l("remove a tag from customer"),
                                   "customer", "user_id"),
    "accounts_admin.disable": A(_l("disabled the account of"), _l("disable the account of"),
                                "customer", "user_id"),
    "accounts_admin.enable": A(_l("enabled the account of"), _l("enable the account of"),
                               "customer", "user_id"),
    "accounts_admin.roles": A(_l("changed the role of"), _l("change the role of"), "customer",
                              "user_id"),
    # articles
    "articles_admin.category_form": A(_l("changed article category"), _l("change article category"),
                                      "article_category", "category_id",
                                      new=(_l("created article category"), _l("create article category"))),
    "articles_admin.change_status": A(_l("changed the status of article"),
                                      _l("change the status of article"), "article", "article_id"),
    "articles_admin.edit": A(_l("edited article"), _l("edit article"), "article", "article_id",
                             new=(_l("wrote article"), _l("write article"))),
    "articles_admin.preview": A(_l("previewed an article"), _l("preview an article")),
    "articles_admin.promoted": A(_l("marked as promoted article"), _l("mark as promoted article"),
                                 "article", "article_id"),
    "articles_admin.publishing": A(_l("changed the publishing right of"),
                                   _l("change the publishing right of"), "customer", "user_id"),
    "articles_admin.restore": A(_l("restored an earlier revision of article"),
                                _l("restore an earlier revision of article"), "article", "article_id"),
    # bargains, group buys
    "bargains_admin.edit_campaign": A(_l("changed bargain campaign"), _l("change bargain campaign"),
                                      "bargain_campaign", "campaign_id"),
    "bargains_admin.new_campaign": A(_l("created bargain campaign"), _l("create bargain campaign"),
                                     "bargain_campaign"),
    "groups_admin.edit": A(_l("changed group-buy campaign"), _l("change group-buy campaign"),
                           "group_campaign", "campaign_id"),
    "groups_admin.new": A(_l("created group-buy campaign"), _l("create group-buy campaign"),
                          "group_campaign"),
    # catalogue
    "catalog_admin.archive": A(_l("archived product"), _l("archive product"), "product", "product_id"),
    "catalog_admin.category_form": A(_l("changed product category"), _l("change product category"),
                                     "product_category", "category_id",
                                     new=(_l("created product category"), _l("create product category"))),
    "catalog_admin.delete_image": A(_l("deleted an image of product"), _l("delete an image of product"),
                                    "product", "product_id"),
    "catalog_admin.product_form": A(_l("changed product"), _l("change product"), "product", "product_id",
                                    new=(_l("created product"), _l("create product")),
                                    price=(_l("changed the price of product"),
                                           _l("change the price of product"))),
    "catalog_admin.upload_image": A(_l("added an image to product"), _l("add an image to product"),
                                    "product", "product_id"),
    # the home page
    "home_admin.block": A(_l("saved a home page block"), _l("save a home page block")),
    "home_admin.delete_block": A(_l("deleted a home page block"), _l("delete a home page block")),
    "home_admin.move_block": A(_l("moved a home page block"), _l("move a home page block")),
    "home_admin.slide": A(_l("saved a slide of a home page banner"),
                          _l("save a slide of a home page banner")),
    "home_admin.delete_slide": A(_l("deleted a slide of a home page banner"),
                                 _l("delete a slide of a home page banner")),
    "home_admin.move_slide": A(_l("moved a slide of a home page banner"),
                               _l("move a slide of a home page banner")),
    "home_admin.collection": A(_l("saved a product collection"), _l("save a product collection")),
    "home_admin.delete_collection": A(_l("deleted a product collection"),
                                      _l("delete a product collection")),
    "home_admin.move_collection_product": A(_l("reordered a product collection"),
                                            _l("reorder a product collection")),
    # members, points
    "members_admin.delete_level": A(_l("deleted member level"), _l("delete member level"),
                                    "member_level", "level_id"),
    "members_admin.edit_level": A(_l("changed member level"), _l("change member level"),
                                  "member_level", "level_id"),
    "members_admin.levels": A(_l("created member level"), _l("create member level"), "member_level"),
    "points_admin.adjust": A(_l("adjusted the points of a customer"), _l("adjust the points of a customer")),
    "points_admin.edit_item": A(_l("changed points-mall item"), _l("change points-mall item"),
                                "mall_item", "item_id"),
    "points_admin.item_stock": A(_l("changed the stock of points-mall item"),
                                 _l("change the stock of points-mall item"), "mall_item", "item_id"),
    "points_admin.new_item": A(_l("created points-mall item"), _l("create points-mall item"), "mall_item"),
    "points_admin.rates": A(_l("changed the points rates"), _l("change the points rates")),
    "points_admin.save_task": A(_l("changed a points task"), _l("change a points task")),
    "points_admin.settings": A(_l("changed the points settings"), _l("change the points settings")),
    # orders
    "orders.admin_cancel": A(_l("cancelled order"), _l("cancel order"), "order", "order_id"),
    "orders.admin_decline_refund": A(_l("declined the refund request of order"),
                                     _l("decline the refund request of order"), "order", "order_id"),
    "orders.admin_refund": A(_l("refunded order"), _l("refund order"), "order", "order_id"),
    "orders.admin_ship": A(_l("shipped order"), _l("ship order"), "order", "order_id"),
    "orders.admin_ship_batch": A(_l("read a batch of shipments"), _l("read a batch of shipments")),
    "orders.admin_ship_batch_confirm": A(_l("shipped a batch of orders"), _l("ship a batch of orders")),
    # promotions
    "promotions_admin.add_flash_item": A(_l("added an item to flash sale"), _l("add an item to flash sale"),
                                         "flash_session", "session_id"),
    "promotions_admin.change_flash_item": A(_l("changed flash sale item"), _l("change flash sale item"),
                                            "flash_item", "item_id"),
    "promotions_admin.edit_coupon": A(_l("changed coupon"), _l("change coupon"), "coupon", "coupon_id"),
    "promotions_admin.edit_flash_session": A(_l("changed flash sale"), _l("change flash sale"),
                                             "flash_session", "session_id"),
    "promotions_admin.edit_promotion": A(_l("changed promotion"), _l("change promotion"), "promotion",
                                         "promotion_id"),
    "promotions_admin.edit_timed_price": A(_l("changed timed price"), _l("change timed price"),
                                           "timed_price", "timed_id"),
    "promotions_admin.grant_coupon": A(_l("granted coupon"), _l("grant coupon"), "coupon", "coupon_id"),
    "promotions_admin.new_coupon": A(_l("created coupon"), _l("create coupon"), "coupon"),
    "promotions_admin.new_flash_session": A(_l("created flash sale"), _l("create flash sale"),
                                            "flash_session"),
    "promotions_admin.new_promotion": A(_l("created promotion"), _l("create promotion"), "promotion"),
    "promotions_admin.new_timed_price": A(_l("created timed price"), _l("create timed price"),
                                          "timed_price"),
    # distribution
    "referrals_admin.decide": A(_l("decided on the distributor application of"),
                                _l("decide on the distributor application of"), "customer", "user_id"),
    "referrals_admin.decide_withdrawal": A(_l("decided on withdrawal"), _l("decide on withdrawal"),
                                           "withdrawal", "withdrawal_id"),
    "referrals_admin.delete_rate": A(_l("deleted a commission rate of product"),
                                     _l("delete a commission rate of product"), "product", "product_id"),
    "referrals_admin.edit_level": A(_l("changed distributor level"), _l("change distributor level"),
                                    "distributor_level", "level_id"),
    "referrals_admin.levels": A(_l("created distributor level"), _l("create distributor level"),
                                "distributor_level"),
    "referrals_admin.mark_paid": A(_l("marked as paid withdrawal"), _l("mark as paid withdrawal"),
                                   "withdrawal", "withdrawal_id"),
    "referrals_admin.rates": A(_l("changed the commission rates of product"),
                               _l("change the commission rates of product"), "product", "product_id"),
    "referrals_admin.set_level": A(_l("changed the distributor level of"),
                                   _l("change the distributor level of"), "customer", "user_id"),
    "referrals_admin.settings": A(_l("changed the distribution settings"),
                                  _l("change the distribution settings")),
    "referrals_admin.standing": A(_l("changed the distributor standing of"),
                                  _l("change the distributor standing of"), "customer", "user_id"),
    # shipping
    "shipping_admin.auto_complete": A(_l("changed when orders complete by themselves"),
                                      _l("change when orders complete by themselves")),
    "shipping_admin.make_default": A(_l("made default shipping template"),
                                     _l("make default shipping template"), "shipping_template",
                                     "template_id"),
    "shipping_admin.template_form": A(_l("changed shipping template"), _l("change shipping template"),
                                      "shipping_template", "template_id",
                                      new=(_l("created shipping template"), _l("create shipping template"))),
    # search
    "search_admin.index": A(_l("added synonyms"), _l("add synonyms")),
    "search_admin.edit": A(_l("changed synonyms"), _l("change synonyms")),
    "search_admin.delete": A(_l("deleted synonyms"), _l("delete synonyms")),
    "search_admin.keywords": A(_l("changed the search keywords"), _l("change the search keywords")),
    # stores and pickup
    "stores_admin.add_staff": A(_l("added staff to store"), _l("add staff to store"), "store", "store_id"),
    "stores_admin.confirm": A(_l("confirmed a pickup"), _l("confirm a pickup")),
    "stores_admin.look_up": A(_l("looked up a pickup code"), _l("look up a pickup code")),
    "stores_admin.remove_staff": A(_l("removed staff from store"), _l("remove staff from store"),
                                   "store", "store_id"),
    "stores_admin.store_form": A(_l("changed store"), _l("change store"), "store", "store_id",
                                 new=(_l("created store"), _l("create store"))),
    # wallet
    "wallet.adjust": A(_l("adjusted the wallet of a customer"), _l("adjust the wallet of a customer")),
    "wallet.packages": A(_l("created a top-up package"), _l("create a top-up package"), "wallet_package"),
    "wallet.toggle_package": A(_l("switched top-up package on or off"), _l("switch top-up package on or off"),
                               "wallet_package", "package_id"),
}

# Why an action was refused, by HTTP status.
REFUSALS = {400: _l("bad request"), 403: _l("not allowed"), 404: _l("not found"),
            409: _l("not possible in this state"), 413: _l("too large"),
            422: _l("the form had errors"), 429: _l("too many attempts")}
PRICE_COLUMNS = ("price_minor", "list_price_minor")


def reason(status: int) -> str:
    if status >= 500:
        return _("a server error")
    return str(REFUSALS.get(status, _("refused")))


def target_args(target: str) -> dict[str, int]:
    """"product_id=4, image_id=9" -> {"product_id": 4, "image_id": 9} (numbers only)."""
    found = {}
    for part in (target or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if value.isascii() and value.isdigit():
            found[key] = int(value)
    return found


# The area of the backoffice an action belongs to (its blueprint), as the log's filter
# names it.
AREAS = {
    "admin": _l("Backoffice home"), "accounts_admin": _l("Customer list"),
    "analytics_admin": _l("Business data"), "articles_admin": _l("Articles"),
    "audit_admin": _l("Audit log"), "bargains_admin": _l("Bargains"),
    "catalog_admin": _l("Products"), "groups_admin": _l("Group buys"),
    "home_admin": _l("Home page"),
    "members_admin": _l("Member levels"), "orders": _l("Orders"), "points_admin": _l("Points"),
    "promotions_admin": _l("Promotions"), "referrals_admin": _l("Distribution"),
    "search_admin": _l("Search words"),
    "shipping_admin": _l("Shipping templates"), "stores_admin": _l("Stores"),
    "wallet": _l("Wallet"),
}


def phrase_choices() -> list[tuple[str, str]]:
    """(endpoint, phrase) of every registered action, by phrase: the log's action filter."""
    return sorted(((endpoint, str(action.tried)) for endpoint, action in ACTIONS.items()),
                  key=lambda pair: pair[1].lower())


def endpoints_of(kind: str) -> list[str]:
    return sorted(endpoint for endpoint, action in ACTIONS.items() if action.kind == kind)


@dataclass
class Sentence:
    """One entry in words; the template puts who, phrase and thing together."""

    who: str | None  # nickname, None: the account is gone
    role: str | None  # role label then
    phrase: str
    refused: bool
    reason: str
    kind: str | None = None
    object_id: int | None = None
    label: str | None = None
    url: str | None = None


def _object_id(entry, action: Action, args: dict[str, int]) -> int | None:
    if action.kind is None:
        return None
    if action.arg and action.arg in args:
        return args[action.arg]
    table = KINDS[action.kind].table
    for change in entry.changes or []:
        if change.get("op") == "insert" and change.get("table") == table and isinstance(change.get("id"), int):
            return change["id"]
    return None


def _changed_price(entry) -> bool:
    return any(column in (change.get("after") or {}) for change in entry.changes or []
               for column in PRICE_COLUMNS if change.get("op") == "update")


def _fallback(entry) -> str:
    if entry.refused:
        return _("tried a backoffice action")
    rows = [change for change in entry.changes or [] if change.get("table")]
    if not rows:
        return _("did a backoffice action that changed nothing")
    tables = ", ".join(dict.fromkeys(change["table"] for change in rows))
    return ngettext("changed %(num)d row in %(tables)s", "changed %(num)d rows in %(tables)s",
                    len(rows), tables=tables)


def _phrase(entry, action: Action | None, args: dict[str, int]) -> str:
    if action is None:
        return _fallback(entry)
    done, tried = action.done, action.tried
    if action.new and action.arg and action.arg not in args:
        done, tried = action.new
    elif action.price and not entry.refused and _changed_price(entry):
        done, tried = action.price
    return str(tried if entry.refused else done)


def _labels(wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """Names of the things, one query per kind, whatever the number of entries."""
    labels = {}
    for kind, ids in wanted.items():
        namer = KINDS[kind].name
        if not ids or namer is None:
            continue
        for object_id, label in namer(sorted(ids)).items():
            labels[(kind, object_id)] = label
    return labels


def _url(kind: str, object_id: int) -> str | None:
    spec = KINDS[kind]
    if spec.endpoint is None:
        return None
    try:
        return url_for(spec.endpoint, **{spec.arg: object_id})
    except BuildError:  # the page does not exist (yet): the name alone
        return None


def describe(rows) -> dict[int, Sentence]:
    """{entry id: Sentence} for rows of (entry, email, nickname), with the names of the
    things they acted on looked up in one query per kind."""
    from shop.accounts.models import ROLE_LABELS

    found: dict[int, Sentence] = {}
    wanted: dict[str, set[int]] = {}
    for entry, _email, nickname in rows:
        action = ACTIONS.get(entry.endpoint)
        args = target_args(entry.target)
        sentence = Sentence(
            who=nickname, role=str(ROLE_LABELS[entry.actor_role]) if entry.actor_role in ROLE_LABELS
            else entry.actor_role, phrase=_phrase(entry, action, args), refused=entry.refused,
            reason=reason(entry.status) if entry.refused else "")
        object_id = _object_id(entry, action, args) if action else None
        if object_id is not None:
            sentence.kind, sentence.object_id = action.kind, object_id
            wanted.setdefault(action.kind, set()).add(object_id)
        found[entry.id] = sentence
    labels = _labels(wanted)
    for sentence in found.values():
        if sentence.kind is not None:
            sentence.label = labels.get((sentence.kind, sentence.object_id))
            if sentence.label is not None:
                sentence.url = _url(sentence.kind, sentence.object_id)
            else:  # deleted since: no page to link to
                sentence.label = _("#%(id)d (deleted)", id=sentence.object_id)
    return found


# --- an entry's changes, for people ----------------------------------------------------------


@dataclass
class ChangeNames:
    """What the change tables show instead of table names and ids: {table: the kind's
    label} and {(table, id): the row's name} (one query per kind, as describe())."""

    tables: dict[str, str]
    rows: dict[tuple[str, int], str]

    def table(self, table: str) -> str | None:
        return self.tables.get(table)

    def row(self, table: str, row_id) -> str | None:
        return self.rows.get((table, row_id)) if isinstance(row_id, int) else None


def change_names(entries) -> ChangeNames:
    """The kinds' labels of the tables the entries changed, and the names of the rows
    still there (a deleted row keeps its number)."""
    wanted: dict[str, set[int]] = {}
    tables = {}
    for entry in entries:
        for change in entry.changes or []:
            kind = TABLE_KINDS.get(change.get("table"))
            if kind is None:
                continue
            tables[change["table"]] = str(KINDS[kind].label)
            if isinstance(change.get("id"), int):
                wanted.setdefault(kind, set()).add(change["id"])
    rows = {(KINDS[kind].table, object_id): label
            for (kind, object_id), label in _labels(wanted).items()}
    return ChangeNames(tables, rows)


ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)$")


def shown_value(value):
    """A changed column's value as the backoffice shows values: an instant (kept as UTC
    ISO text by shop.audit.services.jsonable) in the shop's time zone, formatted like
    every other date of the backoffice (flask_babel.format_datetime); others as they are."""
    from flask_babel import format_datetime

    if isinstance(value, str) and ISO_INSTANT.match(value):
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return format_datetime(instant, "medium")
    return value
