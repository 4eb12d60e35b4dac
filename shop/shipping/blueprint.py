from flask import Blueprint

# Backoffice only: shoppers meet shipping in the price breakdown (the pricing step).
admin_bp = Blueprint("shipping_admin", __name__, url_prefix="/admin/shipping")

from shop.shipping import admin_views  # noqa: E402,F401  (routes)
