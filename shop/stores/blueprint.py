from flask import Blueprint

bp = Blueprint("stores", __name__)
admin_bp = Blueprint("stores_admin", __name__, url_prefix="/admin")

from shop.stores import admin_views, picking, views  # noqa: E402,F401  (routes; the store picker)
