"""The address book under /me/addresses (list, add, edit, delete, make default: every
address looked up as the signed-in shopper's own, a 404 otherwise; CSRFProtect checks
every POST) and the picker's
fragment (GET: the province's cities, the city's districts; the districts a search
names)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop import divisions as division_list
from shop.orders import addresses
from shop.orders.blueprint import bp
from shop.orders.forms import AddressBookForm, DivisionsForm
from shop.web import render
from shop.web.forms import stored


def _list(status: int = 200, message: str | None = None):
    return render("orders/addresses.html", book=addresses.book(current_user.id), status=status,
                  message=message)


@bp.get("/me/addresses", endpoint="addresses")
@login_required
def address_book():
    return _list()


def _save(address, form: AddressBookForm):
    """The form's page, or the address saved and the book again."""
    if form.validate_on_submit():
        try:
            addresses.save(current_user.id, address, make_default=form.make_default.data,
                           **form.address_values())
        except addresses.AddressError as exc:
            form.add_address_errors(exc)
        else:
            flash(_("Address saved."))
            return redirect(url_for("orders.addresses"), 303)
    status = 200 if not form.is_submitted() or form.refreshing() else 422
    return render("orders/address_form.html", form=form, address=address, status=status)


@bp.route("/me/addresses/new", methods=["GET", "POST"])
@login_required
def address_new():
    return _save(None, AddressBookForm())


@bp.route("/me/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
def address_edit(address_id: int):
    address = addresses.address_of(current_user.id, address_id) or abort(404)
    form = AddressBookForm()
    if not form.is_submitted():
        form = stored(AddressBookForm, data={
            "name": address.name, "phone": address.phone, "province": address.province_code,
            "city": address.city_code, "district": address.district_code,
            "detail": address.detail, "postcode": address.postcode or ""})
    return _save(address, form)


@bp.post("/me/addresses/<int:address_id>/default")
@login_required
def address_default(address_id: int):
    address = addresses.address_of(current_user.id, address_id) or abort(404)
    if address.needs_edit:
        return _list(409, _("This address needs an edit before use: pick its province, city and district."))
    try:
        addresses.set_default(current_user.id, address)
    except addresses.AddressError as exc:
        return _list(409, str(exc))
    flash(_("Default address changed."))
    return redirect(url_for("orders.addresses"), 303)


@bp.post("/me/addresses/<int:address_id>/delete")
@login_required
def address_delete(address_id: int):
    address = addresses.address_of(current_user.id, address_id) or abort(404)
    addresses.delete(current_user.id, address)
    flash(_("Address deleted."))
    return redirect(url_for("orders.addresses"), 303)


@bp.get("/me/addresses/divisions")
def divisions():
    """The picker's selects for ?province=&city=&district= (htmx swaps them in)."""
    return render("orders/_divisions.html", form=DivisionsForm(request.args))


@bp.get("/me/addresses/divisions/search")
def division_search():
    """The districts a search names, as the shopper types (htmx): buttons that pick one."""
    query = request.args.get("district_search", "")
    return render("orders/_division_matches.html", matches=division_list.search(query),
                  query=query.strip())
