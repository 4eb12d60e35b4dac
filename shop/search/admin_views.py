"""Backoffice: synonym groups, recommended and hidden keywords, what shoppers search.
Every route checks the role (admins)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from shop.db import db
from shop.search import services
from shop.search.blueprint import admin_bp as bp
from shop.search.forms import KeywordsForm, SynonymForm
from shop.search.models import SynonymGroup
from shop.web import render, roles_required


def _page(form: SynonymForm, keywords_form: KeywordsForm, status: int = 200):
    return render("admin/search/index.html", form=form, keywords_form=keywords_form,
                  groups=services.synonym_groups(), hot=services.hot_report(limit=30),
                  status=status)


def _keywords_form() -> KeywordsForm:
    form = KeywordsForm(formdata=None)
    form.recommended.data = "\n".join(services.keywords("recommended"))
    form.hidden.data = "\n".join(services.keywords("hidden"))
    return form


def _saved(group: SynonymGroup | None, form: SynonymForm, message: str) -> bool:
    """Save the posted group (a new one when None); False with the form's error if refused."""
    if not form.validate_on_submit():
        return False
    try:
        services.save_group(group, form.terms.data, form.one_way.data)
    except services.SearchError as exc:
        form.terms.errors.append(str(exc))
        return False
    flash(message)
    return True


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def index():
    """The page, and adding a synonym group."""
    form = SynonymForm()
    if _saved(None, form, _("Synonyms added.")):
        return redirect(url_for("search_admin.index"), 303)
    return _page(form, _keywords_form(), 422 if request.method == "POST" else 200)


@bp.route("/synonyms/<int:group_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(group_id: int):
    group = db.session.get(SynonymGroup, group_id) or abort(404)
    form = SynonymForm()
    if request.method == "GET":
        form.terms.data, form.one_way.data = " ".join(group.terms), group.one_way
    if _saved(group, form, _("Synonyms saved.")):
        return redirect(url_for("search_admin.index"), 303)
    return render("admin/search/edit.html", form=form, group=group,
                  status=422 if request.method == "POST" else 200)


@bp.post("/synonyms/<int:group_id>/delete")
@roles_required("admin")
def delete(group_id: int):
    group = db.session.get(SynonymGroup, group_id) or abort(404)
    services.delete_group(group)
    flash(_("Synonyms deleted."))
    return redirect(url_for("search_admin.index"), 303)


@bp.post("/keywords")
@roles_required("admin")
def keywords():
    form = KeywordsForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                for kind in ("recommended", "hidden"):
                    services.save_keywords(kind, getattr(form, kind).data)
        except services.SearchError as exc:
            form.recommended.errors.append(str(exc))
        else:
            flash(_("Keywords saved."))
            return redirect(url_for("search_admin.index"), 303)
    return _page(SynonymForm(formdata=None), form, 422)
