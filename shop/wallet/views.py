import uuid

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.services import normalise_email
from shop.db import db
from shop.wallet import bp, services
from shop.wallet.forms import AdjustForm
from shop.web import render, roles_required


@bp.get("/wallet")
@login_required
def view():
    return render("wallet/wallet.html", balance=services.balance(current_user.id),
                  entries=services.history(current_user.id))


@bp.route("/admin/wallet", methods=["GET", "POST"])
@roles_required("admin")
def adjust():
    """A manual adjustment with a reason, written as a ledger row like any other."""
    form = AdjustForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == normalise_email(form.email.data)))
        if user is None:
            form.email.errors.append(_("No account has this email."))
        elif form.amount.data == 0:
            form.amount.errors.append(_("The amount must not be zero."))
        else:
            sign = 1 if form.direction.data == "credit" else -1
            try:
                services.move(user.id, sign * form.amount.data, reason=form.reason.data,
                              ref_type="adjustment", ref_id=uuid.uuid4().hex, actor_id=current_user.id)
            except services.WalletError as exc:
                form.amount.errors.append(str(exc))
            else:
                flash(_("Wallet adjusted."))
                return redirect(url_for("wallet.adjust"))
    return render("admin/wallet/adjust.html", form=form,
                  status=422 if request.method == "POST" else 200)
