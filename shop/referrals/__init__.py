"""Share links, referral codes and two-level distribution (分销).

Every user has a referral code; share links carry it. Opening one records the open and
may bind the visitor to the sharer (the admin's binding rule). Orders of a bound shopper
earn the referrer (level 1) and the referrer's referrer (level 2) a commission when
paid; it settles after the refund window, refunds reverse it in proportion, and settled
money can be withdrawn. The rules are written out in services.py and the README.
"""

from blinker import Namespace
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("referrals", __name__)
admin_bp = Blueprint("referrals_admin", __name__, url_prefix="/admin/distribution")

_signals = Namespace()
# sender: the id of the user whose share link was just opened, in the same transaction;
# kwargs: target, opener_id (the signed-in opener, or None). A task rewards sharing.
link_opened = _signals.signal("link-opened")

MODE_LABELS = {"everyone": _l("Everyone"), "approved": _l("Approved applicants"),
               "threshold": _l("Shoppers who have spent a set amount")}
BINDING_RULE_LABELS = {"first_visit": _l("The first link opened"),
                       "registration": _l("The link an account was registered through"),
                       "last_click": _l("The last link opened")}
DISTRIBUTOR_STATUS_LABELS = {"none": _l("Not applied"), "applied": _l("Applied"),
                             "approved": _l("Approved"), "rejected": _l("Rejected"),
                             "disabled": _l("Disabled")}
COMMISSION_STATUS_LABELS = {"pending": _l("To be settled"), "settled": _l("Settled")}
WITHDRAWAL_STATUS_LABELS = {"requested": _l("Requested"), "approved": _l("Approved, to transfer"),
                            "rejected": _l("Rejected"), "paid": _l("Paid")}
WITHDRAWAL_METHOD_LABELS = {"wallet": _l("Into my wallet"), "bank": _l("Bank transfer")}
ENTRY_LABELS = {"earned": _l("Commission earned"), "refund": _l("Refund: commission reversed"),
                "settled": _l("Settled"), "withdrawal": _l("Withdrawal"),
                "withdrawal_rejected": _l("Withdrawal rejected: returned")}
for _name, _labels in (("DISTRIBUTOR_STATUS_LABELS", DISTRIBUTOR_STATUS_LABELS),
                       ("COMMISSION_STATUS_LABELS", COMMISSION_STATUS_LABELS),
                       ("WITHDRAWAL_STATUS_LABELS", WITHDRAWAL_STATUS_LABELS),
                       ("WITHDRAWAL_METHOD_LABELS", WITHDRAWAL_METHOD_LABELS),
                       ("COMMISSION_ENTRY_LABELS", ENTRY_LABELS)):
    bp.add_app_template_global(_labels, _name)

from shop.referrals import admin_views, links, services, views  # noqa: E402,F401
