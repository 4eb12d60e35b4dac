"""Form fields shared by every domain."""

from __future__ import annotations

from flask import current_app
from wtforms import StringField

from shop.money import MoneyError, input_value, parse_amount


class MoneyField(StringField):
    """Typed as '12.50', held as integer minor units in the shop's currency.

    Empty input gives None (add InputRequired where an amount must be given); anything
    that is not a plain non-negative amount with the currency's decimals is an error.
    """

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw.strip():
            try:
                self.data = parse_amount(self.raw, current_app.config["SHOP_CURRENCY"])
            except MoneyError as exc:
                raise ValueError(str(exc)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return input_value(self.data, current_app.config["SHOP_CURRENCY"]) if self.data is not None else ""
