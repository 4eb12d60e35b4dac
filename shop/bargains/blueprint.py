from flask import Blueprint

from shop.bargains import BARGAIN_STATUS_LABELS

bp = Blueprint("bargains", __name__)
admin_bp = Blueprint("bargains_admin", __name__, url_prefix="/admin/bargains")
bp.add_app_template_global(BARGAIN_STATUS_LABELS, "BARGAIN_STATUS_LABELS")

from shop.bargains import admin_views, views  # noqa: E402,F401  (routes)
