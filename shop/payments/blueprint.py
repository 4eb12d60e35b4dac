from flask import Blueprint

from shop.payments import PAYMENT_METHOD_LABELS, PAYMENT_STATUS_LABELS, REFUND_STATUS_LABELS

bp = Blueprint("payments", __name__)
for _name, _labels in (("PAYMENT_METHOD_LABELS", PAYMENT_METHOD_LABELS),
                       ("PAYMENT_STATUS_LABELS", PAYMENT_STATUS_LABELS),
                       ("REFUND_STATUS_LABELS", REFUND_STATUS_LABELS)):
    bp.add_app_template_global(_labels, _name)

from shop.payments import views  # noqa: E402,F401  (routes)
