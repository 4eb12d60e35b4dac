"""Payments: card payments through Stripe (one gateway module), wallet payments, refunds,
and the Stripe webhook. A payment is for a purpose (an order, a wallet recharge); the
domain that owns the purpose registers it (services.purpose()) and may refuse the money
(PaymentRefused), which is then given back in full."""

from flask_babel import lazy_gettext as _l

PAYMENT_METHOD_LABELS = {"card": _l("Card"), "wallet": _l("Wallet")}
PAYMENT_STATUS_LABELS = {"pending": _l("Pending"), "succeeded": _l("Succeeded"),
                         "canceled": _l("Cancelled"), "rejected": _l("Refused and refunded")}
REFUND_STATUS_LABELS = {"pending": _l("Being refunded"), "succeeded": _l("Refunded"),
                        "failed": _l("Refund failed")}


class PaymentRefused(Exception):
    """Raised by a purpose's `succeeded` hook that cannot take the money (the order was
    cancelled meanwhile, the amount is not what is due...): the payment is refunded."""
