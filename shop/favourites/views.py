"""Favourites: the toggle on the product page (htmx swaps the button; without JavaScript a
plain form and a redirect back), the list at /me/favourites; the browsing history at
/me/history, kept in a signed cookie (see the package's docstring), with a clear button."""

from __future__ import annotations

from flask import abort, after_this_request, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.accounts import sheet
from shop.catalog.views import PRODUCT_VISIT
from shop.extensions import htmx
from shop.favourites import services
from shop.favourites.blueprint import bp
from shop.web import render, viewer_id
from shop.web.visitor import VISITOR_KEY

HISTORY_DAYS = 90


def _owner() -> str:
    vid = session.get(VISITOR_KEY)
    return vid if isinstance(vid, str) else ""


def _history() -> list[int]:
    return services.seen(request.cookies.get(services.HISTORY_COOKIE), _owner())


def _visit(product_id: int) -> bool:
    """On every product page view: the product goes first in the history cookie (no row
    written: a GET), and whether the visitor saved it (one indexed query)."""
    ids = services.viewed(_history(), product_id)
    if ids is not None:
        value = services.cookie_value(ids, _owner())

        @after_this_request
        def _keep(response):
            response.set_cookie(services.HISTORY_COOKIE, value, max_age=HISTORY_DAYS * 86400,
                                httponly=True, samesite="Lax",
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
    viewer = viewer_id()
    return viewer is not None and services.is_favourite(viewer, product_id)


PRODUCT_VISIT["favourite"] = _visit


@bp.post("/favourites/<int:product_id>")
def toggle(product_id: int):
    page = url_for("catalog.product", product_id=product_id)
    if not current_user.is_authenticated:
        return sheet.sign_in_first(page, "favourites.toggle", _("Sign in to save favourites"))
    try:
        favourite = services.toggle(current_user.id, product_id)
    except LookupError:
        abort(404)
    if not htmx:
        return redirect(page, 303)
    return render("favourites/_toggle.html", favourite=favourite, product_id=product_id)


@bp.get("/me/favourites")
@login_required
def index():
    return render("favourites/index.html", items=services.favourites_of(current_user.id))


@bp.post("/me/favourites/<int:product_id>/remove")
@login_required
def remove(product_id: int):
    if not services.remove(current_user.id, product_id):
        abort(404)
    if htmx:
        return ""  # the row goes (hx-swap="delete")
    return redirect(url_for("favourites.index"), 303)


@bp.get("/me/history")
def history():
    return render("favourites/history.html", items=services.history(_history()))


@bp.post("/me/history/clear")
def clear_history():
    response = redirect(url_for("favourites.history"), 303)
    response.delete_cookie(services.HISTORY_COOKIE, httponly=True, samesite="Lax",
                           secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
