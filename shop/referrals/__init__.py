"""Share links, referral codes and two-level distribution (分销).

Every user has a referral code; share links carry it. Opening one records the open and
may bind the visitor to the sharer (the admin's binding rule). Orders of a bound shopper
earn the referrer (level 1) and the referrer's referrer (level 2) a commission when
paid; it settles after the refund window, refunds reverse it in proportion, and settled
money can be withdrawn. The rules are written out in services.py and the README.
"""

from flask_babel import lazy_gettext as _l

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
