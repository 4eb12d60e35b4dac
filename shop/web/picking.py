"""Pickers: backoffice forms choose products, SKUs, categories, stores and customers by
name, never by a typed number (DESIGN section 10).

The machinery is here, below every domain; the kinds are not. Each domain registers the
kinds it owns from a small module of its own, imported by its blueprint module (so every
create_app() has them): shop/catalog/picking.py (product, sku, category),
shop/stores/picking.py (store), shop/accounts/picking.py (customer). shop.web imports no
domain; the domains' forms import this module, and the backoffice shell (shop.admin),
which imports the domains, only serves the search fragment.

- register(Kind(...)): a kind's name ("sku"), its words (label "an SKU", noun "SKU", the
  search box's hint), its model, the statement that loads its rows with what describe()
  reads (eager loads: a search costs the same few queries for one match or ten), the
  columns a search looks in, extra conditions and an order for a search, and
  describe(row) -> Choice.
- lookup(name): the registered Kind; an unknown name is a LookupError (UnknownKind) that
  says which kinds exist and where they are registered. is_kind(name) for a yes or no.
- search(name, q): up to ten matches, each a Choice (what the picker shows: a name, a
  line of detail, a thumbnail). A number also finds the row with that id.
- PickField(kind=..., multiple=...): the one WTForms field behind every picker. It takes
  what the picker posts, a token "sku:12" (a bare "12" is read as an id of the field's
  own kind: what older pages and the tests post), and checks that the id names a row of
  that kind: a product's token posted to an SKU field, an unknown id, a number out of
  range or garbage is a form error and nothing is saved. The chosen rows are
  `field.chosen` (one object or None) and `field.chosen_list`.
- A search term posted with the form (q_<name>, the no-JavaScript path) is a search,
  not a choice: the field fails validation with the matches in `field.matches`, and the
  page shows them as radio buttons (or checkboxes) to choose from and post again. A
  search is not a save either: the form's validation then fails with no error on its
  other fields (nothing "required" was missed; see `searched()`), so the form comes back
  as it was typed, with the matches.

The page side is templates/_macros/picker.html; the search fragment is GET
/admin/pick/<kind> (shop/admin/pickers.py, endpoint admin.pick).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import or_
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from shop.db import db

MAX_ID = 2**31 - 1
LIMIT = 10
TOKEN = re.compile(r"^(?:([a-z]+):)?(\d{1,10})$")


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


# --- the registry of kinds ----------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of thing a picker chooses, as its domain registers it.

    name       the token's prefix and the URL's <kind>: "sku"
    label      with its article, for messages: _l("an SKU")
    noun       without: _l("SKU")
    hint       the search box's label: _l("Search by product name or SKU code")
    model      the mapped class (its `id` is what the form posts)
    statement  () -> the select of `model` loading what describe() reads
    columns    () -> the columns a search looks in (ILIKE %q%)
    where      () -> extra conditions of a search (not of loading a chosen id)
    order_by   () -> a search's order (default: newest id first)
    describe   row -> Choice
    """

    name: str
    label: Any
    noun: Any
    hint: Any
    model: type
    statement: Callable[[], Any]
    columns: Callable[[], tuple]
    describe: Callable[[Any], Choice]
    where: Callable[[], tuple] = lambda: ()
    order_by: Callable[[], tuple] | None = None


class UnknownKind(LookupError):
    def __init__(self, name: str):
        super().__init__(
            f"unknown picker kind {name!r}; registered: {', '.join(sorted(_KINDS)) or 'none'}. "
            "A domain registers its kinds with shop.web.picking.register() from its picking.py, "
            "imported by its blueprint module (e.g. shop/catalog/picking.py).")


_KINDS: dict[str, Kind] = {}
NAME = re.compile(r"^[a-z]+$")


def register(kind: Kind) -> Kind:
    """Make `kind` available to PickField, search() and GET /admin/pick/<name>. Registering
    the same name again replaces it (a module reloaded); returns the kind."""
    if not NAME.match(kind.name):
        raise ValueError(f"a picker kind's name is lowercase letters: {kind.name!r}")
    _KINDS[kind.name] = kind
    return kind


