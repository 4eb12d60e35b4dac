"""Backoffice of the audit log: admins only. Each entry reads as a sentence (who, what in
words, the thing acted on with a link: shop.audit.phrases). The list filters by who (staff
accounts by name), area, action (its phrase), kind of thing, table changed, outcome and
dates (days in the shop's time zone); a wrong filter (a reversed or impossible date, a
choice not offered) is a 400 with the reason and no rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import abort, current_app, request
from flask_babel import gettext as _
from wtforms import SelectChoice

from shop.accounts.models import ROLE_LABELS
from shop.audit import OP_LABELS
from shop.audit.blueprint import admin_bp as bp
from shop.audit import phrases, services
from shop.audit.forms import LogFilterForm
from shop.web.auth import is_backoffice
from shop.db import SAFE_METHODS, day_start
from shop.web import number_arg, render, roles_required


def _actions() -> list[str]:
    """The endpoints of the URL map whose state-changing requests are recorded."""
    return sorted({rule.endpoint for rule in current_app.url_map.iter_rules()
                   if (rule.methods or set()) - SAFE_METHODS
                   and is_backoffice(rule, current_app.view_functions.get(rule.endpoint))})


def _start_of(day, *, days_after: int = 0) -> datetime | None:
    """The first instant of `day` (+ days_after) in the shop's time zone, in UTC; None
    when there is none (no day given, or at the calendar's ends: no bound)."""
    if day is None:
        return None
    try:
        return day_start(day + timedelta(days=days_after)).astimezone(timezone.utc)
    except OverflowError:
        return None


def _filter_form() -> LogFilterForm:
    form = LogFilterForm(request.args)
    any_ = SelectChoice("", _("Any"))
    form.actor.choices = [any_] + [
        SelectChoice(str(user_id), f"{nickname} · {ROLE_LABELS.get(role, role)} · {email}")
        for user_id, nickname, email, role in services.staff_accounts()]
    form.domain.choices = [any_] + sorted(
        (SelectChoice(area, str(phrases.AREAS[area]))
         for area in {a.rpartition(".")[0] for a in _actions()}),
        key=lambda choice: choice.label.lower())
    form.endpoint.choices = [any_] + [SelectChoice(endpoint, phrase)
                                      for endpoint, phrase in phrases.phrase_choices()]
    form.kind.choices = [any_] + sorted(
        (SelectChoice(key, str(kind.label)) for key, kind in phrases.KINDS.items()),
        key=lambda choice: choice.label.lower())
    return form


@bp.get("/")
@roles_required("admin")
def log():
    form = _filter_form()
    context = dict(form=form, OP_LABELS=OP_LABELS)
    if request.args and not form.validate():
        return render("admin/audit/log.html", block="results", pagination=None, status=400,
                      **context)
    filters = services.LogFilters(
        actor=form.actor.data or "", domain=form.domain.data or "",
        endpoint=form.endpoint.data or "", table=form.table.data or "",
        status=form.status.data or "",
        since=_start_of(form.since.data),
        until=_start_of(form.until.data, days_after=1),  # until: that whole day
        endpoints=tuple(phrases.endpoints_of(form.kind.data)) if form.kind.data else None)
    pagination = services.log_page(filters, number_arg("page", 1, most=services.MAX_PAGES))
    if pagination is None:
        abort(404)
    return render("admin/audit/log.html", block="results", pagination=pagination,
                  sentences=phrases.describe(pagination.items),
                  names=phrases.change_names(entry for entry, _email, _nickname in pagination.items),
                  shown=phrases.shown_value, **context)


@bp.get("/<int:entry_id>")
@roles_required("admin")
def entry(entry_id: int):
    found = services.get_entry(entry_id) or abort(404)
    return render("admin/audit/entry.html", entry=found[0], email=found[1],
                  sentence=phrases.describe([found])[found[0].id],
                  names=phrases.change_names([found[0]]), shown=phrases.shown_value,
                  OP_LABELS=OP_LABELS)
