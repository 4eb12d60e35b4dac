"""Backoffice of shipping: the templates with their regions, which one is the default,
and the days after shipping when an order completes itself. Admins only, every route. A
form error (422) or a refusal (409) leaves nothing changed."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _

from shop.orders import services as orders
from shop.shipping.blueprint import admin_bp as bp
from shop.shipping import services
from shop.shipping.forms import AutoCompleteForm, TemplateForm
from shop.shipping.services import ShippingError
from shop.web import redirect_to, render, roles_required
from shop.web.forms import stored


def _index_page(days_form: AutoCompleteForm | None = None, *, status: int = 200,
                message: str | None = None):
    return render("admin/shipping/templates.html", rows=services.templates_listing(),
                  builtin=services.builtin_template(),
                  days_form=days_form or stored(AutoCompleteForm, data={"days": orders.auto_complete_days()}),
                  status=status, message=message)


@bp.get("/")
@roles_required("admin")
def templates():
    return _index_page()


@bp.post("/auto-complete")
@roles_required("admin")
def auto_complete():
    form = AutoCompleteForm()
    if not form.validate_on_submit():
        return _index_page(form, status=422)
    try:
        services.save_auto_complete_days(form.days.data)
    except ShippingError as exc:
        form.days.errors = [str(exc)]
        return _index_page(form, status=422)
    flash(_("Saved: an order completes itself %(n)d days after it ships.", n=form.days.data))
    return redirect_to(url_for("shipping_admin.templates"))


@bp.post("/templates/<int:template_id>/default")
@roles_required("admin")
def make_default(template_id: int):
    template = services.get_template(template_id) or abort(404)
    try:
        services.set_default(template)
    except ShippingError as exc:
        return _index_page(status=409, message=str(exc))
    flash(_("%(name)s is the default template now.", name=template.name))
    return redirect_to(url_for("shipping_admin.templates"))


@bp.route("/templates/new", methods=["GET", "POST"])
@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required("admin")
def template_form(template_id: int | None = None):
    template = (services.get_template(template_id) or abort(404)) if template_id else None
    if request.method == "GET":
        form = TemplateForm.of(template) if template else TemplateForm()
        return _form_page(template, form)
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            saved = services.save_template(template, **form.values())
        except ShippingError as exc:
            field = form[exc.field] if exc.field in form else None
            if field is not None and exc.field != "regions":
                field.errors = list(field.errors) + [str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            flash(_("Shipping template saved."))
            return redirect_to(url_for("shipping_admin.template_form", template_id=saved.id))
    return _form_page(template, form, 422)


def _form_page(template, form: TemplateForm, status: int = 200):
    return render("admin/shipping/template_form.html", shipping_template=template, form=form,
                  status=status)
