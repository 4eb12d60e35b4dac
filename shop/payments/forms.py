from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Regexp

from shop.web.fields import OneValueHiddenField


class CardForm(FlaskForm):
    """What the card form posts: the id Stripe.js made for the card the shopper typed
    (never a card number, never an amount)."""

    payment_method = OneValueHiddenField(validators=[
        InputRequired(), Regexp(r"^(card|pm|src)_[A-Za-z0-9]{6,60}$")])
