from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from shop.referrals import BINDING_RULE_LABELS, MODE_LABELS, WITHDRAWAL_METHOD_LABELS, services
from shop.web.fields import CountField, MoneyField, PersonName, PlainText, RateField

CODE = Regexp(r"^[2-9A-HJ-NP-Za-hj-np-z]{8}$", message=_l("A referral code is 8 letters and digits."))


MAX_AMOUNT = NumberRange(max=services.MAX_AMOUNT, message=_l("The amount is too large."))


def _rate(label, maximum: int = 10_000):
    return RateField(label, validators=[InputRequired()], maximum=maximum)


class CodeForm(FlaskForm):
    """A referrer's code typed at checkout (checkout.html posts it to referrals.claim)."""

    code = StringField(_l("Referral code"), validators=[InputRequired(), CODE])


class ApplyForm(FlaskForm):
    real_name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=32), PlainText(),
                                                         PersonName()])
    phone = StringField(_l("Mobile phone"), validators=[
        InputRequired(), Regexp(r"^1[3-9]\d{9}$", message=_l("Enter an 11-digit mobile number."))])
    pitch = TextAreaField(_l("How will you share our products?"),
                          validators=[InputRequired(), Length(max=500), PlainText()])


class WithdrawForm(FlaskForm):
    amount = MoneyField(_l("Amount"), validators=[InputRequired(), MAX_AMOUNT])
    method = RadioField(_l("Paid to"), default="wallet", choices=[
        SelectChoice(key, label) for key, label in WITHDRAWAL_METHOD_LABELS.items()])
    account = StringField(_l("Bank, account number and holder (for a bank transfer)"),
                          validators=[Optional(), Length(max=120), PlainText()])


class DecisionForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200), PlainText()])


class PaidForm(FlaskForm):
    reference = StringField(_l("Transfer reference"), validators=[InputRequired(), Length(max=64),
                                                                  PlainText()])


class SettingsForm(FlaskForm):
    mode = SelectField(_l("Who may earn"), choices=[SelectChoice(k, v) for k, v in MODE_LABELS.items()])
    threshold_minor = MoneyField(_l("Spending threshold (when earning needs it)"),
                                 validators=[InputRequired(), MAX_AMOUNT])
    binding_rule = SelectField(_l("A shopper is bound to"),
                               choices=[SelectChoice(k, v) for k, v in BINDING_RULE_LABELS.items()])
    binding_days = CountField(_l("Binding lasts (days; 0 for good)"), validators=[InputRequired()],
                              minimum=0, maximum=3650)
    cookie_days = CountField(_l("A link is remembered on the visitor's browser for (days)"),
                             validators=[InputRequired()], minimum=1, maximum=365)
    level1_bp = _rate(_l("Level-1 rate (basis points: 100 = 1%)"))
    level2_bp = _rate(_l("Level-2 rate (basis points)"))
    self_purchase = BooleanField(_l("Distributors earn level 1 on their own purchases"))
    settle_days = CountField(_l("Refund window before a commission settles (days)"),
                             validators=[InputRequired()], minimum=0, maximum=365)
    margin_floor_bp = _rate(_l("Margin floor (basis points of what is paid for the goods)"))
    withdraw_min_minor = MoneyField(_l("Smallest withdrawal"), validators=[InputRequired(), MAX_AMOUNT])
    withdraw_fee_bp = _rate(_l("Withdrawal fee (basis points)"), maximum=9_999)


class LevelForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=32), PlainText()])
    level1_bp = _rate(_l("Level-1 rate (basis points)"))
    level2_bp = _rate(_l("Level-2 rate (basis points)"))


class RateForm(FlaskForm):
    """An override for a product, or one SKU of it (sku 0: the whole product)."""

    sku_id = SelectField(_l("Applies to"), coerce=int)
    level1_bp = _rate(_l("Level-1 rate (basis points)"))
    level2_bp = _rate(_l("Level-2 rate (basis points)"))


class DistributorForm(FlaskForm):
    level_id = SelectField(_l("Level"), coerce=int)
