"""Backoffice of business data: the dashboard, its CSV exports and the operations
signals. Admins only."""

from __future__ import annotations

from flask import Response, request

from shop.analytics.blueprint import admin_bp as bp
from shop.analytics import charts, export, services
from shop.analytics.forms import EXPORTS, ExportForm, RangeForm, shortcut_ranges
from shop.db import utcnow
from shop.money import format_minor
from shop.web import render, roles_required


def _range_form(form_class=RangeForm):
    """The range asked for, or the last 30 days when none was; the form's errors otherwise."""
    form = form_class(request.args)
    if form_class is RangeForm and not request.args:
        form.fill_default(services.local_day(utcnow()))
        return form, True
    return form, form.validate()


@bp.get("/")
@roles_required("admin")
def dashboard():
    form, valid = _range_form()
    shortcuts = shortcut_ranges(services.local_day(utcnow()))
    if not valid:
        return render("admin/analytics/dashboard.html", block="results", form=form, board=None,
                      shortcuts=shortcuts, status=400)
    board, previous, changes = services.compared(form.start.data, form.end.data)

    def money(minor: int) -> str:
        return format_minor(minor, board.currency)

    label = "%m-%d"
    return render(
        "admin/analytics/dashboard.html", block="results", form=form, board=board,
        previous=previous, changes=changes, shortcuts=shortcuts, exports=EXPORTS,
        visitors_chart=charts.bar_chart([(d.day.strftime(label), d.visitors) for d in board.days]),
        gmv_chart=charts.bar_chart([(d.day.strftime(label), d.gmv_minor) for d in board.days], money),
        funnel=charts.funnel(board.funnel))


@bp.get("/export.csv")
@roles_required("admin")
def export_csv():
    form, valid = _range_form(ExportForm)
    if not valid:
        return render("admin/analytics/dashboard.html", block="results", form=form, board=None,
                      status=400)
    board = services.dashboard(form.start.data, form.end.data)
    header, rows = export.table(board, form.table.data)
    name = f"{form.table.data}-{form.start.data.isoformat()}-{form.end.data.isoformat()}.csv"
    return Response(export.csv_text(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/signals")
@roles_required("admin")
def signals():
    return render("admin/analytics/signals.html", signals=services.signals(),
                  days=services.SIGNAL_DAYS)
