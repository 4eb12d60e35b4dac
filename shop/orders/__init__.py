"""Orders: addresses, the price pipeline, checkout, the order state machine."""

from blinker import Namespace
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("orders", __name__)

_signals = Namespace()
# sender: the Order just placed, before its transaction commits; kwargs: lines, its new
# OrderLine rows, which receivers may annotate (the source article).
order_placed = _signals.signal("order-placed")

STATUS_LABELS = {
    "awaiting_payment": _l("Awaiting payment"), "paid": _l("Paid"), "shipped": _l("Shipped"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
    "refund_requested": _l("Refund requested"), "partly_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
}
bp.add_app_template_global(STATUS_LABELS, "ORDER_STATUS_LABELS")

from shop.orders import views  # noqa: E402,F401
