"""Promotions (营销): coupons and the claim centre, full reductions (满减) and
buy-N-get-M (买N送M), limited-time prices (限时价) and flash sales (秒杀). What each
does, and how they stack, is in services.py and the README."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("promotions", __name__)
admin_bp = Blueprint("promotions_admin", __name__, url_prefix="/admin/promotions")

SOURCE_LABELS = {"claim": _l("Claimed"), "newcomer": _l("Welcome gift"),
                 "grant": _l("From the shop")}
SCOPE_LABELS = {"all": _l("Everything"), "categories": _l("Some categories"),
                "products": _l("Some products")}
bp.add_app_template_global(SOURCE_LABELS, "COUPON_SOURCE_LABELS")
bp.add_app_template_global(SCOPE_LABELS, "PROMOTION_SCOPE_LABELS")

from shop.promotions import admin_views, models, services, views  # noqa: E402,F401
