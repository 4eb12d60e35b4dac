from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length, Optional


class CloseForm(FlaskForm):
    """Closing an account: its password, or for an account without one, the word shown
    (shop.accounts.closure checks either)."""

    password = PasswordField(_l("Your password"), validators=[Optional(), Length(max=128)])
    word = StringField(_l("Confirmation word"), validators=[Optional(), Length(max=32)])
