"""Form fields shared by every domain."""

from __future__ import annotations

import re

from datetime import timezone

from flask import current_app
from flask_babel import get_timezone
from flask_babel import gettext as _
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, ValidationError

from shop.money import MoneyError, input_value, parse_amount
from shop.text import has_invisible


class MoneyField(StringField):
    """Typed as '12.50', held as integer minor units in the shop's currency.

    Empty input gives None (add InputRequired where an amount must be given); anything
    that is not a plain non-negative amount with the currency's decimals is an error, and
    so are several values under one name (never the first of them).
    """

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if len(valuelist) > 1:
            raise ValueError(_("Send one number."))
        if self.raw.strip():
            try:
                self.data = parse_amount(self.raw, current_app.config["SHOP_CURRENCY"])
            except MoneyError as exc:
                raise ValueError(str(exc)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return input_value(self.data, current_app.config["SHOP_CURRENCY"]) if self.data is not None else ""


class CountField(StringField):
    """A whole number from `minimum` to `maximum` (stock, quantities), held as an int;
    anything else ("1.5", "-1", "1e3", a list) is one clear error. Empty gives None."""

    def __init__(self, label=None, validators=None, minimum: int = 0, maximum: int = 10**9, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if len(valuelist) > 1:
            raise ValueError(_("Send one number."))
        if not self.raw:
            return
        if not (self.raw.isascii() and self.raw.isdigit()) or not self.minimum <= int(self.raw) <= self.maximum:
            raise ValueError(_("Enter a whole number from %(min)d to %(max)d.",
                               min=self.minimum, max=self.maximum))
        self.data = int(self.raw)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class CountSelectField(SelectField):
    """A number chosen from a list (a flash sale's 1 to its limit): like CountField, one
    value or one clear error, never the first of several sent."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        if len(valuelist) > 1:
            raise ValueError(_("Send one number."))
        super().process_formdata(valuelist)


class RateField(CountField):
    """A rate in basis points (100 = 1 %), the one way every form takes a rate: a whole
    number from 0 to `maximum` (10 000: all of it), one of them; anything else is one
    clear error. Empty gives None."""

    def __init__(self, label=None, validators=None, minimum: int = 0, maximum: int = 10_000,
                 **kwargs):
        super().__init__(label, validators, minimum=minimum, maximum=maximum, **kwargs)


class ShopDateTimeField(DateTimeLocalField):
    """A date and time typed in the shop's time zone (a campaign's start), held as an
    aware UTC datetime; shown back in the shop's time zone."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                         **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:  # pytz: localize() picks the right offset for that date
            self.data = get_timezone().localize(self.data).astimezone(timezone.utc)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        return self.data.astimezone(get_timezone()).strftime("%Y-%m-%dT%H:%M")


class OneValueHiddenField(HiddenField):
    """A hidden field that refuses to be sent more than once (a list is not one value)."""

    def process_formdata(self, valuelist):
        if len(valuelist) > 1:
            self.data = None
            raise ValueError(_("Send one value."))
        super().process_formdata(valuelist)


MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?]")


class PersonName:
    """A validator for names people are shown by (shop.text): no invisible or
    direction-changing characters, and something visible left."""

    def __call__(self, form, field):
        value = field.data or ""
        if has_invisible(value):
            raise ValidationError(_("Names can not hold invisible or direction-changing "
                                    "characters."))
        if value and not value.strip():
            raise ValidationError(_("Enter a name people can read."))


class PlainText:
    """A validator for plain-text fields shown to shoppers (titles, summaries, tags):
    anything that looks like an HTML tag is refused with a message, not stored escaped."""

    def __call__(self, form, field):
        if field.data and MARKUP.search(field.data):
            raise ValidationError(_("Use plain text: HTML tags are not allowed here."))
