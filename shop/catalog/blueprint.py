from flask import Blueprint

from shop.catalog import labels
from shop.catalog.forms import STATUS_LABELS

bp = Blueprint("catalog", __name__)
admin_bp = Blueprint("catalog_admin", __name__, url_prefix="/admin/catalog")
admin_bp.add_app_template_global(STATUS_LABELS, "PRODUCT_STATUS_LABELS")
admin_bp.add_app_template_global(labels.sku_label, "sku_label")
admin_bp.add_app_template_global(labels.sku_detail, "sku_detail")
admin_bp.add_app_template_global(labels.sku_short, "sku_short")

from shop.catalog import admin_views, picking, views  # noqa: E402,F401  (routes; product, sku, category pickers)
