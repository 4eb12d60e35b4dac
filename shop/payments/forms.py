from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Regexp


class CardForm(FlaskForm):
    """What the card form posts: the id Stripe.js made for the card the shopper typed
    (never a card number, never an amount)."""

    payment_method = HiddenField(validators=[
        InputRequired(), Regexp(r"^(card|pm|src)_[A-Za-z0-9]{6,60}$")])
