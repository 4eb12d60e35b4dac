"""Shopper side: the campaigns on now, a campaign's page with "start a bargain", the
bargain page friends open from a shared link (cut once; the owner buys), its live
progress fragment, the line on the product page, and the share link and poster of a
bargain ("b<id>")."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from shop.accounts import sheet
from shop.bargains import services
from shop.bargains.blueprint import bp
from shop.bargains.forms import BuyForm
from shop.catalog.views import PRODUCT_OFFERS, WayToBuy
from shop.db import utcnow
from shop.extensions import htmx
from shop.media.services import path_for
from shop.money import format_minor
from shop.orders import services as orders
from shop.referrals import links
from shop.web import (cached_blocks, live_fragment, redirect_to, render, render_error,
                       viewer_id)


@bp.get("/bargains")
def index():
    user_id = viewer_id()
    return render("bargains/index.html", campaigns=services.running_campaigns(),
                  mine=services.bargains_of(user_id) if user_id else [],
                  state_of=services.state_of)


def _campaign_page(campaign, status: int = 200, message: str | None = None):
    user_id = viewer_id()
    return render("bargains/campaign.html", campaign=campaign,
                  running=services.is_running(campaign),
                  live=services.live_bargain_of(user_id, campaign.id) if user_id else None,
                  status=status, message=message)


@bp.get("/bargains/campaign/<int:campaign_id>")
def campaign(campaign_id: int):
    return _campaign_page(services.campaign_for_shoppers(campaign_id) or abort(404))


@bp.post("/bargains/campaign/<int:campaign_id>/start")
@login_required
def start(campaign_id: int):
    try:
        bargain = services.start(current_user.id, campaign_id)
    except LookupError:
        abort(404)
    except services.BargainError as exc:
        return _campaign_page(services.campaign_for_shoppers(campaign_id) or abort(404), 409, str(exc))
    return redirect_to(url_for("bargains.page", bargain_id=bargain.id))


def _shown(bargain) -> dict:
    """What every visitor sees of a bargain (the polled fragment: nothing per visitor)."""
    return {"b": bargain, "state": services.state_of(bargain)}


def _context(bargain, **extra) -> dict:
    """The bargain as shown, and what this visitor may do: the owner buys, a friend
    cuts once (their cut, if any)."""
    user_id = viewer_id()
    cut_by_me = next((c for c in bargain.cuts if c.helper_id == user_id), None) if user_id else None
    return dict(_shown(bargain), cut_by_me=cut_by_me, is_owner=user_id == bargain.user_id, **extra)


def _page(bargain, *, status: int = 200, form: BuyForm | None = None, message: str | None = None):
    """The bargain page; for its owner, the buy form (a fresh one unless given)."""
    context = _context(bargain, message=message)
    if context["is_owner"] and form is None and context["state"] in services.LIVE_STATUSES:
        form = BuyForm(data={"token": uuid.uuid4().hex})
        form.fill_address(orders.default_address(bargain.user_id))
    return render("bargains/page.html", status=status, form=form,
                  owner=services.owner_of(bargain), **context)


@bp.get("/bargains/<int:bargain_id>")
def page(bargain_id: int):
    return _page(services.bargain_page(bargain_id) or abort(404))


def _progress(bargain, *, status: int = 200, message: str | None = None):
    """After a cut by htmx: the progress fragment with the result and the visitor's
    actions out of band (their cut, thanked once, announced: actions_box); without htmx,
    the whole page."""
    if not htmx:
        return _page(bargain, status=status, message=message)
    return render("bargains/_progress.html", status=status, after_cut=True,
                  **_context(bargain, message=message))


@bp.post("/bargains/<int:bargain_id>/cut")
def cut(bargain_id: int):
    """A friend's cut. A visitor not signed in gets the sign-in (sheet or page) and comes
    back to this bargain, its Help button one tap away."""
    if not current_user.is_authenticated:
        if services.bargain_page(bargain_id) is None:
            return render_error(None, 404)
        return sheet.sign_in_first(url_for("bargains.page", bargain_id=bargain_id, _anchor="bargain-help"),
                                   "bargains.cut", _("Sign in to help cut the price"))
    try:
        services.cut(bargain_id, current_user.id)
    except LookupError:
        return render_error(None, 404)
    except services.BargainError as exc:
        return _progress(services.bargain_page(bargain_id), status=409, message=str(exc))
    if htmx:
        return _progress(services.bargain_page(bargain_id))
    return redirect(url_for("bargains.page", bargain_id=bargain_id), 303)


@bp.get("/bargains/<int:bargain_id>/progress")
def progress(bargain_id: int):
    """Polled every few seconds while the bargain is active: 304 while its version is the
    one the browser holds (read in one small query, nothing rendered), the fragment when
    it changed, 286 once settled (htmx stops polling)."""
    version, status, expires_at, owner_id = services.progress_state(bargain_id) or abort(404)
    over = status in services.LIVE_STATUSES and expires_at <= utcnow()
    for_owner = viewer_id() == owner_id  # the owner's copy also relabels the buy button
    tag = f"b{bargain_id}-{version}" + ("-over" if over else "") + ("-owner" if for_owner else "")

    def build() -> str:  # one copy for the owner, one for everyone else: each rendered once
        return cached_blocks(("bargain-progress", tag), "bargains/_progress.html", ["progress"],
                             lambda: dict(_shown(services.bargain_page(bargain_id)),
                                          for_owner=for_owner))["progress"]

    return live_fragment(tag, settled=status != "active" or over, build=build)


@bp.post("/bargains/<int:bargain_id>/buy")
@login_required
def buy(bargain_id: int):
    bargain = services.bargain_page(bargain_id)
    if bargain is None or bargain.user_id != current_user.id:
        abort(404)
    form = BuyForm()
    if not form.validate_on_submit():
        return _page(bargain, status=422, form=form)
    address = orders.destination(current_user.id, form)
    try:
        order = services.buy(bargain, current_user.id, address, form.token.data)
    except services.BargainError as exc:
        return _page(bargain, status=409, form=form, message=str(exc))
    flash(_("Ordered at %(price)s. Pay to complete it.", price=format_minor(order.total_minor, order.currency)))
    return redirect_to(url_for("orders.detail", order_id=order.id))


def _product_offers(product_id: int) -> dict:
    """For the product page (catalog.views.PRODUCT_OFFERS, cached there for all visitors):
    the campaign on now with the lowest floor, as a section and as the action bar's
    "bargain" at that floor; nothing without one."""
    campaigns = services.campaigns_for_product(product_id)
    if not campaigns:
        return {}
    best = campaigns[0]
    return {"way": WayToBuy("bargain", url_for("bargains.campaign", campaign_id=best.id),
                            best.floor_price_minor, best.currency),
            "html": Markup(render_template("bargains/_for_product.html", campaign=best))}


PRODUCT_OFFERS["bargains"] = _product_offers


# --- share links and posters ------------------------------------------------------------


def _poster(bargain_id: int):
    """A bargain's poster: the product's picture and title, and the price now."""
    bargain = services.bargain_page(bargain_id)
    if bargain is None:
        return None
    product = bargain.campaign.product
    cover = product.cover
    image = path_for(cover.key, max(int(w) for w in cover.widths.split(","))) if cover else None
    price = _("Now %(price)s, down to %(floor)s with friends' help",
              price=format_minor(bargain.price_minor, bargain.currency),
              floor=format_minor(bargain.floor_price_minor, bargain.currency))
    return image, product.tr("title"), price


links.register_target("b", "bargains.page", "bargain_id", services.titles)
links.register_poster("b", _poster)
