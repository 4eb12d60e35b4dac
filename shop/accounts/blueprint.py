from flask import Blueprint

bp = Blueprint("accounts", __name__)

from shop.accounts import passkey_views, picking, views  # noqa: E402,F401  (the routes on bp; the customer picker)
from shop.accounts import email_views  # noqa: E402,F401  (links sent by email)
