from flask import Blueprint

bp = Blueprint("catalog", __name__)
admin_bp = Blueprint("catalog_admin", __name__, url_prefix="/admin/catalog")

from shop.catalog import admin_views, views  # noqa: E402,F401
from shop.catalog.forms import STATUS_LABELS  # noqa: E402

admin_bp.add_app_template_global(STATUS_LABELS, "PRODUCT_STATUS_LABELS")
