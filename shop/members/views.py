"""Shopper side: the member card on the Me page, and the member page (levels and the
growth history).

The Me page belongs to accounts, which does not import members: templates read
`member_standing()`, a callable this package's context processor offers to every
template. It costs nothing on pages that do not call it, and two queries (the member
row, the levels) on the page that does; it renders with the page, so it works without
JavaScript and costs no second request (an htmx fragment loaded on `load` would)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_login import current_user, login_required

from shop.members import services
from shop.members.blueprint import bp
from shop.web import render


def _current_standing() -> services.Standing | None:
    if not current_user.is_authenticated:
        return None
    return services.standing(current_user.id)


@bp.app_context_processor
def _member_standing():
    return {"member_standing": _current_standing}


@bp.app_template_filter("multiplier_bp")
def multiplier_bp(basis_points: int) -> str:
    """A multiplier in basis points as the reader's locale writes it: 15000 -> 1.5."""
    return format_decimal(Decimal(int(basis_points)).scaleb(-4), "#,##0.##",
                          locale=str(get_locale() or "zh_Hans"))


@bp.get("/me/level")
@login_required
def level():
    """Every level with its benefits, where the shopper stands, and the growth history."""
    return render("members/level.html", standing=services.standing(current_user.id),
                  entries=services.history(current_user.id), unit_minor=services.growth_unit_minor())
