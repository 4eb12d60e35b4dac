"""Stored value (会员储值): a balance per shopper that is only ever changed together with
an append-only ledger row, and that never goes below zero."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("wallet", __name__)

# How system entries read in the history; manual adjustments show their own reason.
ENTRY_LABELS = {"payment": _l("Order payment"), "refund": _l("Refund"), "recharge": _l("Recharge"),
                "demo": _l("Welcome credit")}
bp.add_app_template_global(ENTRY_LABELS, "WALLET_ENTRY_LABELS")

from shop.wallet import views  # noqa: E402,F401
