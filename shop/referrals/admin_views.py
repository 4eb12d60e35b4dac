"""Backoffice of distribution: settings, applications and distributors, levels, rate
overrides per product and SKU, commissions (with the margin guard's caps) and
withdrawals. Admins only, fragments included."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from shop.catalog.models import Product
from shop.db import db
from shop.referrals import DISTRIBUTOR_STATUS_LABELS, WITHDRAWAL_STATUS_LABELS
from shop.referrals.blueprint import admin_bp as bp
from shop.referrals import services
from shop.referrals.forms import DecisionForm, DistributorForm, LevelForm, PaidForm, RateForm, SettingsForm
from shop.referrals.models import DistributorLevel
from shop.web import number_arg, render, render_error, roles_required
from shop.web.forms import stored

SETTING_FIELDS = ("mode", "threshold_minor", "binding_rule", "binding_days", "cookie_days",
                  "level1_bp", "level2_bp", "self_purchase", "settle_days", "margin_floor_bp",
                  "withdraw_min_minor", "withdraw_fee_bp")


@bp.errorhandler(services.ReferralError)
def _refused(exc: services.ReferralError):
    """A move the state does not allow (decided already, paid already...): 409, nothing kept."""
    return render_error(None, 409, str(exc))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required("admin")
def settings():
    current = services.settings()
    form = SettingsForm(data={key: getattr(current, key) for key in SETTING_FIELDS}
                        if request.method == "GET" else None)
    if form.validate_on_submit():
        if form.withdraw_min_minor.data < 1:
            form.withdraw_min_minor.errors.append(_("The smallest withdrawal must be more than zero."))
        else:
            try:
                services.save_settings(**{key: getattr(form, key).data for key in SETTING_FIELDS})
            except services.ReferralError as exc:
                getattr(form, exc.field or "level2_bp").errors.append(str(exc))
            else:
                flash(_("Distribution settings saved."))
                return redirect(url_for("referrals_admin.settings"), 303)
    return render("admin/referrals/settings.html", form=form,
                  status=422 if request.method == "POST" else 200)


@bp.get("/distributors")
@roles_required("admin")
def distributors():
    status = request.args.get("status", "")
    status = status if status in DISTRIBUTOR_STATUS_LABELS else ""
    pagination = services.distributors(status=status, page=number_arg("page", 1, most=10_000))
    form = DistributorForm()
    form.level_id.choices = [SelectChoice(0, _("Shop default rates"))] + [
        SelectChoice(level.id, level.name) for level in services.levels()]
    return render("admin/referrals/distributors.html", block="results", pagination=pagination,
                  status_filter=status, level_form=form, decision_form=DecisionForm(),
                  args={"status": status} if status else {})


def _back_to_distributors():
    return redirect(url_for("referrals_admin.distributors"), 303)


@bp.post("/distributors/<int:user_id>/decide")
@roles_required("admin")
def decide(user_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_error(None, 422, "; ".join(form.reason.errors) or _("Check the reason."))
    approve = request.form.get("decision") == "approve"
    services.decide(user_id, approve=approve, reason=form.reason.data or "", actor_id=current_user.id)
    flash(_("Application approved.") if approve else _("Application rejected."))
    return _back_to_distributors()


@bp.post("/distributors/<int:user_id>/standing")
@roles_required("admin")
def standing(user_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_error(None, 422, "; ".join(form.reason.errors) or _("Check the reason."))
    disable = request.form.get("disable") == "1"
    services.set_disabled(user_id, disable, reason=form.reason.data or "", actor_id=current_user.id)
    flash(_("Distributor disabled: their code no longer works.") if disable else _("Distributor enabled."))
    return _back_to_distributors()


@bp.post("/distributors/<int:user_id>/level")
@roles_required("admin")
def set_level(user_id: int):
    form = DistributorForm()
    form.level_id.choices = [SelectChoice(0, "")] + [SelectChoice(level.id, level.name)
                                                     for level in services.levels()]
    if not form.validate_on_submit():
        return render_error(None, 422, _("Choose a level from the list."))
    services.set_level(user_id, form.level_id.data or None)
    flash(_("Level saved."))
    return _back_to_distributors()


@bp.route("/levels", methods=["GET", "POST"])
@roles_required("admin")
def levels():
    form = LevelForm()
    if form.validate_on_submit():
        try:
            services.save_level(None, name=form.name.data, level1_bp=form.level1_bp.data,
                                level2_bp=form.level2_bp.data)
        except services.ReferralError as exc:
            getattr(form, exc.field or "name").errors.append(str(exc))
        else:
            flash(_("Level added."))
            return redirect(url_for("referrals_admin.levels"), 303)
    return render("admin/referrals/levels.html", form=form, levels=services.levels(),
                  status=422 if request.method == "POST" else 200)


@bp.post("/levels/<int:level_id>")
@roles_required("admin")
def edit_level(level_id: int):
    db.session.get(DistributorLevel, level_id) or abort(404)
    form = LevelForm()
    saved = False
    if form.validate_on_submit():
        try:
            services.save_level(level_id, name=form.name.data, level1_bp=form.level1_bp.data,
                                level2_bp=form.level2_bp.data)
            saved = True
        except services.ReferralError as exc:
            getattr(form, exc.field or "name").errors.append(str(exc))
    if not saved:  # the level's row keeps what was typed, the "add" form stays empty
        return render("admin/referrals/levels.html", form=stored(LevelForm),
                      levels=services.levels(), edited=form, edited_id=level_id, status=422)
    flash(_("Level saved."))
    return redirect(url_for("referrals_admin.levels"), 303)


def _rate_form(product: Product, form: RateForm | None = None) -> RateForm:
    form = form or RateForm()
    form.sku_id.choices = [SelectChoice(0, _("The whole product"))] + [
        SelectChoice(sku.id, " / ".join(product.tr_option(v) for v in sku.option_values) or sku.code)
        for sku in product.skus]
    return form


@bp.route("/rates/<int:product_id>", methods=["GET", "POST"])
@roles_required("admin")
def rates(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = _rate_form(product)
    if form.validate_on_submit():
        try:
            services.save_rate(product, form.sku_id.data or None, level1_bp=form.level1_bp.data,
                               level2_bp=form.level2_bp.data)
        except services.ReferralError as exc:
            getattr(form, exc.field or "level2_bp").errors.append(str(exc))
        else:
            flash(_("Commission rate saved."))
            return redirect(url_for("referrals_admin.rates", product_id=product_id), 303)
    return render("admin/referrals/rates.html", product=product, form=form,
                  rates=services.rates_of(product_id), skus={sku.id: sku for sku in product.skus},
                  status=422 if request.method == "POST" else 200)


@bp.post("/rates/<int:product_id>/<int:rate_id>/delete")
@roles_required("admin")
def delete_rate(product_id: int, rate_id: int):
    services.delete_rate(product_id, rate_id)
    flash(_("Override removed: the level or default rates apply."))
    return redirect(url_for("referrals_admin.rates", product_id=product_id), 303)


@bp.get("/commissions")
@roles_required("admin")
def commissions():
    return render("admin/referrals/commissions.html", block="results",
                  pagination=services.commissions(page=number_arg("page", 1, most=10_000)), args={})


@bp.get("/withdrawals")
@roles_required("admin")
def withdrawals():
    status = request.args.get("status", "")
    status = status if status in WITHDRAWAL_STATUS_LABELS else ""
    return render("admin/referrals/withdrawals.html", block="results",
                  pagination=services.withdrawals(status=status, page=number_arg("page", 1, most=10_000)),
                  status_filter=status, decision_form=DecisionForm(), paid_form=PaidForm(),
                  args={"status": status} if status else {})


@bp.post("/withdrawals/<int:withdrawal_id>/decide")
@roles_required("admin")
def decide_withdrawal(withdrawal_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_error(None, 422, "; ".join(form.reason.errors) or _("Check the reason."))
    approve = request.form.get("decision") == "approve"
    services.decide_withdrawal(withdrawal_id, approve=approve, reason=form.reason.data or "",
                               actor_id=current_user.id)
    flash(_("Withdrawal approved.") if approve else _("Withdrawal rejected; the amount is back in the balance."))
    return redirect(url_for("referrals_admin.withdrawals"), 303)


@bp.post("/withdrawals/<int:withdrawal_id>/paid")
@roles_required("admin")
def mark_paid(withdrawal_id: int):
    form = PaidForm()
    if not form.validate_on_submit():
        return render_error(None, 422, "; ".join(form.reference.errors) or _("Give the transfer's reference."))
    services.mark_paid(withdrawal_id, reference=form.reference.data, actor_id=current_user.id)
    flash(_("Withdrawal marked as paid."))
    return redirect(url_for("referrals_admin.withdrawals"), 303)
