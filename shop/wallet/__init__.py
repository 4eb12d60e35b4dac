"""Stored value (会员储值): a balance per shopper that is only ever changed together with
an append-only ledger row, and that never goes below zero."""

from flask_babel import lazy_gettext as _l

# How system entries read in the history; manual adjustments show their own reason.
ENTRY_LABELS = {"payment": _l("Order payment"), "refund": _l("Refund"), "recharge": _l("Recharge"),
                "demo": _l("Welcome credit"), "withdrawal": _l("Commission withdrawal")}