def lookup(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None


def is_kind(name: str) -> bool:
    return name in _KINDS


def kinds() -> tuple[str, ...]:
    return tuple(_KINDS)


# --- shared helpers of the kinds -------------------------------------------------------------


def like(q: str) -> str:
    """An ILIKE pattern holding `q` literally (escape "\\")."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def mask_email(email: str) -> str:
    """'zhang.san@example.com' -> 'zh***@example.com': enough to tell people apart."""
    name, _at, domain = (email or "").partition("@")
    return f"{name[:2]}***@{domain}" if domain else "***"


def mask_phone(phone: str | None) -> str:
    """'13800138000' -> '138****8000'."""
    digits = (phone or "").strip()
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else ""


def search(name: str, q: str, limit: int = LIMIT) -> list[Choice]:
    """Up to `limit` rows of kind `name` whose name (or code, email...) holds `q`; a number
    also finds the row with that id."""
    spec = lookup(name)
    q = (q or "").strip()[:64]
    if not q:
        return []
    pattern = like(q)
    found = [column.ilike(pattern, escape="\\") for column in spec.columns()]
    if q.isascii() and q.isdigit() and int(q) <= MAX_ID:
        found.append(spec.model.id == int(q))
    stmt = spec.statement().where(or_(*found), *spec.where())
    order = spec.order_by() if spec.order_by else (spec.model.id.desc(),)
    rows = db.session.scalars(stmt.order_by(*order).limit(limit)).unique().all()
    return [spec.describe(row) for row in rows]


def load(name: str, ids: list[int]) -> dict[int, Any]:
    """{id: row} of the rows of kind `name` among `ids` (one query, two with eager loads)."""
    spec = lookup(name)
    if not ids:
        return {}
    rows = db.session.scalars(spec.statement().where(spec.model.id.in_(ids))).unique().all()
    return {row.id: row for row in rows}


# --- the form field ---------------------------------------------------------------------------


class PickField(Field):
    """A product, SKU, category, store or customer (any registered kind) chosen with a
    picker (see the module's docstring). `data` is the chosen id (or, with multiple=True,
    the sorted list of ids); rendered by the `picker` macro of templates/_macros/picker.html.

    The kind is checked when the form is made (a field declared on a form class is built
    with each form): an unregistered kind is an UnknownKind error naming the kinds there
    are, not a picker that finds nothing."""

    def __init__(self, label=None, validators=None, *, kind: str, multiple: bool = False,
                 most: int = 200, **kwargs):
        self.spec = lookup(kind)
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
        if self.query and self._form is not None:
            root = self._form
            while getattr(root, "_parent_form", None) is not None:  # a picker in a FormField
                root = root._parent_form
            _validate_as_search(root)

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
                other = _KINDS.get(match[1])
                raise ValueError(_("This takes %(kind)s, not %(other)s.", kind=self.spec.label,
                                   other=other.label if other else _("something else")))
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
                                   kind=self.spec.noun, ids=", ".join(map(str, missing))))

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
        return str(self.spec.hint)

    def current(self) -> list[Choice]:
        """The chosen rows as the picker shows them (unknown ids left out)."""
        return [self.spec.describe(row) for row in self.chosen_list]

    def _value(self):
        return ",".join(f"{self.kind}:{i}" for i in self.ids)


# --- a search posted with its form -------------------------------------------------------------


def searched(form) -> list[PickField]:
    """The picker fields of `form` (nested forms too) holding a search posted with it."""
    found = []
    for field in form:
        if isinstance(field, PickField):
            if field.query:
                found.append(field)
        elif hasattr(field, "entries"):  # a FieldList of FormFields
            for entry in field.entries:
                if hasattr(entry, "form"):
                    found += searched(entry.form)
        elif hasattr(field, "form"):  # a FormField
            found += searched(field.form)
    return found


def _quiet(form, keep: list[PickField]) -> None:
    """No errors on `form`'s fields (nested forms too) but those of `keep`."""
    for field in form:
        if hasattr(field, "entries"):
            for entry in field.entries:
                if hasattr(entry, "form"):
                    _quiet(entry.form, keep)
                elif entry not in keep:
                    entry.errors = []
            field.errors = []
        elif hasattr(field, "form"):
            _quiet(field.form, keep)
        elif field not in keep:
            field.errors = []
    form.form_errors = []
    form._errors = None


def _validate_as_search(form) -> None:
    """Make this form's validation treat a posted picker search as a search: the form's own
    validate() runs (the picker finds its matches), then it fails with only the pickers'
    words ("choose one of the matches below"), never "This field is required" or another
    error on fields nobody was asked to fill yet. Done once per form instance, around
    whatever validate() its class has (cross-field checks included), so every form with a
    picker behaves alike without a base class of its own."""
    if form.__dict__.get("_search_aware"):
        return
    validate = form.validate  # the class's own, bound

    def validate_unless_searched(extra_validators=None):
        valid = validate(extra_validators)
        keep = searched(form)
        if not keep:
            return valid
        _quiet(form, keep)
        return False

    form.validate = validate_unless_searched
    form._search_aware = True
