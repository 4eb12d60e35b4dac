from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired

from shop.bargains.services import MAX_HELPERS, MAX_HOURS
from shop.web.picking import PickField
from shop.orders.forms import AddressForm
from shop.referrals.margin import LOSS_LEADER_LABEL
from shop.web.fields import CountField, MoneyField, ShopDateTimeField

class BuyForm(AddressForm):
    """Where the bargain goes, and the token that makes a double tap one order. The
    price is the bargain's, read on the server."""


class CampaignForm(FlaskForm):
    """A campaign as an admin types it: prices in the shop's currency, times in the
    shop's time zone. The cross-field rules are the table's checks: a floor of at least
    0.01, at least 0.01 between start and floor per helper, the end after the start."""

    sku_id = PickField(_l("SKU"), kind="sku", validators=[InputRequired()])
    start_price_minor = MoneyField(_l("Start price"), validators=[InputRequired()])
    floor_price_minor = MoneyField(_l("Floor price"), validators=[InputRequired()])
    helpers_needed = CountField(_l("Helpers needed"), validators=[InputRequired()],
                                minimum=1, maximum=MAX_HELPERS)
    hours = CountField(_l("Hours a bargain runs"), validators=[InputRequired()],
                       minimum=1, maximum=MAX_HOURS)
    starts_at = ShopDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = ShopDateTimeField(_l("Ends at"), validators=[InputRequired()])
    active = BooleanField(_l("On (shoppers may start bargains)"), default=True)
    loss_leader = BooleanField(LOSS_LEADER_LABEL)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, floor = self.start_price_minor.data, self.floor_price_minor.data
        helpers = self.helpers_needed.data
        if floor is not None and floor < 1:
            self.floor_price_minor.errors.append(_l("The floor price must be at least 0.01."))
            valid = False
        elif start is not None and floor is not None:
            if floor >= start:
                self.floor_price_minor.errors.append(_l("The floor price must be below the start price."))
                valid = False
            elif helpers is not None and start - floor < helpers:
                self.start_price_minor.errors.append(
                    _l("The start price must be above the floor by at least 0.01 per helper."))
                valid = False
        if self.starts_at.data and self.ends_at.data and self.ends_at.data <= self.starts_at.data:
            self.ends_at.errors.append(_l("The campaign must end after it starts."))
            valid = False
        return valid

    def values(self) -> dict:
        """What the service takes."""
        return {"sku_code": self.sku_id.chosen.code, "start_price_minor": self.start_price_minor.data,
                "floor_price_minor": self.floor_price_minor.data,
                "helpers_needed": self.helpers_needed.data, "hours": self.hours.data,
                "starts_at": self.starts_at.data, "ends_at": self.ends_at.data,
                "active": self.active.data}
