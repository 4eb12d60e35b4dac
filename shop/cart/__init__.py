"""The cart: in the session for visitors, in the database for accounts, merged at sign-in."""

from flask import Blueprint

bp = Blueprint("cart", __name__)

from shop.cart import views  # noqa: E402,F401
