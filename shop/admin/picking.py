"""Pickers: backoffice forms choose products, SKUs, categories, stores and customers by
name, never by a typed number (DESIGN section 10).

- search(kind, q): up to ten matches, each a Choice (what the picker shows: a name, a
  line of detail, a thumbnail). Two queries at most, whatever the count.
- PickField(kind=..., multiple=...): the one WTForms field behind every picker. It takes
  what the picker posts, a token "sku:12" (a bare "12" is read as an id of the field's
  own kind: what older pages and the tests post), and checks that the id names a row of
  that kind: a product's token posted to an SKU field, an unknown id, a number out of
  range or garbage is a form error and nothing is saved. The chosen rows are
  `field.chosen` (one object or None) and `field.chosen_list`.
- A search term posted with the form (q_<name>, the no-JavaScript path) is a search,
  not a choice: the field fails validation with the matches in `field.matches`, and the
  page shows them as radio buttons (or checkboxes) to choose from and post again.

The page side is templates/_macros/picker.html; the search fragment is GET
/admin/pick/<kind> (shop/admin/pickers.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from shop.db import db

MAX_ID = 2**31 - 1
LIMIT = 10
TOKEN = re.compile(r"^(?:([a-z]+):)?(\d{1,10})$")

KIND_LABELS = {"product": _l("a product"), "sku": _l("an SKU"), "category": _l("a category"),
               "store": _l("a store"), "customer": _l("a customer")}
KIND_NAMES = {"product": _l("product"), "sku": _l("SKU"), "category": _l("category"),
              "store": _l("store"), "customer": _l("customer")}
SEARCH_HINTS = {"product": _l("Search by product name or code"),
                "sku": _l("Search by product name or SKU code"),
                "category": _l("Search by category name"),
                "store": _l("Search by store name or city"),
                "customer": _l("Search by nickname, email or phone")}
KINDS = tuple(KIND_LABELS)


@dataclass(frozen=True)
class Choice:
    """One row a picker shows: `token` is what the form posts."""

    kind: str
    id: int
    title: str
    detail: str = ""
    image: Any = None  # something with .key and .widths (a ProductImage), or None
    avatar: tuple[str, str] | None = None  # (key, widths) of a customer's avatar

    @property
    def token(self) -> str:
        return f"{self.kind}:{self.id}"


# --- the kinds ------------------------------------------------------------------------------


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def mask_email(email: str) -> str:
    """'zhang.san@example.com' -> 'zh***@example.com': enough to tell people apart."""
    name, _at, domain = (email or "").partition("@")
    return f"{name[:2]}***@{domain}" if domain else "***"


def mask_phone(phone: str | None) -> str:
    """'13800138000' -> '138****8000'."""
    digits = (phone or "").strip()
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else ""


def _money(minor: int, currency: str) -> str:
    from shop.money import format_minor

    return format_minor(minor, currency)


def describe(kind: str, obj) -> Choice:
    """The Choice showing `obj` (a row of `kind`)."""
    if kind == "product":
        status = "" if obj.on_sale else " · " + _("not on sale")
        return Choice(kind, obj.id, obj.title,
                      f"{obj.code} · {_money(obj.price_minor, obj.currency)}{status}", obj.cover)
    if kind == "sku":
        product = obj.product
        spec = " / ".join(str(v) for v in obj.option_values or [])
        detail = " · ".join(part for part in (
            spec, obj.code, _money(obj.price_minor, product.currency),
            _("stock %(n)d", n=obj.stock), "" if obj.active else _("not sold")) if part)
        return Choice(kind, obj.id, product.title, detail, product.cover)
    if kind == "category":
        return Choice(kind, obj.id, obj.name, obj.parent.name if obj.parent else "")
    if kind == "store":
        return Choice(kind, obj.id, obj.name, f"{obj.city} · {obj.address}")
    if kind == "customer":
        detail = " · ".join(part for part in (mask_email(obj.email), mask_phone(obj.phone)) if part)
        avatar = (obj.avatar_key, obj.avatar_widths) if obj.avatar_key else None
        return Choice(kind, obj.id, obj.nickname, detail, avatar=avatar)
    raise ValueError(kind)


def _statement(kind: str):
    """The kind's select with what describe() reads loaded in the same few queries."""
    from shop.accounts.models import User
    from shop.catalog.models import Category, Product, Sku
    from shop.stores.models import Store

    if kind == "product":
        return Product, select(Product).options(selectinload(Product.images))
    if kind == "sku":
        return Sku, select(Sku).join(Sku.product).options(
            joinedload(Sku.product).selectinload(Product.images))
    if kind == "category":
        return Category, select(Category).options(joinedload(Category.parent))
    if kind == "store":
        return Store, select(Store)
    if kind == "customer":
        return User, select(User)
    raise ValueError(kind)


