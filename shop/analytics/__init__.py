"""Business data (经营数据): first-party tracking, the dashboard, operations signals.

Tracking is first-party only: the visitor is the random id of shop.web.visitor (kept in
the session cookie), and each shopper page, once loaded, posts one small beacon that
writes one row (no third-party script, no GET that writes). The rules of what is counted
and how each figure is computed are in services.py and the README.
"""

from flask_babel import lazy_gettext as _l

SOURCE_LABELS = {"direct": _l("Direct"), "referral": _l("Share link"),
                 "poster": _l("Poster QR code"), "utm": _l("Campaign (utm)"),
                 "article": _l("Article")}
