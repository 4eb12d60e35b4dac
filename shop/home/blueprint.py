from flask import Blueprint

bp = Blueprint("home", __name__)

from shop.home import views  # noqa: E402,F401  (routes)
