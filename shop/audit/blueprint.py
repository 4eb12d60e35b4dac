from flask import Blueprint

admin_bp = Blueprint("audit_admin", __name__, url_prefix="/admin/audit")

from shop.audit import admin_views  # noqa: E402,F401  (routes)
