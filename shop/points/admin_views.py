"""Backoffice of points: earning and spending rules with the sign-in bonuses, tasks,
product earning rates, the points mall and its stock, and manual adjustments with a
reason. Admins only."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.db import db
from shop.points import TASKS
from shop.points.blueprint import admin_bp as bp
from shop.points import services
from shop.points.forms import AdjustForm, MallItemForm, MallStockForm, RateForm, SettingsForm, TaskRuleForm
from shop.points.models import MallItem
from shop.referrals.margin import BelowFloor
from shop.web import render, roles_required
from shop.web.forms import stored

SETTING_FIELDS = ("earn_per_unit", "redeem_per_unit", "deduct_max_bp", "deduct_cap_points",
                  "expiry_rule", "expiry_days", "signin_points")


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.route("/", methods=["GET", "POST"])
@roles_required("admin")
def settings():
    if request.method == "GET":
        current = services.settings()
        data = {key: getattr(current, key) for key in SETTING_FIELDS}
        data["bonuses"] = ", ".join(f"{day}:{points}" for day, points in services.signin_bonuses().items())
        form = SettingsForm(data=data)
    else:
        form = SettingsForm()
    if form.validate_on_submit():
        services.save_settings(bonuses=form.bonus_map,
                               **{key: getattr(form, key).data for key in SETTING_FIELDS})
        flash(_("Points rules saved."))
        return redirect(url_for("points_admin.settings"), 303)
    return render("admin/points/settings.html", form=form, status=_status())


def _tasks_page(forms: dict, status: int = 200):
    return render("admin/points/tasks.html", forms=forms, status=status)


@bp.get("/tasks")
@roles_required("admin")
def tasks():
    rules = services.task_rules()
    return _tasks_page({code: stored(TaskRuleForm, prefix=code, data={"points": points, "active": active})
                        for code, (points, active) in rules.items()})


@bp.post("/tasks/<code>")
@roles_required("admin")
def save_task(code: str):
    if code not in TASKS:
        abort(404)
    form = TaskRuleForm(prefix=code)
    if not form.validate_on_submit():
        rules = services.task_rules()
        forms = {other: stored(TaskRuleForm, prefix=other, data={"points": p, "active": a})
                 for other, (p, a) in rules.items()}
        forms[code] = form
        return _tasks_page(forms, 422)
    services.save_task_rule(code, form.points.data, form.active.data)
    flash(_("Task saved."))
    return redirect(url_for("points_admin.tasks"), 303)


@bp.route("/rates", methods=["GET", "POST"])
@roles_required("admin")
def rates():
    form = RateForm()
    if form.validate_on_submit():
        try:
            services.set_rate(form.product_id.data, form.earn_per_unit.data)
        except services.PointsError as exc:
            form.product_id.errors.append(str(exc))
        else:
            flash(_("Earning rate saved."))
            return redirect(url_for("points_admin.rates"), 303)
    return render("admin/points/rates.html", form=form, rates=services.rates(),
                  default=services.settings().earn_per_unit, status=_status())


@bp.get("/mall")
@roles_required("admin")
def mall():
    return render("admin/points/mall.html", items=services.mall_items(active_only=False))


def _item_form_page(item: MallItem | None, form: MallItemForm, status: int = 200,
                    stock_form: MallStockForm | None = None):
    return render("admin/points/item.html", item=item, form=form,
                  stock_form=stock_form or stored(MallStockForm), status=status)


@bp.route("/mall/new", methods=["GET", "POST"])
@roles_required("admin")
def new_item():
    return _edit_item(None)


@bp.route("/mall/<int:item_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_item(item_id: int):
    return _edit_item(db.session.get(MallItem, item_id) or abort(404))


def _edit_item(item: MallItem | None):
    form = MallItemForm(obj=item if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            item = services.save_mall_item(item, **{name: getattr(form, name).data for name in (
                "sku_id", "points_price", "cash_minor", "per_user_limit", "active", "loss_leader")},
                actor_id=current_user.id)
        except services.PointsError as exc:
            form.sku_id.errors.append(str(exc))
        except BelowFloor as exc:
            form.cash_minor.errors.append(str(exc))
        else:
            flash(_("Mall item saved."))
            return redirect(url_for("points_admin.edit_item", item_id=item.id), 303)
    return _item_form_page(item, form, _status())


@bp.post("/mall/<int:item_id>/stock")
@roles_required("admin")
def item_stock(item_id: int):
    item, form = db.session.get(MallItem, item_id) or abort(404), MallStockForm()
    if form.validate_on_submit():
        change = int(form.change.data)
        try:
            if change == 0:
                raise services.PointsError(_("Nothing to change."))
            services.move_mall_stock(item.id, change, reason=form.reason.data, ref_type="admin",
                                     ref_id=uuid.uuid4().hex, actor_id=current_user.id)
        except services.PointsError as exc:
            form.change.errors.append(str(exc))
        else:
            flash(_("Stock changed."))
            return redirect(url_for("points_admin.edit_item", item_id=item.id), 303)
    return _item_form_page(item, stored(MallItemForm, obj=item), 422, form)


@bp.route("/adjust", methods=["GET", "POST"])
@roles_required("admin")
def adjust():
    """A manual adjustment with a reason, a ledger row like any other; once per form."""
    form = AdjustForm()
    if request.method == "GET":
        form.token.data = uuid.uuid4().hex
    if form.validate_on_submit():
        user = form.user_id.chosen  # the shopper picked by name (shop.web.picking)
        sign = 1 if form.direction.data == "credit" else -1
        try:
            services.adjust(user.id, sign * form.points.data, note=form.reason.data,
                            key=form.token.data, actor_id=current_user.id)
        except services.PointsError as exc:
            form.points.errors.append(str(exc))
        else:
            flash(_("Points adjusted: %(name)s now has %(n)d.", name=user.nickname,
                    n=services.balance(user.id)))
            return redirect(url_for("points_admin.adjust"), 303)
    return render("admin/points/adjust.html", form=form, status=_status())
