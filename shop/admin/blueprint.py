from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from shop.admin import views  # noqa: E402,F401  (registers the routes on bp)
from shop.admin import pickers  # noqa: E402,F401  (the pickers search fragment)
