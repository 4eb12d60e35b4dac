"""Orders: addresses, the price pipeline, checkout, the order state machine."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("orders", __name__)

STATUS_LABELS = {
    "awaiting_payment": _l("Awaiting payment"), "paid": _l("Paid"), "shipped": _l("Shipped"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
    "refund_requested": _l("Refund requested"), "partly_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
}
bp.add_app_template_global(STATUS_LABELS, "ORDER_STATUS_LABELS")

from shop.orders import views  # noqa: E402,F401
