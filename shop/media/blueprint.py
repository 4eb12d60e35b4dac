from flask import Blueprint

bp = Blueprint("media", __name__)

from shop.media import views  # noqa: E402,F401  (routes)
