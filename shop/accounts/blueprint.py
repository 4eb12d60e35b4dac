from flask import Blueprint

bp = Blueprint("accounts", __name__)

from shop.accounts import views  # noqa: E402,F401  (registers the routes on bp)
