"""Payments: card payments through Stripe (one gateway module), wallet payments, refunds,
and the Stripe webhook. A payment is for a purpose (an order, a wallet recharge); the
domain that owns the purpose listens to `payment_succeeded` and may refuse the money
(PaymentRefused), which is then given back in full."""

from blinker import Namespace
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("payments", __name__)

PAYMENT_METHOD_LABELS = {"card": _l("Card"), "wallet": _l("Wallet")}
PAYMENT_STATUS_LABELS = {"pending": _l("Pending"), "succeeded": _l("Succeeded"),
                         "canceled": _l("Cancelled"), "rejected": _l("Refused and refunded")}
REFUND_STATUS_LABELS = {"pending": _l("Being refunded"), "succeeded": _l("Refunded"),
                        "failed": _l("Refund failed")}
for _name, _labels in (("PAYMENT_METHOD_LABELS", PAYMENT_METHOD_LABELS),
                       ("PAYMENT_STATUS_LABELS", PAYMENT_STATUS_LABELS),
                       ("REFUND_STATUS_LABELS", REFUND_STATUS_LABELS)):
    bp.add_app_template_global(_labels, _name)

_signals = Namespace()
# sender: the Payment, just moved from pending to succeeded, in the same transaction.
payment_succeeded = _signals.signal("payment-succeeded")
# sender: the Payment whose card refund Stripe refused for good; the amount is refundable again.
refund_failed = _signals.signal("refund-failed")


class PaymentRefused(Exception):
    """Raised by a payment_succeeded receiver that cannot take the money (the order was
    cancelled meanwhile, the amount is not what is due...): the payment is refunded."""


from shop.payments import views  # noqa: E402,F401
