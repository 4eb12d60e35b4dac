from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, Optional, Regexp, URL

from shop.web.picking import PickField
from shop.stores.models import degrees


def parse_degrees(text: str, limit: int) -> int | None:
    """'31.2304' -> 31230400 (microdegrees); None unless a finite number within ±limit."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > limit:
        return None
    return int((value * 1_000_000).to_integral_value())


class DegreesField(StringField):
    """Decimal degrees as typed ('31.2304'), held as integer microdegrees; empty: None."""

    def __init__(self, label=None, validators=None, limit: int = 90, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.limit = limit

    def process_formdata(self, valuelist):
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not self.raw:
            return
        self.data = parse_degrees(self.raw, self.limit)
        if self.data is None:
            raise ValueError(_l("Enter decimal degrees from -%(n)d to %(n)d, e.g. 31.2304.",
                                n=self.limit))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return degrees(self.data) if self.data is not None else ""


class StoreForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=64)])
    city = StringField(_l("City"), validators=[InputRequired(), Length(max=32)])
    address = StringField(_l("Address"), validators=[InputRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[
        InputRequired(), Length(max=20),
        Regexp(r"^[0-9+\- ]{5,20}$", message=_l("Digits, spaces, + and - only."))])
    hours = StringField(_l("Opening hours"), validators=[InputRequired(), Length(max=100)])
    map_url = StringField(_l("Map link (optional)"), validators=[
        Optional(), Length(max=500), URL(require_tld=True, message=_l("Enter a web address."))])
    latitude_e6 = DegreesField(_l("Latitude (optional)"), limit=90)
    longitude_e6 = DegreesField(_l("Longitude (optional)"), limit=180)
    active = BooleanField(_l("Takes pickups"), default=True)

    FIELDS = ("name", "city", "address", "phone", "hours", "map_url", "latitude_e6",
              "longitude_e6", "active")

    def validate_map_url(self, field):
        if field.data and not field.data.startswith(("https://", "http://")):
            raise ValidationError(_l("Enter a web address."))

    def validate_longitude_e6(self, field):
        if (field.data is None) != (self.latitude_e6.data is None):
            raise ValidationError(_l("Give both coordinates, or neither."))

    def values(self) -> dict:
        values = {name: getattr(self, name).data for name in self.FIELDS}
        values["map_url"] = values["map_url"] or ""
        return values


class StaffForm(FlaskForm):
    user_id = PickField(_l("Account"), kind="customer", validators=[InputRequired()])


class VerifyForm(FlaskForm):
    """A pickup code at one of the staff member's stores (look-up and confirmation)."""

    # Any store id is read; whether this staff member works there is the service's to
    # say (403, with a message), not a bare "not a valid choice".
    store_id = SelectField(_l("Store"), coerce=int, validators=[InputRequired()],
                           validate_choice=False)
    code = StringField(_l("Pickup code"), validators=[InputRequired(), Length(max=32)])
