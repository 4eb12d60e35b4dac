from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SearchField,
                     SelectChoice, SelectField, StringField, ValidationError)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, StopValidation

from shop import divisions
from shop.orders import addresses
from shop.orders.models import Address
from shop.web.fields import MoneyField, PersonName


class RequiredFor(InputRequired):
    """Required when the order is delivered (fulfilment "delivery": the address) or
    picked up ("pickup": the store); not read at all otherwise."""

    def __init__(self, fulfilment: str, message=None):
        super().__init__(message)
        self.fulfilment = fulfilment

    def __call__(self, form, field):
        if form.picks_up() != (self.fulfilment == "pickup"):
            field.errors[:] = []
            raise StopValidation()
        super().__call__(form, field)


class Typed(InputRequired):
    """Required when the form's own fields are read: not for an address picked from the
    book; the place (part "where") not for a pickup either."""

    def __init__(self, part: str = "who", message=None):
        super().__init__(message)
        self.part = part

    def __call__(self, form, field):
        if form.uses_saved() or (self.part == "where" and form.picks_up()):
            field.errors[:] = []
            raise StopValidation()
        super().__call__(form, field)


class DivisionFields:
    """The province, city and district selects (codes of shop.divisions): the cities are
    the chosen province's, the districts the chosen city's. Mixed into a form; the
    template is orders/_divisions.html (htmx loads the next list; without JavaScript the
    button under the province, or the city, posts the form back to fill the next one).
    Above them, a search of the districts (shop.divisions.search): a district picked from
    its matches (`district_pick`: its code) fills all three. Neither the search nor the
    pick is saved: they only choose the three codes."""

    district_search = SearchField(_l("Search a district"))
    district_pick = StringField()
    picked: divisions.Place | None = None  # the district district_pick chose, if it is one
    # not chosen: the message divisions.check() gives, not the generic "This field is required."
    province = SelectField(_l("Province"), validate_choice=False, validators=[
        Typed("where", message=_l("Choose a province from the list."))])
    city = SelectField(_l("City"), validate_choice=False, validators=[
        Typed("where", message=_l("Choose a city of the province from the list."))])
    district = SelectField(_l("District"), validate_choice=False, validators=[
        Typed("where", message=_l("Choose a district of the city from the list."))])

    def set_division_choices(self) -> None:
        def options(rows, prompt):
            return [("", prompt)] + [(row.code, row.name) for row in rows]

        self.picked = picked = divisions.place(self.district_pick.data)
        if picked is not None:  # a district from the search's matches: its three codes
            self.province.data, self.city.data, self.district.data = (
                picked.province.code, picked.city.code, picked.district.code)
            self.district_search.data = ""

        # a city left from another province (the province changed) is not chosen any more:
        # it lists no districts
        city = divisions.get(self.city.data)
        city_code = city.code if city and city.parent == self.province.data else None
        self.province.choices = options(divisions.provinces(), _("Choose a province"))
        self.city.choices = options(divisions.children(self.province.data), _("Choose a city"))
        self.district.choices = options(divisions.children(city_code), _("Choose a district"))

    def district_matches(self) -> list[divisions.Place]:
        """The search's matches shown with the form (posted back without JavaScript)."""
        return divisions.search(self.district_search.data)

    def uses_saved(self) -> bool:
        return False

    def picks_up(self) -> bool:
        return False


class DivisionsForm(DivisionFields, FlaskForm):
    """The selects alone, from the query string (the picker's fragment: GET, no token)."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_division_choices()

    def district_matches(self) -> list[divisions.Place]:
        return []  # htmx fetches them as the shopper types (orders.division_search)


class AddressFields(DivisionFields, FlaskForm):
    """An address as typed: who receives it, the picked divisions, the street, an
    optional postcode. Checked by the address book's own rule (addresses.checked)."""

    name = StringField(_l("Recipient"), validators=[Typed(message=_l("Who receives it?")),
                                                    Length(max=32), PersonName()])
    phone = StringField(_l("Mobile phone"), validators=[
        Typed(message=_l("Enter an 11-digit mobile number.")), Length(max=20)])
    detail = StringField(_l("Street and number"), validators=[
        Typed("where", message=_l("Enter the street and number.")), Length(max=200)])
    postcode = StringField(_l("Postcode (optional)"), validators=[Optional(), Length(max=6)])

    ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail", "postcode")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_division_choices()

    def refreshing(self) -> bool:
        """A no-JavaScript button of the picker (the next list, or "Search"), a district
        picked from the search's matches, or a search typed while no district is chosen
        (Enter in the search box without JavaScript sends the form's own button): not a
        save, nor an order placed."""
        searching = bool((self.district_search.data or "").strip()) and not self.district.data
        return bool(self.is_submitted() and (request.form.get("divisions") or searching
                                             or request.form.get("district_pick")))

    def validate(self, extra_validators=None) -> bool:
        if self.refreshing():
            return False  # shown again, the next list filled, with no error
        valid = super().validate(extra_validators)
        if not self.uses_saved():  # every field's error at once, each field's first
            try:
                if self.picks_up():
                    addresses.normalise_mobile(self.phone.data)
                else:
                    addresses.checked(**self.address_values())
            except addresses.AddressError as exc:
                self.add_address_errors(exc)
                valid = False
        return valid

    def add_address_errors(self, error: addresses.AddressError) -> None:
        """The address book's messages, on the fields that have none yet."""
        for name, message in (error.errors or {"name": str(error)}).items():
            field = getattr(self, name)
            if not field.errors:
                field.errors = [message]

    def address_values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in self.ADDRESS_FIELDS}

    def city_name(self) -> str:
        division = divisions.get(self.city.data)
        return division.name if division else ""


