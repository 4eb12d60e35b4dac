"""Group buy (拼团): an admin sets up campaigns (a product's SKUs at a group price, the
group size, the time a group has to fill, a stock cap, limits); a shopper opens a group
by paying the group price, friends join through the share link and pay, and when the
last seat is paid every member's order is released for shipping. A group that does not
fill in time fails and every paid member is refunded the way they paid, once. The rules
are in services.py and the README."""

from flask_babel import lazy_gettext as _l

GROUP_STATUS_LABELS = {
    "pending": _l("Waiting for the leader's payment"), "open": _l("Open"),
    "complete": _l("Group complete"), "failed": _l("Group failed"),
    "cancelled": _l("Cancelled"),
}
MEMBER_STATUS_LABELS = {"held": _l("Seat held, awaiting payment"), "paid": _l("Paid"),
                        "released": _l("Seat released"), "refunded": _l("Refunded")}
from shop.orders import REASON_LABELS  # noqa: E402

REASON_LABELS.update({"group complete": _l("Group complete: ready to ship"),
                      "group completed by the shop": _l("Group completed by the shop: ready to ship"),
                      "group closed": _l("The group closed before this seat was paid"),
                      "group failed": _l("The group did not fill in time")})
