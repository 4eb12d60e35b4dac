from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, RadioField
from wtforms.validators import InputRequired, Optional, ValidationError

from shop.web.picking import PickField
from shop.orders.forms import DestinationForm
from shop.referrals.margin import LOSS_LEADER_LABEL
from shop.web.fields import CountField, MoneyField, ShopDateTimeField


class SeatForm(DestinationForm):
    """Opening or joining a group: which option, where it goes, and the one-use token.
    The price is the campaign's; nothing about it is read from the form."""

    sku_id = RadioField(_l("Option"), coerce=int, validators=[InputRequired()])


class ProductChoiceForm(FlaskForm):
    """The product a new group buy sells, chosen with a picker (a GET form: no token)."""

    class Meta:
        csrf = False

    product_id = PickField(_l("Product"), kind="product", validators=[InputRequired()])


class CampaignSkuForm(Form):
    """One of the product's SKUs: in the campaign when it has a group price."""

    class Meta:  # a plain Form: WTForms' own messages in the page's language too
        def get_translations(self, form):
            return wtforms_translations

    sku_id = HiddenField()
    price = MoneyField(_l("Group price"))
    leader_price = MoneyField(_l("Leader's price (optional)"))

    def validate_price(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("A price must be more than zero."))

    def validate_leader_price(self, field):
        if field.data is not None:
            if self.price.data is None:
                raise ValidationError(_l("Give the group price first."))
            if not 0 < field.data <= self.price.data:
                raise ValidationError(_l("The leader's price is more than zero and at most the group price."))


class CampaignForm(FlaskForm):
    group_size = CountField(_l("People per group"), minimum=2, maximum=100,
                            validators=[InputRequired()])
    hours = CountField(_l("Hours a group has to fill"), minimum=1, maximum=720,
                       validators=[InputRequired()])
    starts_at = ShopDateTimeField(_l("Starts at"), validators=[InputRequired()])
    ends_at = ShopDateTimeField(_l("Ends at"), validators=[InputRequired()])
    stock_cap = CountField(_l("Units the campaign may sell"), minimum=0, maximum=1_000_000,
                           validators=[InputRequired()])
    per_user_limit = CountField(_l("Seats per shopper in this campaign (empty: no limit)"),
                                minimum=1, maximum=100, validators=[Optional()])
    new_customers_only = BooleanField(_l("Only new customers may join (leaders may be anyone)"))
    auto_complete_percent = CountField(
        _l("Complete at the deadline with at least this percentage of seats paid (empty: never)"),
        minimum=1, maximum=100, validators=[Optional()])
    active = BooleanField(_l("Running"), default=True)
    skus = FieldList(FormField(CampaignSkuForm))
    loss_leader = BooleanField(LOSS_LEADER_LABEL)

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must come after the start."))

    def below_floor(self, sku_id: int | None, message: str) -> None:
        """A price refused by the margin guard, shown on its SKU's row (the leader's
        price when given: the lowest), else on the form."""
        for row in self.skus:
            if row.sku_id.data and int(row.sku_id.data) == sku_id:
                target = row.leader_price if row.leader_price.data is not None else row.price
                target.errors = list(target.errors) + [message]
                return
        self.form_errors.append(message)

    def prices(self) -> dict[int, tuple[int, int | None]]:
        """{sku_id: (group price, leader price or None)} of the rows with a group price."""
        return {int(row.sku_id.data): (row.price.data, row.leader_price.data)
                for row in self.skus if row.price.data is not None}

    def values(self) -> dict:
        percent = self.auto_complete_percent.data
        return {"group_size": self.group_size.data, "hours": self.hours.data,
                "starts_at": self.starts_at.data, "ends_at": self.ends_at.data,
                "stock_cap": self.stock_cap.data, "per_user_limit": self.per_user_limit.data,
                "new_customers_only": self.new_customers_only.data,
                "auto_complete_bp": percent * 100 if percent else None,
                "active": self.active.data}
