from flask import Blueprint

from shop.referrals import (COMMISSION_STATUS_LABELS, DISTRIBUTOR_STATUS_LABELS, ENTRY_LABELS,
                            WITHDRAWAL_METHOD_LABELS, WITHDRAWAL_STATUS_LABELS)
from shop.referrals import margin

bp = Blueprint("referrals", __name__)
admin_bp = Blueprint("referrals_admin", __name__, url_prefix="/admin/distribution")
for _name, _labels in (("DISTRIBUTOR_STATUS_LABELS", DISTRIBUTOR_STATUS_LABELS),
                       ("COMMISSION_STATUS_LABELS", COMMISSION_STATUS_LABELS),
                       ("WITHDRAWAL_STATUS_LABELS", WITHDRAWAL_STATUS_LABELS),
                       ("WITHDRAWAL_METHOD_LABELS", WITHDRAWAL_METHOD_LABELS),
                       ("COMMISSION_ENTRY_LABELS", ENTRY_LABELS)):
    bp.add_app_template_global(_labels, _name)
# The backoffice lists of channel prices mark loss leaders: one query per list (margin.py).
bp.add_app_template_global(margin.marked, "loss_leaders")

from shop.referrals import admin_views, views  # noqa: E402,F401  (routes)
