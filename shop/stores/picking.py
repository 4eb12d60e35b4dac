"""The stores' kind of picker (shop.web.picking): store. Imported by
shop/stores/blueprint.py, so every app has it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.stores.models import Store
from shop.web.picking import Choice, Kind, register


def describe_store(store: Store) -> Choice:
    return Choice("store", store.id, store.name, f"{store.city} · {store.address}")


STORE = register(Kind(
    name="store", label=_l("a store"), noun=_l("store"),
    hint=_l("Search by store name or city"), model=Store,
    statement=lambda: select(Store),
    columns=lambda: (Store.name, Store.city, Store.address),
    describe=describe_store))
