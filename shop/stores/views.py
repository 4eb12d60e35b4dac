"""Shopper side of stores: the store list of a pickup choice (nearest first once the
browser shares its location), and what the order page shows of a pickup."""

from __future__ import annotations

import segno
from flask import abort, request
from markupsafe import Markup

from shop.stores import services
from shop.stores.blueprint import bp
from shop.stores.forms import parse_degrees
from shop.web import render

MAX_PRODUCTS = 50


def pickup_qr(code: str) -> Markup:
    """The pickup code as an inline SVG QR code (staff scan it at the store)."""
    svg = segno.make(code, error="m", micro=False).svg_inline(scale=6, border=2, dark="#111")
    return Markup(svg)


for _function, _name in ((services.store_choices, "store_choices"), (pickup_qr, "pickup_qr")):
    bp.add_app_template_global(_function, _name)


def _products_arg() -> list[int]:
    parts = request.args.get("products", "").split(",")
    if not 0 < len(parts) <= MAX_PRODUCTS or not all(p.isdigit() and len(p) < 10 for p in parts):
        abort(400)
    return [int(p) for p in parts]


def _degrees(name: str, limit: int) -> int:
    value = parse_degrees(request.args.get(name, "")[:20], limit)
    return value if value is not None else abort(400)


@bp.get("/stores/nearby")
def nearby():
    """The stores to pick these products up at, nearest first (htmx, once the browser
    shares its position; `selected` keeps the shopper's choice)."""
    near = (_degrees("lat", 90), _degrees("lng", 180))
    selected = request.args.get("selected", "")
    return render("stores/_choices.html", choices=services.store_choices(_products_arg(), near=near),
                  selected=int(selected) if selected.isdigit() and len(selected) < 10 else None)
