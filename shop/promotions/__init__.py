"""Promotions (营销): coupons and the claim centre, full reductions (满减) and
buy-N-get-M (买N送M), limited-time prices (限时价) and flash sales (秒杀). What each
does, and how they stack, is in services.py and the README."""

from flask_babel import lazy_gettext as _l

SOURCE_LABELS = {"claim": _l("Claimed"), "newcomer": _l("Welcome gift"),
                 "grant": _l("From the shop")}
USER_COUPON_STATUS_LABELS = {"available": _l("Not used yet"), "used": _l("Used")}
SCOPE_LABELS = {"all": _l("Everything"), "categories": _l("Some categories"),
                "products": _l("Some products")}
