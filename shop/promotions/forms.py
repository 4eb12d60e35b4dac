"""Forms of promotions: the shopper's flash purchase, and the backoffice's. Money in the shop's currency (MoneyField), times in
the shop's time zone (ShopDateTimeField), percentages in basis points (1000 = 10 %).
Each form checks what the tables' CHECK constraints would refuse, so an admin gets a
message on the field instead of an error page; products, SKUs and categories are chosen
with pickers (shop.web.picking), which check that what was chosen exists."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (BooleanField, FieldList, Form, FormField, SelectChoice, SelectField,
                     StringField)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from shop.web.picking import PickField
from shop.money import MoneyError, parse_amount
from shop.orders.forms import AddressForm
from shop.promotions import SCOPE_LABELS, backoffice
from shop.referrals.margin import LOSS_LEADER_LABEL
from shop.web.forms import stored
from shop.web.fields import (CountField, CountSelectField, MoneyField, PlainText, RateField,
                             ShopDateTimeField)

MAX_TIERS = 3


class FlashBuyForm(AddressForm):
    """A flash purchase: how many (up to the item's limit), where it goes, and the
    one-use token. The price is the item's; nothing about it is read from the form."""

    quantity = CountSelectField(_l("Quantity"), validators=[InputRequired()])


def _name():
    return StringField(_l("Name"), filters=[lambda v: v.strip() if v else v],
                       validators=[InputRequired(), Length(max=80), PlainText()])


def _window(form) -> bool:
    if form.starts_at.data and form.ends_at.data and form.ends_at.data <= form.starts_at.data:
        form.ends_at.errors.append(_l("The end must come after the start."))
        return False
    return True


class ScopedForm(FlaskForm):
    """What an offer applies to: everything, some categories or some products."""

    scope = SelectField(_l("Applies to"), default="all",
                        choices=[SelectChoice(k, v) for k, v in SCOPE_LABELS.items()])
    # Chosen with pickers (shop.web.picking); the one "Applies to" names is saved.
    scope_categories = PickField(_l("Categories it applies to"), kind="category", multiple=True)
    scope_products = PickField(_l("Products it applies to"), kind="product", multiple=True)

    def _scope_field(self):
        return {"categories": self.scope_categories,
                "products": self.scope_products}.get(self.scope.data)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        field = self._scope_field()
        if field is not None and not field.errors and not field.data:
            field.errors.append(_l("Choose at least one."))
            valid = False
        return valid

    def scope_values(self) -> dict:
        field = self._scope_field()
        return {"scope": self.scope.data, "scope_ids": list(field.data) if field is not None else []}


def _scope_data(offer) -> dict:
    """A saved offer's scope ids as its picker's data (GET)."""
    ids = list(offer.scope_ids or [])
    return {"scope_categories": ids if offer.scope == "categories" else [],
            "scope_products": ids if offer.scope == "products" else []}


# --- coupons ------------------------------------------------------------------------------


class CouponForm(ScopedForm):
    name = _name()
    kind = SelectField(_l("Kind"), default="amount", choices=[
        SelectChoice("amount", _l("An amount off")), SelectChoice("percent", _l("A percentage off"))])
    amount = MoneyField(_l("Amount off (for an amount off)"))
    percent_bp = RateField(_l("Off, in basis points: 1000 is 10 percent (for a percentage off)"),
                           minimum=1, validators=[Optional()])
    cap = MoneyField(_l("At most this much off (optional, for a percentage off)"))
    min_spend = MoneyField(_l("Minimum spend on the goods it applies to (empty: none)"))
    valid_from = ShopDateTimeField(_l("Valid from"), validators=[InputRequired()])
    valid_until = ShopDateTimeField(_l("Valid until"), validators=[Optional()])
    valid_days = CountField(_l("Or: valid for this many days after it is handed out"),
                            minimum=1, maximum=3650, validators=[Optional()])
    total_quantity = CountField(_l("How many to hand out (empty: no limit)"),
                                minimum=1, maximum=10_000_000, validators=[Optional()])
    per_user_limit = CountField(_l("Each customer may claim at most"), minimum=1, maximum=100,
                                validators=[InputRequired()], default=1)
    claimable = BooleanField(_l("Offered in the claim centre"), default=True)
    newcomer = BooleanField(_l("Given to every new customer"))
    returns = BooleanField(_l("Given back when its order is cancelled or refunded"), default=True)
    group_buys = BooleanField(_l("May be used on group buys"))
    active = BooleanField(_l("Running"), default=True)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == "amount":
            if self.amount.data is None and not self.amount.errors:
                self.amount.errors.append(_l("Give the amount off."))
                valid = False
            elif self.amount.data is not None and self.amount.data <= 0:
                self.amount.errors.append(_l("The amount must be more than zero."))
                valid = False
        elif self.kind.data == "percent" and self.percent_bp.data is None and not self.percent_bp.errors:
            self.percent_bp.errors.append(_l("Give the percentage off."))
            valid = False
        if self.kind.data == "percent" and self.cap.data is not None and self.cap.data <= 0:
            self.cap.errors.append(_l("A cap must be more than zero."))
            valid = False
        until, days = self.valid_until, self.valid_days
        if until.data is not None and days.data is not None:
            days.errors.append(_l("Give an end or a number of days, not both."))
            valid = False
        elif until.data is None and days.data is None and not until.errors and not days.errors:
            days.errors.append(_l("Give an end or a number of days."))
            valid = False
        elif until.data is not None and self.valid_from.data and until.data <= self.valid_from.data:
            until.errors.append(_l("The end must come after the start."))
            valid = False
        return valid

    @classmethod
    def of(cls, coupon):
        """The form filled from a coupon (GET)."""
        return stored(cls, data={
            "name": coupon.name, "kind": coupon.kind, "amount": coupon.amount_minor,
            "percent_bp": coupon.percent_bp, "cap": coupon.cap_minor,
            "min_spend": coupon.min_spend_minor, "scope": coupon.scope,
            **_scope_data(coupon), "valid_from": coupon.valid_from,
            "valid_until": coupon.valid_until, "valid_days": coupon.valid_days,
            "total_quantity": coupon.total_quantity, "per_user_limit": coupon.per_user_limit,
            "claimable": coupon.claimable, "newcomer": coupon.newcomer, "returns": coupon.returns,
            "group_buys": coupon.group_buys, "active": coupon.active})

    def values(self) -> dict:
        """The coupon's columns (total_quantity aside); the other kind's value empty."""
        percent = self.kind.data == "percent"
        return {"name": self.name.data, "kind": self.kind.data,
                "amount_minor": None if percent else self.amount.data,
                "percent_bp": self.percent_bp.data if percent else None,
                "cap_minor": self.cap.data if percent else None,
                "min_spend_minor": self.min_spend.data or 0, **self.scope_values(),
                "valid_from": self.valid_from.data, "valid_until": self.valid_until.data,
                "valid_days": self.valid_days.data, "per_user_limit": self.per_user_limit.data,
                "claimable": self.claimable.data, "newcomer": self.newcomer.data,
                "returns": self.returns.data, "group_buys": self.group_buys.data,
                "active": self.active.data}


class GrantForm(FlaskForm):
    customers = PickField(_l("Customers to give it to"), kind="customer", multiple=True, most=500)

    def validate_customers(self, field):
        if not field.ids:
            raise ValidationError(_l("Choose at least one customer."))


# --- full reductions and buy N get M --------------------------------------------------------


class TierForm(Form):
    """One tier of a full reduction; a row left empty is no tier."""

    class Meta:  # a plain Form: WTForms' own messages in the page's language too
        def get_translations(self, form):
            return wtforms_translations

    threshold = StringField(_l("From (an amount, or a number of items)"),
                            filters=[lambda v: v.strip() if v else v])
    off_amount = MoneyField(_l("Amount off"))
    off_bp = RateField(_l("Or off, in basis points (1000 is 10 percent)"), minimum=1,
                       validators=[Optional()])
    free_shipping = BooleanField(_l("Free shipping"))
    gift_sku_id = PickField(_l("Gift (optional)"), kind="sku")

    def empty(self) -> bool:
        return not (self.threshold.data or self.off_amount.raw or self.off_bp.raw
                    or self.free_shipping.data or self.gift_sku_id.data
                    or self.gift_sku_id.query)


class FullReductionForm(ScopedForm):
    name = _name()
    basis = SelectField(_l("Tiers count"), default="amount", choices=[
        SelectChoice("amount", _l("What is spent on the goods it applies to")),
        SelectChoice("count", _l("How many of those items are bought"))])
    starts_at = ShopDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = ShopDateTimeField(_l("Ends at"), validators=[InputRequired()])
    with_coupons = BooleanField(_l("A coupon may be used with it"), default=True)
    group_buys = BooleanField(_l("Applies to group buys"), default=True)
    active = BooleanField(_l("Running"), default=True)
    tiers = FieldList(FormField(TierForm), min_entries=MAX_TIERS, max_entries=MAX_TIERS)

    tier_values: list[dict]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators) & _window(self)
        self.tier_values, seen = [], set()
        for row in (entry.form for entry in self.tiers):
            if row.empty():
                continue
            threshold = self._threshold(row.threshold)
            if row.off_amount.data is not None and row.off_amount.data <= 0:
                row.off_amount.errors.append(_l("The amount must be more than zero."))
            if row.off_amount.data is not None and row.off_bp.data is not None:
                row.off_bp.errors.append(_l("Take an amount or a percentage off, not both."))
            if not (row.off_amount.data or row.off_bp.data or row.free_shipping.data
                    or row.gift_sku_id.data) and not row.errors:
                row.threshold.errors.append(
                    _l("A tier gives something: money off, free shipping or a gift."))
            if threshold is not None and threshold in seen:
                row.threshold.errors.append(_l("Another tier has this threshold."))
            seen.add(threshold)
            if any(f.errors for f in row):
                valid = False
                continue
            self.tier_values.append({"threshold": threshold, "off_minor": row.off_amount.data,
                                     "off_bp": row.off_bp.data,
                                     "free_shipping": row.free_shipping.data,
                                     "gift_sku_id": row.gift_sku_id.data})
        if valid and not self.tier_values:
            self.form_errors.append(_l("Give at least one tier."))
            valid = False
        return bool(valid)

    def _threshold(self, field) -> int | None:
        raw = field.data or ""
        if not raw:
            field.errors.append(_l("Give the threshold of the tier."))
            return None
        if self.basis.data == "count":
            if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 10_000:
                field.errors.append(_l("Enter a number of items from 1 to 10000."))
                return None
            return int(raw)
        try:
            minor = parse_amount(raw, current_app.config["SHOP_CURRENCY"])
        except MoneyError as exc:
            field.errors.append(str(exc))
            return None
        if minor < 1:
            field.errors.append(_l("The amount must be more than zero."))
            return None
        return minor

    @classmethod
    def of(cls, promotion):
        from shop.money import input_value

        currency = current_app.config["SHOP_CURRENCY"]
        tiers = [{"threshold": input_value(t.threshold, currency) if promotion.basis == "amount"
                  else str(t.threshold), "off_amount": t.off_minor, "off_bp": t.off_bp,
                  "free_shipping": t.free_shipping, "gift_sku_id": t.gift_sku_id}
                 for t in promotion.tiers]
        return stored(cls, data={"name": promotion.name, "basis": promotion.basis,
                            "scope": promotion.scope, **_scope_data(promotion),
                            "starts_at": promotion.starts_at, "ends_at": promotion.ends_at,
                            "with_coupons": promotion.with_coupons,
                            "group_buys": promotion.group_buys, "active": promotion.active,
                            "tiers": tiers})

    def values(self) -> dict:
        return {"name": self.name.data, "basis": self.basis.data, **self.scope_values(),
                "starts_at": self.starts_at.data, "ends_at": self.ends_at.data,
                "with_coupons": self.with_coupons.data, "group_buys": self.group_buys.data,
                "active": self.active.data}


