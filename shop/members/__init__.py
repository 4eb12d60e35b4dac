"""Member levels (会员等级): growth earned from what shoppers pay, levels an admin sets
with thresholds and benefits (a discount in basis points, a points multiplier, free
shipping), moved automatically with every change of growth. Growth is a ledger like
the wallet's; the rules are written out in services.py."""

from flask_babel import lazy_gettext as _l

# How growth entries read; the kind of reference says what happened.
GROWTH_ENTRY_LABELS = {"order": _l("Order paid"), "order_refund": _l("Refund: growth taken back"),
                       "demo": _l("Welcome growth")}
