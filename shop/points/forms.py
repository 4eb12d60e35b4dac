import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from shop.web.picking import PickField
from shop.orders.forms import AddressForm
from shop.points import EXPIRY_RULE_LABELS
from shop.points.services import MAX_POINTS
from shop.referrals.margin import LOSS_LEADER_LABEL
from shop.web.fields import CountField, MoneyField, PlainText, RateField

BONUS = re.compile(r"^\s*(\d{1,2})\s*[:：=]\s*(\d{1,7})\s*$")


def _count(label, minimum=0, maximum=MAX_POINTS, required=True):
    return CountField(label, validators=[InputRequired() if required else Optional()],
                      minimum=minimum, maximum=maximum)


class SettingsForm(FlaskForm):
    earn_per_unit = _count(_l("Points earned per currency unit paid"), maximum=1000)
    redeem_per_unit = _count(_l("Points that make one currency unit at checkout"), 1, 10_000)
    deduct_max_bp = RateField(_l("A deduction covers at most (basis points of the goods)"),
                              validators=[InputRequired()])
    deduct_cap_points = _count(_l("At most this many points per order (0: no deduction)"))
    expiry_rule = SelectField(_l("Earned points expire"),
                              choices=[SelectChoice(k, v) for k, v in EXPIRY_RULE_LABELS.items()])
    expiry_days = _count(_l("Days until they expire (when counted in days)"), 1, 3650)
    signin_points = _count(_l("Points for a daily sign-in"), maximum=10_000)
    bonuses = StringField(_l("Streak bonuses (day:points, separated by commas)"),
                          validators=[Optional(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bonus_map: dict[int, int] = {}  # {day: points}, filled by validation

    def validate_bonuses(self, field):
        for part in filter(str.strip, re.split(r"[,，]", field.data or "")):
            match = BONUS.match(part)
            if not match or not 2 <= int(match[1]) <= 31 or int(match[2]) == 0:
                raise ValidationError(_l("Write each bonus as day:points, a day from 2 to 31 "
                                         "and more than zero points, e.g. 3:10, 7:30."))
            if int(match[1]) in self.bonus_map:
                raise ValidationError(_l("Each day may have one bonus."))
            self.bonus_map[int(match[1])] = int(match[2])


class TaskRuleForm(FlaskForm):
    points = _count(_l("Points"), maximum=100_000)
    active = BooleanField(_l("Offered"))


class RateForm(FlaskForm):
    """A product's own earning rate; empty goes back to the shop's."""

    product_id = PickField(_l("Product"), kind="product", validators=[InputRequired()])
    earn_per_unit = _count(_l("Points per currency unit (empty: the shop's rate)"),
                           maximum=1000, required=False)


class AdjustForm(FlaskForm):
    user_id = PickField(_l("Shopper"), kind="customer", validators=[InputRequired()])
    direction = SelectField(_l("Change"), choices=[SelectChoice("credit", _l("Add points")),
                                                    SelectChoice("debit", _l("Take points"))])
    points = _count(_l("Points"), 1)
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=200), PlainText()])
    token = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])


class MallItemForm(FlaskForm):
    sku_id = PickField(_l("SKU"), kind="sku", validators=[InputRequired()])
    points_price = _count(_l("Points"), 1)
    cash_minor = MoneyField(_l("Plus cash (0 for points only)"), validators=[InputRequired()])
    per_user_limit = _count(_l("Each shopper may redeem at most (0: no limit)"), maximum=10_000)
    active = BooleanField(_l("Offered"), default=True)
    loss_leader = BooleanField(LOSS_LEADER_LABEL)


class MallStockForm(FlaskForm):
    change = StringField(_l("Add to (or, with a minus, take from) the stock"), validators=[
        InputRequired(), Regexp(r"^-?\d{1,6}$", message=_l("Enter a whole number."))])
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=32), PlainText()])


class RedeemForm(AddressForm):
    """Where the item goes, and the token that makes a double tap one redemption."""

    quantity = _count(_l("Quantity"), 1, 99)
