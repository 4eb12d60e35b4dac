from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import InputRequired

from shop.cart.services import MAX_QUANTITY
from shop.web.fields import CountField


class AddForm(FlaskForm):
    """Only ids and quantities are read; any price or total field sent along is ignored."""

    sku_id = CountField(_l("Item"), minimum=1, maximum=2**31 - 1, validators=[InputRequired()])
    quantity = CountField(_l("Quantity"), default=1, minimum=1, maximum=MAX_QUANTITY,
                          validators=[InputRequired()])
    # The article whose product card this came from (attribution), when there is one.
    via = CountField(_l("Article"), minimum=1, maximum=2**31 - 1)
    # "Buy now": add, then go to checkout.
    buy = BooleanField()


class QuantityForm(FlaskForm):
    quantity = CountField(_l("Quantity"), minimum=1, maximum=MAX_QUANTITY,
                          validators=[InputRequired()])
