from flask import Blueprint

from shop.analytics import SOURCE_LABELS
from shop.analytics.tracking import beacon_token

bp = Blueprint("analytics", __name__)
admin_bp = Blueprint("analytics_admin", __name__, url_prefix="/admin/data")
bp.add_app_template_global(SOURCE_LABELS, "SOURCE_LABELS")
bp.add_app_template_global(beacon_token, "track_beacon")

from shop.analytics import admin_views, views  # noqa: E402,F401  (routes)
