from flask import Blueprint

from shop.promotions import SCOPE_LABELS, SOURCE_LABELS, USER_COUPON_STATUS_LABELS

bp = Blueprint("promotions", __name__)
admin_bp = Blueprint("promotions_admin", __name__, url_prefix="/admin/promotions")
bp.add_app_template_global(SOURCE_LABELS, "COUPON_SOURCE_LABELS")
bp.add_app_template_global(SCOPE_LABELS, "PROMOTION_SCOPE_LABELS")
bp.add_app_template_global(USER_COUPON_STATUS_LABELS, "USER_COUPON_STATUS_LABELS")

from shop.promotions import admin_views, views  # noqa: E402,F401  (routes)
