"""Shopper side: the points page and history, daily sign-in on a month calendar, tasks
and their rewards, and the points mall."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.orders import services as orders
from shop.points import services
from shop.points.blueprint import bp
from shop.points.forms import RedeemForm
from shop.web import number_arg, render, viewer_id
from shop.extensions import htmx


@bp.get("/points")
@login_required
def index():
    user = current_user.id
    return render("points/index.html", block="history", balance=services.balance(user),
                  expiring=services.next_expiry(user),
                  pagination=services.history(user, page=number_arg("page", 1, most=10_000)))


def _signin_page(status: int = 200, message: str | None = None, notice: str | None = None):
    """The calendar; `message` says why an action was refused, `notice` what it did."""
    return render("points/signin.html", block="calendar", month=services.month(current_user.id),
                  balance=services.balance(current_user.id), status=status, message=message,
                  notice=notice)


@bp.get("/points/signin")
@login_required
def signin():
    return _signin_page()


@bp.post("/points/signin")
@login_required
def do_signin():
    try:
        row = services.sign_in(current_user.id)
    except services.PointsError as exc:
        return _signin_page(409, str(exc))
    done = _("Signed in: +%(n)d points. Day %(d)d in a row.", n=row.points, d=row.streak)
    if htmx:
        return _signin_page(notice=done)
    flash(done)
    return redirect(url_for("points.signin"), 303)


def _tasks_page(status: int = 200, message: str | None = None, notice: str | None = None):
    """The tasks; `message` says why a claim was refused, `notice` what it paid."""
    return render("points/tasks.html", block="tasks", tasks=services.tasks_of(current_user.id),
                  balance=services.balance(current_user.id), status=status, message=message,
                  notice=notice)


@bp.get("/points/tasks")
@login_required
def tasks():
    return _tasks_page()


@bp.post("/points/tasks/<int:completion_id>/claim")
@login_required
def claim(completion_id: int):
    try:
        row = services.claim(current_user.id, completion_id)
    except LookupError:
        abort(404)
    except services.PointsError as exc:
        return _tasks_page(409, str(exc))
    done = _("+%(n)d points", n=row.points)
    if htmx:
        return _tasks_page(notice=done)
    flash(done)
    return redirect(url_for("points.tasks"), 303)


@bp.get("/points/mall")
def mall():
    balance = services.balance(current_user.id) if current_user.is_authenticated else None
    return render("points/mall.html", items=services.mall_items(), balance=balance)


def _item_page(item, form: RedeemForm | None, status: int = 200, message: str | None = None):
    """The item; for a signed-in shopper, their points and the redemption form."""
    user = viewer_id()
    return render("points/item.html", item=item, form=form,
                  balance=services.balance(user) if user else None,
                  redeemed=services.redeemed_count(user, item.id) if user else 0,
                  status=status, message=message)


@bp.get("/points/mall/<int:item_id>")
def item(item_id: int):
    item, form = services.mall_item(item_id) or abort(404), None
    if current_user.is_authenticated:
        form = RedeemForm(data={"quantity": 1, "token": uuid.uuid4().hex})
        form.fill_address(orders.default_address(current_user.id))
    return _item_page(item, form)


@bp.post("/points/mall/<int:item_id>")
@login_required
def redeem(item_id: int):
    item, form = services.mall_item(item_id) or abort(404), RedeemForm()
    if not form.validate_on_submit():
        return _item_page(item, form, 422)
    address = orders.destination(current_user.id, form)
    try:
        order = services.redeem(current_user.id, item.id, form.quantity.data, address, form.token.data)
    except services.PointsError as exc:
        return _item_page(item, form, 409, str(exc))
    flash(_("Redeemed.") if order.status != "awaiting_payment"
          else _("Points set aside. Pay the cash part to complete the redemption."))
    return redirect(url_for("orders.detail", order_id=order.id), 303)
