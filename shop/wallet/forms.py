from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp

from shop.web.fields import MoneyField
from shop.web.picking import PickField


class AdjustForm(FlaskForm):
    user_id = PickField(_l("Shopper"), kind="customer", validators=[InputRequired()])
    direction = SelectField(_l("Change"), choices=[SelectChoice("credit", _l("Add to the balance")),
                                                    SelectChoice("debit", _l("Take from the balance"))])
    amount = MoneyField(_l("Amount"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=200)])
    # Made with the page: the adjustment's business reference, so a double submit (or a
    # resent form) is recorded once.
    token = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])


class PackageForm(FlaskForm):
    pay = MoneyField(_l("The shopper pays"), validators=[InputRequired()])
    credit = MoneyField(_l("The wallet gets"), validators=[InputRequired()])
