from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.accounts.models import ROLE_LABELS, ROLES
from shop.customers.models import TAG_LENGTH
from shop.web.fields import PersonName, PlainText


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


class CustomerFilterForm(FlaskForm):
    """The customer list's query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search (name, phone or email)"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), default="", choices=[SelectChoice("", _l("Any"))] + [
        SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=TAG_LENGTH)], filters=[_strip])


class TagForm(FlaskForm):
    name = StringField(_l("Tag"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter a tag.")),
        Length(min=1, max=TAG_LENGTH, message=_l("Use 1 to 32 characters.")),
        PersonName(), PlainText()])


class RemoveTagForm(FlaskForm):
    name = StringField(validators=[InputRequired(), Length(max=TAG_LENGTH)], filters=[_strip])


class ActiveForm(FlaskForm):
    """Disable or enable: the button is the whole form (and its CSRF token)."""


class RolesForm(FlaskForm):
    """The stores' choices are set by the view (every store, by name)."""

    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
                       validators=[InputRequired()])
    can_publish = BooleanField(_l("May publish articles (editors)"))
    stores = SelectMultipleField(_l("Stores where they work (store staff)"), coerce=int,
                                 widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())
