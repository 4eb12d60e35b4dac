"""The request side of tracking: what a page's beacon reports, and the receivers that
keep the order facts (placed, paid, refunded), add-to-carts and acquisitions.

Where a visit came from (its *landing*), read when the page is rendered:
- opened through a share link (the page carries ?shared=<token>): `referral`, with the
  sharer's code; `poster` when the link was the QR code of a poster (?src=qr);
- otherwise utm parameters (utm_source, utm_medium, utm_campaign): `utm`;
- otherwise, when the page was not reached from another page of the shop (no Referer
  from this host): `article` for an article page, `direct` for any other page;
- a page reached from another page of the shop is not a landing (no source).
Everything else about the visitor stays unknown: no address, no browser string.

The page does not post these values as they are: it posts them signed (with the app's
secret, for a day), so a beacon can only report what a page of the shop showed, not a
source, a sharer's code or a product of someone's choosing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from itsdangerous import BadData, URLSafeTimedSerializer

from shop.signals import user_registered
from shop.analytics import services
from shop.signals import item_added
from shop.orders import lifecycle
from shop.referrals import links
from shop.referrals.views import POSTER_SOURCE
from shop.web import viewer_id
from shop.web.auth import is_backoffice
from shop.web.visitor import visitor_id

# endpoint -> (kind of hit, the view argument that names what was viewed)
PAGES = {"catalog.product": ("product", "product_id"), "articles.page": ("article", "article_id")}
UTM_LENGTH = 64
BEACON_MAX_AGE = 86400  # a page left open for a day is counted when it loads, not later


def landing(args, referrer: str | None, host: str, kind: str) -> dict[str, str]:
    """The source fields of a page opened with these query args and Referer ({} when the
    page is not a landing)."""
    shared = links.parse(args.get("shared", ""))
    if shared is not None:
        return {"source": "poster" if args.get("src") == POSTER_SOURCE else "referral",
                "ref_code": shared[0]}
    if args.get("utm_source"):
        return {"source": "utm", **{key: args.get(key, "")[:UTM_LENGTH]
                                    for key in ("utm_source", "utm_medium", "utm_campaign")
                                    if args.get(key)}}
    if referrer and urlsplit(referrer).netloc == host:
        return {}
    return {"source": "article" if kind == "article" else "direct"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="page-beacon")


def beacon_values() -> dict | None:
    """What this page reports: the kind of page, what it shows and its landing."""
    if (request.method != "GET" or request.url_rule is None or request.headers.get("HX-Request")
            or is_backoffice(request.url_rule, current_app.view_functions.get(request.endpoint))):
        return None  # backoffice pages, fragments, anything but a GET
    kind, arg = PAGES.get(request.endpoint, ("page", None))
    values = {"kind": kind}
    if arg is not None:
        values["item"] = request.view_args[arg]
    values.update(landing(request.args, request.referrer, request.host, kind))
    return values


def beacon_token() -> str | None:
    """The signed values this page's beacon posts (None: the page is not tracked)."""
    values = beacon_values()
    return _serializer().dumps(values) if values is not None else None


def read_beacon(token: str) -> dict | None:
    """The values a beacon carries, or None when they are not ours or too old."""
    try:
        values = _serializer().loads(token, max_age=BEACON_MAX_AGE)
    except BadData:
        return None
    return values if isinstance(values, dict) else None



# --- the order's figures, a participant of its lifecycle (shop.orders.lifecycle), and the
# receivers of the signals in the transaction: each writes in the transaction of what it
# counts, so the figures never disagree with the money --------------------------------


def _visitor() -> str | None:
    return visitor_id() if has_request_context() else None


@item_added.connect
def _cart_added(sku, *, quantity: int, **extra) -> None:
    visitor = _visitor()
    if visitor is not None:
        services.record_hit(visitor, viewer_id(), "cart", item=sku.product_id)


def _placed(order, **_kwargs) -> None:
    services.order_placed(order, _visitor())


def _refunded(order, *, refunded_minor: int, **_kwargs) -> None:
    services.order_refunded(order, refunded_minor)


lifecycle.join("figures", placed=_placed, paid=lambda order, **_kwargs: services.order_paid(order),
               refunded=_refunded)


@user_registered.connect
def _registered(user, **extra) -> None:
    services.acquired(user, _visitor())
