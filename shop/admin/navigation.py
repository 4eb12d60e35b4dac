"""The backoffice menu: pages grouped by job, each shown to the roles its route admits.

Who sees an entry is not written here: it is read from the route's own guard
(`roles_required` keeps the roles on the view), so the menu can never offer a page that
answers 403, nor hide one a role may open. A group with nothing for the role is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

# (group, ((endpoint, label[, right]), ...)), in the order of a working day. A right is a
# User attribute the page checks beyond the role (the review queue: the publishing right).
MENU = (
    (_l("Orders"), (
        ("orders.admin_list", _l("Orders")),
    )),
    (_l("Products"), (
        ("catalog_admin.products", _l("Products")),
        ("catalog_admin.categories", _l("Categories")),
        ("search_admin.index", _l("Search words")),
    )),
    (_l("Marketing"), (
        ("promotions_admin.overview", _l("Overview")),
        ("promotions_admin.coupons", _l("Coupons")),
        ("promotions_admin.promotions", _l("Full reductions and buy N get M")),
        ("promotions_admin.flash_sessions", _l("Flash sales")),
        ("promotions_admin.timed_prices", _l("Limited-time prices")),
        ("groups_admin.campaigns", _l("Group buys")),
        ("bargains_admin.campaigns", _l("Bargains")),
        ("points_admin.mall", _l("Points mall")),
    )),
    (_l("Content"), (
        ("articles_admin.index", _l("Articles")),
        ("home_admin.blocks", _l("Home page")),
        ("articles_admin.review_queue", _l("Review queue"), "may_publish"),
        ("articles_admin.due", _l("Due for re-promotion")),
        ("articles_admin.categories", _l("Article categories")),
        ("articles_admin.editors", _l("Editors")),
    )),
    (_l("Distribution"), (
        ("referrals_admin.distributors", _l("Distributors")),
        ("referrals_admin.withdrawals", _l("Withdrawals")),
        ("referrals_admin.commissions", _l("Commissions")),
        ("referrals_admin.levels", _l("Distributor levels")),
    )),
    (_l("Members"), (
        ("accounts_admin.customers", _l("Customer list")),
        ("members_admin.levels", _l("Member levels")),
        ("points_admin.adjust", _l("Points adjustments")),
        ("wallet.adjust", _l("Wallet adjustments")),
        ("wallet.packages", _l("Recharge packages")),
        ("points_admin.tasks", _l("Points tasks")),
    )),
    (_l("Stores"), (
        ("stores_admin.pickup", _l("Pickup verification")),
        ("stores_admin.stores", _l("Stores")),
    )),
    (_l("Data"), (
        ("analytics_admin.dashboard", _l("Business data")),
        ("analytics_admin.signals", _l("Operations signals")),
        ("audit_admin.log", _l("Audit log")),
    )),
    (_l("Settings"), (
        ("shipping_admin.templates", _l("Shipping templates")),
        ("referrals_admin.settings", _l("Distribution settings")),
        ("points_admin.settings", _l("Points settings")),
        ("points_admin.rates", _l("Points earning rates")),
    )),
)


@dataclass(frozen=True)
class Entry:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class Group:
    label: str
    entries: tuple[Entry, ...]

    @property
    def current(self) -> bool:
        return any(entry.current for entry in self.entries)


def may_open(user, endpoint: str, right: str | None = None) -> bool:
    """Whether the route admits the user's role (every backoffice route is guarded) and
    the user has the right the page asks for besides."""
    return (user.role in current_app.view_functions[endpoint].required_roles
            and (right is None or getattr(user, right)))


def menu_for(user) -> list[Group]:
    """The role's menu, with the entry of the page being shown marked: the page itself,
    or else the entry whose address is the longest start of this page's (a product's
    form is under Products)."""
    groups = [(label, [(endpoint, str(text), url_for(endpoint)) for endpoint, text, *right in entries
                       if may_open(user, endpoint, *right)])
              for label, entries in MENU]
    urls = [url for _, entries in groups for _, _, url in entries]
    here = request.path
    current = next((url for _, entries in groups for endpoint, _, url in entries
                    if endpoint == request.endpoint), None)
    if current is None:
        starts = [url for url in urls if here.startswith(url.rstrip("/") + "/") or here == url]
        current = max(starts, key=len, default=None)
    return [Group(str(label), tuple(Entry(text, url, url == current) for _, text, url in entries))
            for label, entries in groups if entries]

