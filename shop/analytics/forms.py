from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from shop.analytics.tracking import read_beacon

MAX_RANGE_DAYS = 366  # a year (a leap year) at most, so every range answers quickly
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # days a range may name
EXPORTS = {"daily": _l("Day by day"), "sources": _l("Lifetime value by source"),
           "products": _l("Top products"), "articles": _l("Top articles"),
           "distributors": _l("Top distributors"), "coupons": _l("Coupons")}


# Shortcuts of the dashboard's range, as plain links: (key, label); see shortcut_ranges.
SHORTCUTS = (("today", _l("Today")), ("7d", _l("Last 7 days")), ("30d", _l("Last 30 days")),
             ("90d", _l("Last 90 days")), ("month", _l("This month")))


def shortcut_ranges(today: date) -> list[tuple[str, object, date, date]]:
    """Each shortcut's (key, label, first day, last day), today included."""
    spans = {"today": (today, today), "7d": (today - timedelta(days=6), today),
             "30d": (today - timedelta(days=29), today),
             "90d": (today - timedelta(days=89), today), "month": (today.replace(day=1), today)}
    return [(key, label, *spans[key]) for key, label in SHORTCUTS]


class DayField(DateField):
    """A day as YYYY-MM-DD; a day that does not exist (2026-02-30) is said so."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("There is no such day: write it as YYYY-MM-DD.")) from None


class HitForm(FlaskForm):
    """What a page's beacon posts: its values, signed when the page was rendered
    (tracking.beacon_token). CSRF comes in the X-CSRFToken header, checked for every POST
    by CSRFProtect."""

    class Meta:
        csrf = False

    t = StringField(validators=[InputRequired(), Length(max=1000)])

    def validate_t(self, field):
        self.values = read_beacon(field.data)
        if self.values is None:
            raise ValidationError("not a beacon of this shop, or too old")


class RangeForm(FlaskForm):
    """A range of the shop's local days, both ends included, read from the query string."""

    class Meta:
        csrf = False  # a GET that only reads

    start = DayField(_l("From"), validators=[InputRequired()])
    end = DayField(_l("To"), validators=[InputRequired()])

    def validate_start(self, field):
        if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(_l("Choose days from %(first)s to %(last)s.",
                                     first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))

    def validate_end(self, field):
        self.validate_start(field)
        if self.start.data is None or field.data is None:
            return
        if field.data < self.start.data:
            raise ValidationError(_l("The range ends before it starts: put the earlier date first."))
        if (field.data - self.start.data).days + 1 > MAX_RANGE_DAYS:
            raise ValidationError(_l("Choose at most %(n)d days.", n=MAX_RANGE_DAYS))

    def fill_default(self, today: date, days: int = 30) -> None:
        self.start.data, self.end.data = today - timedelta(days=days - 1), today


class ExportForm(RangeForm):
    table = SelectField(_l("Table"), choices=[SelectChoice(k, v) for k, v in EXPORTS.items()],
                        validators=[InputRequired()])
