from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectChoice,
                     SelectField, StringField, ValidationError)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, StopValidation

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


class AddressForm(FlaskForm):
    """Where an order goes, in Chinese form, and the token that makes a double tap one
    order. Nothing about prices is read from it."""

    name = StringField(_l("Recipient"), validators=[InputRequired(), Length(max=32), PersonName()])
    phone = StringField(_l("Mobile phone"), validators=[
        InputRequired(), Regexp(r"^1[3-9]\d{9}$", message=_l("Enter an 11-digit mobile number."))])
    province = StringField(_l("Province"), validators=[RequiredFor("delivery"), Length(max=32)])
    city = StringField(_l("City"), validators=[RequiredFor("delivery"), Length(max=32)])
    district = StringField(_l("District"), validators=[RequiredFor("delivery"), Length(max=32)])
    detail = StringField(_l("Street and number"), validators=[RequiredFor("delivery"), Length(max=200)])
    token = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])

    ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail")

    def fill_address(self, address) -> None:
        """Start from the shopper's last address, if any."""
        if address is not None:
            for name in self.ADDRESS_FIELDS:
                getattr(self, name).data = getattr(address, name)

    def address_values(self) -> dict:
        return {name: getattr(self, name).data for name in self.ADDRESS_FIELDS}

    def picks_up(self) -> bool:
        return False


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
