"""Backoffice of customers and staff: admins only, every route (fragments too).

accounts_admin.customers: the list (?q= part of a name, phone or email; role=; tag=;
page=). accounts_admin.customer: one customer's page, with the forms that tag the
customer, disable or enable the account and set its role. Every action's URL names the
account alone, so the audit log's target is "user_id=<id>" (what the page's history
looks up)."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from shop.accounts.models import ROLE_LABELS, User
from shop.audit import phrases
from shop.customers import services
from shop.customers.blueprint import admin_bp as bp
from shop.customers.forms import (ActiveForm, CustomerFilterForm, RemoveTagForm, RolesForm,
                                  TagForm)
from shop.db import db
from shop.stores import services as stores
from shop.web import number_arg, redirect_to, render, roles_required
from shop.web.forms import stored


@bp.get("")
@roles_required("admin")
def customers():
    form = CustomerFilterForm(request.args)
    context = dict(form=form, tags=services.tag_names(), ROLE_LABELS=ROLE_LABELS)
    if request.args and not form.validate():
        return render("admin/customers/list.html", block="results", pagination=None,
                      status=400, **context)
    pagination = services.customer_page(form.q.data or "", form.role.data or "",
                                        form.tag.data or "",
                                        number_arg("page", 1, most=services.MAX_PAGES))
    if pagination is None:
        abort(404)
    return render("admin/customers/list.html", block="results", pagination=pagination,
                  **context)


def _customer(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _roles_form(user: User, form: RolesForm | None = None) -> RolesForm:
    if form is None:
        form = stored(RolesForm, role=user.role, can_publish=user.can_publish,
                       stores=[store.id for store in services.stores_of(user.id)])
    form.stores.choices = [SelectChoice(store.id, f"{store.name} · {store.city}")
                           for store in stores.all_stores()]
    return form


def _page(user_id: int, *, status: int = 200, tag_form: TagForm | None = None,
          roles_form: RolesForm | None = None, message: str | None = None):
    detail = services.customer_detail(user_id) or abort(404)
    return render("admin/customers/customer.html", detail=detail, user=detail.row.user,
                  tag_form=tag_form or stored(TagForm),
                  roles_form=_roles_form(detail.row.user, roles_form),
                  active_form=stored(ActiveForm), remove_form=stored(RemoveTagForm),
                  ROLE_LABELS=ROLE_LABELS, message=message, status=status,
                  sentences=phrases.describe(detail.audit))


def _back(user: User):
    return redirect_to(url_for("accounts_admin.customer", user_id=user.id))


@bp.get("/<int:user_id>")
@roles_required("admin")
def customer(user_id: int):
    return _page(user_id)


@bp.post("/<int:user_id>/tags")
@roles_required("admin")
def add_tag(user_id: int):
    user, form = _customer(user_id), TagForm()
    if not form.validate_on_submit():
        return _page(user_id, status=422, tag_form=form)
    try:
        services.add_tag(user, form.name.data)
    except services.CustomerError as exc:
        form.name.errors.append(str(exc))
        return _page(user_id, status=exc.status, tag_form=form)
    flash(_("Tag added."))
    return _back(user)


@bp.post("/<int:user_id>/tags/remove")
@roles_required("admin")
def remove_tag(user_id: int):
    user, form = _customer(user_id), RemoveTagForm()
    if not form.validate_on_submit():
        return _page(user_id, status=422, message=_("There is no such tag."))
    try:
        services.remove_tag(user, form.name.data)
    except services.CustomerError as exc:
        return _page(user_id, status=exc.status, message=str(exc))
    flash(_("Tag removed."))
    return _back(user)


def _set_active(user_id: int, active: bool):
    user, form = _customer(user_id), ActiveForm()
    if not form.validate_on_submit():
        return _page(user_id, status=422, message=_("The form has expired. Reload the page and try again."))
    try:
        services.set_account_active(current_user, user, active)
    except services.CustomerError as exc:
        return _page(user_id, status=exc.status, message=str(exc))
    flash(_("Account enabled.") if active else
          _("Account disabled: every session of it has ended and it can not sign in."))
    return _back(user)


@bp.post("/<int:user_id>/disable")
@roles_required("admin")
def disable(user_id: int):
    return _set_active(user_id, False)


@bp.post("/<int:user_id>/enable")
@roles_required("admin")
def enable(user_id: int):
    return _set_active(user_id, True)


@bp.post("/<int:user_id>/roles")
@roles_required("admin")
def roles(user_id: int):
    user = _customer(user_id)
    form = _roles_form(user, RolesForm())
    if not form.validate_on_submit():
        return _page(user_id, status=422, roles_form=form)
    try:
        services.set_roles(current_user, user, form.role.data, form.can_publish.data,
                           form.stores.data or [])
    except services.CustomerError as exc:
        if exc.field:
            getattr(form, exc.field).errors.append(str(exc))
        return _page(user_id, status=exc.status, roles_form=form,
                     message=None if exc.field else str(exc))
    flash(_("Role saved: %(role)s.", role=user.role_label))
    return _back(user)
