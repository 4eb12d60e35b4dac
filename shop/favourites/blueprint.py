from flask import Blueprint

bp = Blueprint("favourites", __name__)

from shop.favourites import views  # noqa: E402,F401  (routes)