def search(kind: str, q: str, limit: int = LIMIT) -> list[Choice]:
    """Up to `limit` rows of `kind` whose name (or code, email...) holds `q`; a number
    also finds the row with that id."""
    from shop.accounts.models import User
    from shop.catalog.models import Category, Product, Sku
    from shop.stores.models import Store

    q = (q or "").strip()[:64]
    if not q:
        return []
    model, stmt = _statement(kind)
    pattern = _like(q)
    columns = {
        "product": (Product.title, Product.code),
        "sku": (Product.title, Sku.code, Product.code),
        "category": (Category.name, Category.slug),
        "store": (Store.name, Store.city, Store.address),
        "customer": (User.nickname, User.email, User.phone),
    }[kind]
    found = [column.ilike(pattern, escape="\\") for column in columns]
    if q.isascii() and q.isdigit() and int(q) <= MAX_ID:
        found.append(model.id == int(q))
    stmt = stmt.where(or_(*found))
    if kind in ("product", "sku"):
        stmt = stmt.where(Product.archived_at.is_(None))
    if kind == "sku":
        stmt = stmt.order_by(Sku.active.desc(), Product.id.desc(), Sku.position, Sku.id)
    elif kind == "customer":
        stmt = stmt.where(User.active.is_(True)).order_by(User.id.desc())
    else:
        stmt = stmt.order_by(model.id.desc())
    rows = db.session.scalars(stmt.limit(limit)).unique().all()
    return [describe(kind, row) for row in rows]


def load(kind: str, ids: list[int]) -> dict[int, Any]:
    """{id: row} of the rows of `kind` among `ids` (one query, two for products)."""
    if not ids:
        return {}
    model, stmt = _statement(kind)
    rows = db.session.scalars(stmt.where(model.id.in_(ids))).unique().all()
    return {row.id: row for row in rows}


# --- the form field ---------------------------------------------------------------------------


class PickField(Field):
    """A product, SKU, category, store or customer chosen with a picker (see the module's
    docstring). `data` is the chosen id (or, with multiple=True, the sorted list of
    ids); rendered by the `picker` macro of templates/_macros/picker.html."""

    def __init__(self, label=None, validators=None, *, kind: str, multiple: bool = False,
                 most: int = 200, **kwargs):
        if kind not in KINDS:
            raise ValueError(f"unknown picker kind {kind!r}")
        super().__init__(label, validators, **kwargs)
        self.kind, self.multiple, self.most = kind, multiple, most
        self.query = ""
        self.matches: list[Choice] | None = None
        self._loaded: dict[int, Any] | None = None

    # what the page posts

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.query, self.matches, self._loaded = "", None, None
        if formdata is not None:
            self.query = (formdata.get("q_" + self.name) or "").strip()[:64]
        super().process(formdata, data, extra_filters=extra_filters)

    def process_data(self, value):
        if self.multiple:
            self.data = sorted({int(v) for v in value or []})
        else:
            self.data = int(value) if value not in (None, "") else None

    def process_formdata(self, valuelist):
        self._loaded = None
        values = [v.strip() for v in valuelist if v and v.strip()]
        self.data = [] if self.multiple else None
        if not values:
            return
        if not self.multiple and len(values) > 1:
            raise ValueError(_("Choose one."))
        if len(values) > self.most:
            raise ValueError(_("Choose at most %(n)d.", n=self.most))
        ids = []
        for value in values:
            match = TOKEN.match(value)
            if not match or not 1 <= int(match[2]) <= MAX_ID:
                raise ValueError(_("Choose from the search results."))
            if match[1] and match[1] != self.kind:
                raise ValueError(_("This takes %(kind)s, not %(other)s.",
                                   kind=KIND_LABELS[self.kind],
                                   other=KIND_LABELS.get(match[1], _("something else"))))
            ids.append(int(match[2]))
        self.data = sorted(set(ids)) if self.multiple else ids[0]

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.query:
            self.matches = search(self.kind, self.query)
            raise StopValidation(_("Choose one of the matches below.") if self.matches else
                                 _("Nothing matches “%(q)s”. Try another search.", q=self.query))
        missing = [i for i in self.ids if i not in self.loaded]
        if missing:
            raise StopValidation(_("No %(kind)s has this number: %(ids)s. Search and choose again.",
                                   kind=KIND_NAMES[self.kind], ids=", ".join(map(str, missing))))

    # what the view and the page read

    @property
    def ids(self) -> list[int]:
        if self.multiple:
            return list(self.data or [])
        return [self.data] if isinstance(self.data, int) else []

    @property
    def loaded(self) -> dict[int, Any]:
        if self._loaded is None:
            self._loaded = load(self.kind, self.ids)
        return self._loaded

    @property
    def chosen_list(self) -> list[Any]:
        return [self.loaded[i] for i in self.ids if i in self.loaded]

    @property
    def chosen(self):
        chosen = self.chosen_list
        return chosen[0] if chosen else None

    @property
    def search_hint(self) -> str:
        return str(SEARCH_HINTS[self.kind])

    def current(self) -> list[Choice]:
        """The chosen rows as the picker shows them (unknown ids left out)."""
        return [describe(self.kind, row) for row in self.chosen_list]

    def _value(self):
        return ",".join(f"{self.kind}:{i}" for i in self.ids)