class AddressBookForm(AddressFields):
    make_default = BooleanField(_l("Make it my default address"))


class AddressForm(AddressFields):
    """Where an order goes: an address of the shopper's book (`address`: its id) or a new
    one typed in place ("new", or nothing: added to the book when the order is placed),
    and the token that makes a double tap one order. Nothing about prices is read from it."""

    address = StringField(validators=[Optional(), Length(max=10)])
    token = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the signed-in shopper's book (forms are made at the request edge)
        self.book = addresses.book(current_user.id) if current_user.is_authenticated else []

    def saved(self) -> Address | None:
        """The address picked from the book, if one was (and it may be used)."""
        picked = (self.address.data or "").strip()
        return next((a for a in self.book if str(a.id) == picked and not a.needs_edit), None)

    def uses_saved(self) -> bool:
        return not self.picks_up() and (self.address.data or "new").strip() != "new"

    def validate_address(self, field):
        if self.uses_saved() and self.saved() is None:
            raise StopValidation(_("Choose one of your addresses, or add a new one."))

    def fill_address(self, address: Address | None) -> None:
        """Start from the shopper's default address, if any."""
        if address is not None:
            self.name.data, self.phone.data = address.name, address.phone
            if not address.needs_edit:
                self.address.data = str(address.id)

    def province_code(self) -> str:
        """The province the order goes to (shipping depends on it)."""
        saved = self.saved() if self.uses_saved() else None
        return saved.province_code if saved else (self.province.data or "")

    def city_name(self) -> str:
        saved = self.saved() if self.uses_saved() else None
        return saved.city if saved else super().city_name()


class DestinationForm(AddressForm):
    """Delivery to the address, or pickup at a store (which store may take the order is
    shop.stores' to say): then only who collects it (name, phone) is read."""

    fulfilment = RadioField(_l("How do you want it?"), default="delivery", choices=[
        SelectChoice("delivery", _l("Deliver to my address")),
        SelectChoice("pickup", _l("I will pick it up at a store"))])
    store_id = IntegerField(_l("Store"), validators=[
        RequiredFor("pickup", message=_l("Choose the store you will pick it up at.")),
        NumberRange(1, 2**31 - 1, message=_l("Choose the store you will pick it up at."))])

    def picks_up(self) -> bool:
        return self.fulfilment.data == "pickup"


class CheckoutForm(DestinationForm):
    # Choices the price pipeline offers (shop.points, shop.promotions): the amounts are
    # the server's. coupon: one of the shopper's coupons by id, "none", or empty for the
    # one that takes the most off.
    use_points = BooleanField(_l("Use my points"))
    coupon = StringField(_l("Coupon"), validators=[Optional(), Regexp(r"^(none|\d{1,10})$")])


class ShipForm(FlaskForm):
    carrier = StringField(_l("Carrier"), validators=[InputRequired(), Length(max=64)])
    tracking_number = StringField(_l("Tracking number"), validators=[
        InputRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9-]+$", message=_l("Letters, digits and dashes only."))])


class OrderFilterForm(FlaskForm):
    """Query-string filters of the order list (GET: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="")
    q = StringField(_l("Order number, customer or product"), validators=[Optional(), Length(max=254)])
    method = SelectField(_l("Paid by"), default="", choices=[
        SelectChoice("", _l("Any")), SelectChoice("card", _l("Card")),
        SelectChoice("wallet", _l("Wallet"))])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date comes before the start date."))


class PayCardForm(FlaskForm):
    use_wallet = BooleanField(_l("Use my wallet balance first"))


class RefundRequestForm(FlaskForm):
    reason = StringField(_l("Why do you want a refund?"), validators=[InputRequired(), Length(max=200)])


class RefundForm(FlaskForm):
    """An admin's refund: of the whole order (the goods first, then shipping) or of one of
    its lines, picked by name (the view sets the choices). The token makes a resent form
    refund once."""

    line = SelectField(_l("What is refunded"), coerce=int, default=0)
    amount = MoneyField(_l("Amount to refund"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=200)])
    restock = BooleanField(_l("Return the stock of what is refunded"))
    token = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])


class DeclineRefundForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[InputRequired(), Length(max=200)])


class ShipBatchForm(FlaskForm):
    """A CSV of orders to ship: order number, carrier, tracking number (one order a row)."""

    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file."))])


class ShipBatchConfirmForm(FlaskForm):
    """The rows of a previewed batch, carried back signed; checked again when confirmed."""

    rows = HiddenField(validators=[InputRequired(), Length(max=2_000_000)])
