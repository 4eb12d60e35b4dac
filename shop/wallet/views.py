import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.db import db
from shop.wallet import services
from shop.wallet.blueprint import bp
from shop.payments import gateway
from shop.wallet.forms import AdjustForm, PackageForm
from shop.wallet.models import RechargePackage
from shop.web import render, roles_required


def _wallet_page(status: int = 200, message: str | None = None):
    return render("wallet/wallet.html", balance=services.balance(current_user.id),
                  entries=services.history(current_user.id), packages=services.packages(),
                  cards=gateway.enabled(), status=status, message=message)


@bp.get("/wallet")
@login_required
def view():
    return _wallet_page()


@bp.post("/wallet/recharge/<int:package_id>")
@login_required
def recharge(package_id: int):
    try:
        payment = services.start_recharge(current_user.id, package_id)
    except services.WalletError as exc:
        return _wallet_page(409, str(exc))
    return redirect(url_for("payments.card", payment_id=payment.id))


@bp.route("/admin/wallet/packages", methods=["GET", "POST"])
@roles_required("admin")
def packages():
    form = PackageForm()
    if form.validate_on_submit():
        try:
            services.add_package(form.pay.data, form.credit.data)
        except services.WalletError as exc:
            form.credit.errors.append(str(exc))
        else:
            flash(_("Recharge package added."))
            return redirect(url_for("wallet.packages"))
    return render("admin/wallet/packages.html", form=form,
                  packages=services.packages(active_only=False),
                  status=422 if request.method == "POST" else 200)


@bp.post("/admin/wallet/packages/<int:package_id>/toggle")
@roles_required("admin")
def toggle_package(package_id: int):
    package = db.session.get(RechargePackage, package_id) or abort(404)
    package.active = not package.active
    flash(_("Package offered.") if package.active else _("Package withdrawn."))
    return redirect(url_for("wallet.packages"))


@bp.route("/admin/wallet", methods=["GET", "POST"])
@roles_required("admin")
def adjust():
    """A manual adjustment with a reason, written as a ledger row like any other; once
    per form (its token is the row's reference)."""
    form = AdjustForm()
    if request.method == "GET":
        form.token.data = uuid.uuid4().hex
    if form.validate_on_submit():
        user = form.user_id.chosen  # the shopper picked by name (shop.web.picking)
        sign = 1 if form.direction.data == "credit" else -1
        try:
            services.move(user.id, sign * form.amount.data, reason=form.reason.data,
                          ref_type="adjustment", ref_id=form.token.data, actor_id=current_user.id)
        except services.WalletError as exc:
            form.amount.errors.append(str(exc))
        else:
            flash(_("Wallet adjusted."))
            return redirect(url_for("wallet.adjust"))
    return render("admin/wallet/adjust.html", form=form,
                  status=422 if request.method == "POST" else 200)
