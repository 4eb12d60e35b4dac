"""Bargain (砍价): a shopper starts a bargain on a campaign's SKU and shares it; each
signed-in friend cuts the price once, by an amount drawn in advance so that the floor is
reached exactly at the last helper. The shopper buys at the current price at any time,
or at the floor once complete. The rules are in services.py and the README."""

from flask_babel import lazy_gettext as _l

BARGAIN_STATUS_LABELS = {"active": _l("Cutting"), "complete": _l("Floor price reached"),
                         "ordered": _l("Bought"), "expired": _l("Expired")}
