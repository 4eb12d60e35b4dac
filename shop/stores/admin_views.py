"""Backoffice of stores: admins keep the stores and who works at each; store staff (and
admins) verify pickups (核销) on a phone, by scanning the QR or typing the code."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from shop import ratelimit
from shop.db import db
from shop.stores.blueprint import admin_bp as bp
from shop.stores import services
from shop.stores.forms import StaffForm, StoreForm, VerifyForm
from shop.stores.models import Store
from shop.web import render, roles_required

# --- stores (admins) ----------------------------------------------------------------------


@bp.get("/stores")
@roles_required("admin")
def stores():
    return render("admin/stores/list.html", stores=services.all_stores())


def _store_page(store: Store | None, form: StoreForm, status: int = 200,
                staff_form: StaffForm | None = None, message: str | None = None):
    return render("admin/stores/form.html", store=store, form=form, status=status,
                  staff=services.staff_of(store) if store else [],
                  staff_form=staff_form or StaffForm(), message=message)


@bp.route("/stores/new", methods=["GET", "POST"])
@bp.route("/stores/<int:store_id>", methods=["GET", "POST"])
@roles_required("admin")
def store_form(store_id: int | None = None):
    store = (db.session.get(Store, store_id) or abort(404)) if store_id else None
    form = StoreForm(obj=store) if request.method == "GET" and store else StoreForm()
    if not form.validate_on_submit():
        return _store_page(store, form, 422 if request.method == "POST" else 200)
    store = services.save_store(store, **form.values())
    flash(_("Store saved."))
    return redirect(url_for("stores_admin.store_form", store_id=store.id), 303)


@bp.post("/stores/<int:store_id>/staff")
@roles_required("admin")
def add_staff(store_id: int):
    store, form = db.session.get(Store, store_id) or abort(404), StaffForm()
    if not form.validate_on_submit():
        return _store_page(store, StoreForm(obj=store), 422, staff_form=form)
    try:
        user = services.add_staff(store, form.user_id.chosen.email)
    except services.StoreError as exc:
        return _store_page(store, StoreForm(obj=store), 409, staff_form=form, message=str(exc))
    flash(_("%(name)s now verifies pickups at this store.", name=user.nickname))
    return redirect(url_for("stores_admin.store_form", store_id=store.id), 303)


@bp.post("/stores/<int:store_id>/staff/<int:user_id>/remove")
@roles_required("admin")
def remove_staff(store_id: int, user_id: int):
    store = db.session.get(Store, store_id) or abort(404)
    try:
        user = services.remove_staff(store, user_id)
    except services.StoreError as exc:
        return _store_page(store, StoreForm(obj=store), 409, message=str(exc))
    flash(_("Removed from this store.") if user.role == "staff" else
          _("Removed from this store; %(name)s works at no store now and is a shopper again.",
            name=user.nickname))
    return redirect(url_for("stores_admin.store_form", store_id=store.id), 303)


# --- verification (staff, on a phone) -----------------------------------------------------


def _verify_form(form: VerifyForm | None = None) -> VerifyForm:
    form = form or VerifyForm()
    form.store_id.choices = [SelectChoice(s.id, s.name) for s in services.stores_of_staff(current_user)]
    return form


def guess_limit(view):
    """Failed look-ups (no such code, another store's: what guessing looks like) are
    limited per staff member, look-ups and confirmations together (PICKUP_GUESS_LIMIT).
    Once the limit is used up every look-up is refused, a right code's too (else the
    answers would still tell right from wrong). Each failure is counted atomically before
    it is answered (shop.ratelimit.take), so of N parallel guesses exactly the limit are
    answered and the rest get 429; right codes, refused or not, are never counted. A
    failed look-up changes nothing, so answering it 429 instead leaves nothing behind."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        who = str(current_user.id)
        if ratelimit.exhausted("PICKUP_GUESS_LIMIT", who):
            abort(429)
        response = make_response(view(*args, **kwargs))
        if response.status_code in (403, 404) and not ratelimit.take("PICKUP_GUESS_LIMIT", who):
            abort(429)
        return response

    return wrapped


def _pickup_page(form: VerifyForm, *, found=None, done=None, status: int = 200,
                 message: str | None = None):
    """The verification page, or for htmx its result block alone."""
    return render("admin/stores/pickup.html", block="result", form=form,
                  found=found, done=done, status=status, message=message)


@bp.get("/pickup")
@roles_required("staff")
def pickup():
    form = _verify_form()
    if len(form.store_id.choices) == 1:
        form.store_id.data = form.store_id.choices[0].value
    return _pickup_page(form, message=None if form.store_id.choices else
                        _("You are not assigned to a store yet; ask an admin."))


@bp.post("/pickup/look-up")
@roles_required("staff")
@guess_limit
def look_up():
    """What the code's order holds, with a button to hand it over (changes nothing)."""
    form = _verify_form(VerifyForm())
    if not form.validate_on_submit():
        return _pickup_page(form, status=422)
    try:
        found = services.look_up(current_user, form.store_id.data, form.code.data)
    except services.PickupError as exc:
        return _pickup_page(form, status=exc.status, message=str(exc))
    return _pickup_page(form, found=found)


@bp.post("/pickup/confirm")
@roles_required("staff")
@guess_limit
def confirm():
    form = _verify_form(VerifyForm())
    if not form.validate_on_submit():
        return _pickup_page(form, status=422)
    try:
        order = services.verify(current_user, form.store_id.data, form.code.data)
    except services.PickupError as exc:
        return _pickup_page(form, status=exc.status, message=str(exc))
    form.code.data = ""
    return _pickup_page(form, done=order)
