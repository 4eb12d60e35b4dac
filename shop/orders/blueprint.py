from flask import Blueprint

from shop.orders import HOLD_LABELS, REASON_LABELS, STATUS_LABELS

bp = Blueprint("orders", __name__)
bp.add_app_template_global(STATUS_LABELS, "ORDER_STATUS_LABELS")
bp.add_app_template_global(HOLD_LABELS, "ORDER_HOLD_LABELS")
bp.add_app_template_global(REASON_LABELS, "ORDER_REASON_LABELS")

from shop.orders import address_views, views  # noqa: E402,F401  (routes)
