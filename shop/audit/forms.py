from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional


class LogFilterForm(FlaskForm):
    """Query-string filters of the audit log (GET: no CSRF token). The choices of who,
    area, action and kind of thing are set by the view (staff accounts by name, the
    backoffice blueprints of the URL map, the phrases of shop.audit.phrases)."""

    class Meta:
        csrf = False

    actor = SelectField(_l("Who"), default="")
    domain = SelectField(_l("Area"), default="")
    endpoint = SelectField(_l("Action"), default="")
    kind = SelectField(_l("Thing acted on"), default="")
    table = StringField(_l("Table changed"), validators=[Optional(), Length(max=64)])
    status = SelectField(_l("Outcome"), default="", choices=[
        SelectChoice("", _l("Any")), SelectChoice("ok", _l("Done")),
        SelectChoice("refused", _l("Refused"))])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date comes before the start date."))
