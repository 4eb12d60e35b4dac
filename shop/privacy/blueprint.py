from flask import Blueprint

bp = Blueprint("privacy", __name__)

from shop.privacy import views  # noqa: E402,F401  (routes)
