"""Backoffice of member levels: the list with how many members each has (and a badge
when a level's discount is a confirmed loss leader), adding, editing and deleting a
level. Admins only. Bad input, or a discount that sells SKUs below their floor without
the loss-leader tick (shop.referrals.margin), comes back as the form with its errors
(422) and changes nothing."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.db import db
from shop.members.blueprint import admin_bp as bp
from shop.members import services
from shop.members.forms import LevelForm
from shop.members.models import MemberLevel
from shop.referrals.margin import BelowFloor
from shop.web import render, render_error, roles_required


@bp.errorhandler(services.MemberError)
def _refused(exc: services.MemberError):
    """A move the state does not allow (a level deleted meanwhile): 409, nothing kept."""
    return render_error(None, 409, str(exc))


def _save(form: LevelForm, level_id: int | None) -> bool:
    """Validate and save; a refusal is put on its field. True when saved."""
    if not form.validate_on_submit():
        return False
    try:
        services.save_level(level_id, **form.values(), actor_id=current_user.id,
                            loss_leader=form.loss_leader.data)
    except (services.MemberError, BelowFloor) as exc:
        (getattr(form, exc.field) if exc.field else form.name).errors.append(str(exc))
        return False
    return True


@bp.route("/levels", methods=["GET", "POST"])
@roles_required("admin")
def levels():
    form = LevelForm(data={"discount_bp": 0, "points_multiplier_bp": 10_000}
                     if request.method == "GET" else None)
    if _save(form, None):
        flash(_("Level added."))
        return redirect(url_for("members_admin.levels"), 303)
    return render("admin/members/levels.html", form=form, levels=services.levels(),
                  sizes=services.level_sizes(), unit_minor=services.growth_unit_minor(), status=422 if request.method == "POST" else 200)


@bp.route("/levels/<int:level_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_level(level_id: int):
    level = db.session.get(MemberLevel, level_id) or abort(404)
    form = LevelForm(obj=level if request.method == "GET" else None)
    if _save(form, level_id):
        flash(_("Level saved."))
        return redirect(url_for("members_admin.levels"), 303)
    return render("admin/members/edit.html", form=form, level=level,
                  status=422 if request.method == "POST" else 200)


@bp.post("/levels/<int:level_id>/delete")
@roles_required("admin")
def delete_level(level_id: int):
    """CSRFProtect checks the token of every POST, this one included."""
    services.delete_level(level_id)
    flash(_("Level deleted: its members moved to the level their growth reaches."))
    return redirect(url_for("members_admin.levels"), 303)
