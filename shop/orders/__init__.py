"""Orders: addresses, checkout, one placement path for every channel, the order state
machine, payments of orders and refunds. The price comes from shop.pricing; work other
domains do in an order's transaction runs as participants in the declared lock order
(lifecycle.py)."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "awaiting_payment": _l("Awaiting payment"), "paid": _l("Paid"), "shipped": _l("Shipped"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
    "refund_requested": _l("Refund requested"), "partly_refunded": _l("Partly refunded"),
    "refunded": _l("Refunded"),
}
# Why a paid order is not shipped yet (Order.hold).
HOLD_LABELS = {"group": _l("waiting for its group buy to fill")}
# Reasons the shop itself writes on order events and refunds, shown in the reader's
# language; reasons people typed are shown as typed (REASON_LABELS.get(reason, reason)).
REASON_LABELS = {
    "placed": _l("Placed"), "wallet": _l("Paid from the wallet"),
    "nothing to pay": _l("Nothing to pay: covered by points"),
    "order cancelled": _l("Order cancelled"), "cancelled by staff": _l("Cancelled by staff"),
    "cancelled by shopper": _l("Cancelled by the customer"),  # services.CANCELLED_BY_SHOPPER
    "expired": _l("Not paid in time"), "a card refund failed": _l("A card refund failed"),
    "received": _l("Received, as the customer confirmed"),
    "auto-completed": _l("Completed automatically some days after shipping"),
    "picked up": _l("Picked up at the store"),  # shop.stores.PICKUP_REASON
}
# The backoffice list's tabs (shop.orders.services.tab_conditions), in the order shown;
# "all" first. Linked as /admin/orders?status=<key>.
TAB_LABELS = {
    "all": _l("All"), "unpaid": _l("Unpaid"), "held": _l("Waiting for the group"),
    "to_ship": _l("Paid, to ship"),
    "shipped": _l("Shipped"), "awaiting_pickup": _l("Awaiting pickup"),
    "completed": _l("Completed"), "refund_requested": _l("Refund requested"),
    "refunded": _l("Refunded"), "cancelled": _l("Cancelled"),
}
