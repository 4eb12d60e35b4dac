from flask import Blueprint

# Backoffice of customers and staff: the list is accounts_admin.customers (?q, role, tag,
# page), one customer's page accounts_admin.customer (user_id).
admin_bp = Blueprint("accounts_admin", __name__, url_prefix="/admin/customers")

from shop.customers import admin_views  # noqa: E402,F401  (routes)
