"""The pickers' search fragment (shop.web.picking; templates/_macros/picker.html).

GET /admin/pick/<kind>?q=<search>&name=<field name>[&multiple=1] answers the matches as
radio buttons (checkboxes with multiple=1) named `name`, to swap into the picker's
results. <kind> is any kind a domain registered (shop.web.picking.register); another is
a 404. Admins, and editors for the kinds their pages pick (EDITOR_KINDS: the home page's
blocks and slides). Changes nothing."""

from __future__ import annotations

import re

from flask import abort, request
from flask_login import current_user

from shop.admin.blueprint import bp
from shop.web import render, roles_required
from shop.web.picking import is_kind, search

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,80}$")
EDITOR_KINDS = frozenset({"product", "category", "article", "collection", "groupbuy", "flashitem",
                          "bargain"})


@bp.get("/pick/<kind>")
@roles_required("editor")
def pick(kind: str):
    if not is_kind(kind):
        abort(404)
    if current_user.role != "admin" and kind not in EDITOR_KINDS:
        abort(403)
    name = request.args.get("name", "")
    if not FIELD_NAME.match(name):
        abort(400)
    q = (request.args.get("q") or request.args.get("q_" + name) or "").strip()[:64]
    return render("admin/_pick_results.html", block="results", kind=kind, name=name, q=q,
                  multiple=request.args.get("multiple") == "1",
                  matches=search(kind, q) if q else [])
