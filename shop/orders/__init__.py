"""Orders: addresses, the price pipeline, checkout, the order state machine."""

from blinker import Namespace
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("orders", __name__)

_signals = Namespace()
# sender: the Order just placed, before its transaction commits; kwargs: lines, its new
# OrderLine rows, which receivers may annotate (the source article), and pricing, the
# Pricing it was placed at (a step that spends points takes them here, or refuses the
# order with an OrderError).
order_placed = _signals.signal("order-placed")
# sender: the Order just cancelled unpaid, in the same transaction (give back what its
# placing took: points, a points-mall quota...).
order_cancelled = _signals.signal("order-cancelled")
# sender: the Order just moved to paid, in the same transaction (commissions, points,
# group seats...). A receiver may refuse the payment with an OrderError (the group it
# joins has closed): the payment is then undone, and a card payment refunded.
order_paid = _signals.signal("order-paid")
# sender: the Order just refunded in part or in full, in the same transaction; kwargs:
# refunded_minor and paid_minor (all refunded so far, all paid), key (this refund's),
# restock (whether its goods went back in stock).
order_refunded = _signals.signal("order-refunded")

STATUS_LABELS = {
    "awaiting_payment": _l("Awaiting payment"), "paid": _l("Paid"), "shipped": _l("Shipped"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
    "refund_requested": _l("Refund requested"), "partly_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
}
bp.add_app_template_global(STATUS_LABELS, "ORDER_STATUS_LABELS")
# Why a paid order is not shipped yet (Order.hold).
HOLD_LABELS = {"group": _l("waiting for its group buy to fill")}
bp.add_app_template_global(HOLD_LABELS, "ORDER_HOLD_LABELS")
# Reasons the shop itself writes on order events and refunds, shown in the reader's
# language; reasons people typed are shown as typed (REASON_LABELS.get(reason, reason)).
REASON_LABELS = {
    "placed": _l("Placed"), "wallet": _l("Paid from the wallet"),
    "nothing to pay": _l("Nothing to pay: covered by points"),
    "order cancelled": _l("Order cancelled"), "cancelled by staff": _l("Cancelled by staff"),
    "expired": _l("Not paid in time"), "a card refund failed": _l("A card refund failed"),
    "received": _l("Received, as the customer confirmed"),
    "auto-completed": _l("Completed automatically some days after shipping"),
    "picked up": _l("Picked up at the store"),  # shop.stores.PICKUP_REASON
}
bp.add_app_template_global(REASON_LABELS, "ORDER_REASON_LABELS")

from shop.orders import views  # noqa: E402,F401