class BuyGetForm(FlaskForm):
    name = _name()
    sku_id = PickField(_l("SKU"), kind="sku", validators=[InputRequired()])
    buy_n = CountField(_l("Buy (units)"), minimum=1, maximum=99, validators=[InputRequired()])
    get_m = CountField(_l("Get free (units)"), minimum=1, maximum=99, validators=[InputRequired()])
    starts_at = ShopDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = ShopDateTimeField(_l("Ends at"), validators=[InputRequired()])
    active = BooleanField(_l("Running"), default=True)

    def validate(self, extra_validators=None) -> bool:
        return bool(super().validate(extra_validators) & _window(self))

    @classmethod
    def of(cls, promotion):
        return stored(cls, data={name: getattr(promotion, name) for name in (
            "name", "sku_id", "buy_n", "get_m", "starts_at", "ends_at", "active")})

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "sku_id", "buy_n", "get_m", "starts_at", "ends_at", "active")}


# --- limited-time prices ------------------------------------------------------------------


class TimedPriceForm(FlaskForm):
    name = _name()
    product_id = PickField(_l("Product"), kind="product", validators=[InputRequired()])
    sku_id = PickField(_l("Only this SKU of it (optional)"), kind="sku")
    kind = SelectField(_l("Kind"), default="price", choices=[
        SelectChoice("price", _l("A set price")), SelectChoice("percent", _l("A percentage off"))])
    price = MoneyField(_l("Price (for a set price)"))
    percent_bp = RateField(_l("Off, in basis points: 1000 is 10 percent (for a percentage off)"),
                           minimum=1, maximum=9_999, validators=[Optional()])
    starts_at = ShopDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = ShopDateTimeField(_l("Ends at"), validators=[InputRequired()])
    with_coupons = BooleanField(_l("Coupons may be used on it"), default=True)
    active = BooleanField(_l("Running"), default=True)
    loss_leader = BooleanField(LOSS_LEADER_LABEL)

    def validate_sku_id(self, field):
        if field.data is not None and self.product_id.data is not None \
                and not backoffice.sku_of_product(field.data, self.product_id.data):
            raise ValidationError(_l("That SKU is not one of the product's."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators) & _window(self)
        if self.kind.data == "price":
            if self.price.data is None and not self.price.errors:
                self.price.errors.append(_l("Give the price."))
                valid = False
            elif self.price.data is not None and self.price.data <= 0:
                self.price.errors.append(_l("A price must be more than zero."))
                valid = False
        elif self.kind.data == "percent" and self.percent_bp.data is None and not self.percent_bp.errors:
            self.percent_bp.errors.append(_l("Give the percentage off."))
            valid = False
        return bool(valid)

    @classmethod
    def of(cls, timed):
        return stored(cls, data={"name": timed.name, "product_id": timed.product_id,
                            "sku_id": timed.sku_id, "kind": timed.kind, "price": timed.price_minor,
                            "percent_bp": timed.percent_bp, "starts_at": timed.starts_at,
                            "ends_at": timed.ends_at, "with_coupons": timed.with_coupons,
                            "active": timed.active})

    def values(self) -> dict:
        percent = self.kind.data == "percent"
        return {"name": self.name.data, "product_id": self.product_id.data,
                "sku_id": self.sku_id.data, "kind": self.kind.data,
                "price_minor": None if percent else self.price.data,
                "percent_bp": self.percent_bp.data if percent else None,
                "starts_at": self.starts_at.data, "ends_at": self.ends_at.data,
                "with_coupons": self.with_coupons.data, "active": self.active.data}


# --- flash sales ----------------------------------------------------------------------------


SESSION_FIELDS = ("name", "starts_at", "ends_at", "with_coupons", "with_full_reduction", "active")


class FlashSessionForm(FlaskForm):
    name = _name()
    starts_at = ShopDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = ShopDateTimeField(_l("Ends at"), validators=[InputRequired()])
    with_coupons = BooleanField(_l("Coupons may be used on it"))
    with_full_reduction = BooleanField(_l("Full reductions apply to it"))
    active = BooleanField(_l("Running"), default=True)

    def validate(self, extra_validators=None) -> bool:
        return bool(super().validate(extra_validators) & _window(self))

    @classmethod
    def of(cls, session):
        return stored(cls, data={name: getattr(session, name) for name in SESSION_FIELDS})

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in SESSION_FIELDS}


class _FlashTermsForm(FlaskForm):
    price = MoneyField(_l("Flash price"), validators=[InputRequired()])
    per_user_limit = CountField(_l("Each customer may buy at most"), minimum=1, maximum=99,
                                validators=[InputRequired()], default=1)
    loss_leader = BooleanField(LOSS_LEADER_LABEL)

    def validate_price(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("A price must be more than zero."))


class FlashItemForm(_FlashTermsForm):
    """A SKU added to a session with the units set aside for it."""

    sku_id = PickField(_l("SKU"), kind="sku", validators=[InputRequired()])
    allotted = CountField(_l("Flash stock (taken from the SKU's stock)"), minimum=1,
                          maximum=1_000_000, validators=[InputRequired()])


class FlashItemChangeForm(_FlashTermsForm):
    """An item's price, limit and flash stock (what is unsold may go back to the SKU)."""

    allotted = CountField(_l("Flash stock"), minimum=0, maximum=1_000_000,
                          validators=[InputRequired()])

    @classmethod
    def of(cls, item):
        return stored(cls, prefix=f"item{item.id}",
                      data={"price": item.price_minor, "per_user_limit": item.per_user_limit,
                            "allotted": item.allotted})
