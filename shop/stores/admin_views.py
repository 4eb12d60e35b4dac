"""Backoffice of stores: admins keep the stores and who works at each; store staff (and
admins) verify pickups (核销) on a phone, by scanning the QR or typing the code."""

from __future__ import annotations

import math

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from shop import ratelimit
from shop.db import db
from shop.stores.blueprint import admin_bp as bp
from shop.stores import services
from shop.stores.forms import StaffForm, StoreForm, VerifyForm
from shop.stores.models import Store
from shop.web import render, roles_required
from shop.web.forms import stored

# --- stores (admins) ----------------------------------------------------------------------


@bp.get("/stores")
@roles_required("admin")
def stores():
    return render("admin/stores/list.html", stores=services.all_stores())


def _store_page(store: Store | None, form: StoreForm, status: int = 200,
                staff_form: StaffForm | None = None, message: str | None = None):
    return render("admin/stores/form.html", store=store, form=form, status=status,
                  staff=services.staff_of(store) if store else [],
                  staff_form=staff_form or stored(StaffForm), message=message)


@bp.route("/stores/new", methods=["GET", "POST"])
@bp.route("/stores/<int:store_id>", methods=["GET", "POST"])
@roles_required("admin")
def store_form(store_id: int | None = None):
    store = (db.session.get(Store, store_id) or abort(404)) if store_id else None
    form = stored(StoreForm, obj=store) if request.method == "GET" and store else StoreForm()
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
        return _store_page(store, stored(StoreForm, obj=store), 422, staff_form=form)
    try:
        user = services.add_staff(store, form.user_id.chosen)
    except services.StoreError as exc:
        return _store_page(store, stored(StoreForm, obj=store), 409, staff_form=form, message=str(exc))
    flash(_("%(name)s now verifies pickups at this store.", name=user.nickname))
    return redirect(url_for("stores_admin.store_form", store_id=store.id), 303)


@bp.post("/stores/<int:store_id>/staff/<int:user_id>/remove")
@roles_required("admin")
def remove_staff(store_id: int, user_id: int):
    store = db.session.get(Store, store_id) or abort(404)
    try:
        user = services.remove_staff(store, user_id)
    except services.StoreError as exc:
        return _store_page(store, stored(StoreForm, obj=store), 409, message=str(exc))
    flash(_("Removed from this store.") if user.role == "staff" else
          _("Removed from this store; %(name)s works at no store now and is a shopper again.",
            name=user.nickname))
    return redirect(url_for("stores_admin.store_form", store_id=store.id), 303)


# --- verification (staff, on a phone) -----------------------------------------------------


def _verify_form(form: VerifyForm | None = None) -> VerifyForm:
    form = form or VerifyForm()
    form.store_id.choices = [SelectChoice(s.id, s.name) for s in services.stores_of_staff(current_user)]
    return form


# The guess limit. Wrong codes (PickupError.miss: no such code, or another store's) are
# counted per staff member AND store, atomically before they are answered
# (shop.ratelimit.take: of N parallel wrong codes exactly the limit are answered, the
# rest refused). The code is always looked up first: a code of this store is never
# counted and never refused, so a customer at the counter is served even after the staff
# member mistyped ten codes; only a wrong code can be refused once the budget is spent,
# with a message saying how long to wait (429).
#
# Why letting a right code through while throttled tells a guesser nothing new. What a
# look-up says is one bit: this store has this code (the order is shown) or not. A right
# code is answered the same whether the budget is spent or not, and so is every wrong
# code once it is spent: the same status, the same message, whatever kind of miss it was
# (no such code, or another store's, which unthrottled names that store: throttled, it
# does not), after the same work (one look-up, one count). So being throttled adds no
# oracle: it only takes the detail away from misses. What it does not do is stop someone
# who keeps sending codes from learning "not this one" for each: nothing that answers a
# right code can. Against that, what protects the codes is their number (31**10, about
# 8 * 10**14, drawn at random; with 10 000 orders waiting at a store a guess hits with
# odds of about 1 in 8 * 10**10, so a year of 100 guesses a second finds one with odds
# of about 4 in 100), that guessing takes a signed-in staff account bound to the store, and
# that every miss past the limit is still counted and logged as a warning, so it is seen.
GUESSES = "PICKUP_GUESS_LIMIT"


def _guesser(store_id: int) -> str:
    return f"{current_user.id}@{store_id}"


def _refusal(form: VerifyForm, exc: services.PickupError):
    """A refused look-up or confirmation, answered; a miss is counted first and, past the
    limit, refused with how long to wait instead."""
    who = _guesser(form.store_id.data)
    if exc.miss and not ratelimit.take(GUESSES, who):
        seconds = ratelimit.retry_after(GUESSES, who) or 60
        minutes = math.ceil(seconds / 60)
        current_app.logger.warning("pickup code guesses past the limit: staff %s at store %s",
                                   current_user.id, form.store_id.data)
        response = _pickup_page(form, status=429, message=ngettext(
            "Too many wrong codes at this store. Wait %(num)d minute before trying another "
            "code; a right code is still accepted.",
            "Too many wrong codes at this store. Wait %(num)d minutes before trying another "
            "code; a right code is still accepted.", minutes))
        response.headers["Retry-After"] = str(seconds)
        return response
    return _pickup_page(form, status=exc.status, message=str(exc))


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
def look_up():
    """What the code's order holds, with a button to hand it over (changes nothing)."""
    form = _verify_form(VerifyForm())
    if not form.validate_on_submit():
        return _pickup_page(form, status=422)
    try:
        found = services.look_up(current_user, form.store_id.data, form.code.data)
    except services.PickupError as exc:
        return _refusal(form, exc)
    return _pickup_page(form, found=found)


@bp.post("/pickup/confirm")
@roles_required("staff")
def confirm():
    form = _verify_form(VerifyForm())
    if not form.validate_on_submit():
        return _pickup_page(form, status=422)
    try:
        order = services.verify(current_user, form.store_id.data, form.code.data)
    except services.PickupError as exc:
        return _refusal(form, exc)
    form.code.data = ""
    return _pickup_page(form, done=order)
