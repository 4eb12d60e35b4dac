"""Shopper side of group buys: what the product page shows (campaigns, open groups), the
campaign page where a group is opened, the group page friends open from a share link,
its live progress, joining, and the shopper's own groups."""

from __future__ import annotations

import time
import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from shop.accounts import phone as phone_signin
from shop.accounts import sheet
from shop.catalog import services as catalog
from shop.catalog.views import PRODUCT_OFFERS, WayToBuy
from shop.db import db, utcnow
from shop.groups import discovery, services
from shop.groups.blueprint import bp
from shop.groups.forms import SeatForm
from shop.groups.models import Group, GroupCampaign
from shop.money import format_minor
from shop.orders import services as orders
from shop.referrals import links
from shop.web import cached_blocks, live_fragment, number_arg, render, viewer_id


def _seat_form(campaign: GroupCampaign, form: SeatForm | None = None) -> SeatForm:
    """The form to open or join with: the campaign's options, the default address."""
    if form is None:
        form = SeatForm(data={"token": uuid.uuid4().hex})
        form.fill_address(orders.default_address(current_user.id))
        if not form.phone.data and current_user.signin_phone:  # a new account by phone
            form.phone.data = phone_signin.as_dialled(current_user.signin_phone)
    form.sku_id.choices = [(cs.sku_id, " / ".join(campaign.product.tr_option(v)
                                                  for v in cs.sku.option_values) or _("Standard"))
                           for cs in campaign.skus if cs.sku.active]
    if form.sku_id.data is None and form.sku_id.choices:
        form.sku_id.data = form.sku_id.choices[0][0]
    return form


@bp.app_template_filter("ago")
def ago(at) -> str:
    """How long ago `at` was, in the reader's language ("3 分钟前", "3 minutes ago")."""
    return format_timedelta(at - utcnow(), add_direction=True)


@bp.get("/group-buys")
def index():
    """The running group buys (most joined first) and, on the first page, the groups a
    shopper can join now. The same for every visitor: rendered once per page, catalogue
    version and minute (seats and "x 人已拼" move within a minute; countdowns tick in the
    browser)."""
    page, per_page = number_arg("page", 1, most=1_000), current_app.config["PAGE_SIZE"]

    def load():
        pagination = discovery.running_campaigns(page, per_page)
        ids = [c.id for c in pagination.items]
        return {"pagination": pagination, "joined": discovery.joined_counts(ids),
                "groups": discovery.joinable_groups() if page == 1 else [],
                "recent": discovery.recent_joins(ids) if page == 1 else []}

    parts = cached_blocks(("group-list", page, per_page, catalog.catalog_generation(),
                           int(time.time() // 60)), "groups/_index.html", ["content"], load)
    return render("groups/index.html", parts=parts)


def _for_product(product_id: int) -> dict:
    """The product's group buys, the groups open to join and who bought it lately."""
    campaigns = services.campaigns_for_product(product_id)
    ids = [c.id for c in campaigns]
    return {"campaigns": campaigns, "groups": services.open_groups(ids),
            "joined": discovery.joined_counts(ids), "recent": discovery.recent_buyers(product_id)}


def _product_offers(product_id: int) -> dict:
    """For the product page (catalog.views.PRODUCT_OFFERS, cached there for all visitors):
    the group section under the price, and "start a group" for the action bar at the
    cheapest campaign's prices."""
    context = _for_product(product_id)
    offered = [c for c in context["campaigns"] if any(cs.sku.active for cs in c.skus)]
    way = None
    if offered:
        best = min(offered, key=lambda c: min(cs.price_minor for cs in c.skus))
        way = WayToBuy("group", url_for("groups.campaign", campaign_id=best.id),
                       min(cs.price_minor for cs in best.skus), best.currency,
                       tuple(sorted((cs.sku_id, cs.price_minor) for cs in best.skus)))
    return {"way": way, "html": Markup(render_template("groups/_for_product.html", **context))}


PRODUCT_OFFERS["groups"] = _product_offers


# --- the campaign page: open a group ------------------------------------------------------


def _campaign_page(campaign: GroupCampaign, form: SeatForm | None, status: int = 200,
                   message: str | None = None):
    return render("groups/campaign.html", campaign=campaign, form=form, status=status,
                  message=message, groups=services.open_groups([campaign.id]),
                  joined=discovery.joined_counts([campaign.id]).get(campaign.id, 0),
                  recent=discovery.recent_joins([campaign.id]))


@bp.get("/group-buys/<int:campaign_id>")
def campaign(campaign_id: int):
    campaign = services.campaign_on(campaign_id) or abort(404)
    return _campaign_page(campaign, _seat_form(campaign) if viewer_id() else None)


@bp.post("/group-buys/<int:campaign_id>/open")
@login_required
def open_group(campaign_id: int):
    campaign = services.campaign_on(campaign_id) or abort(404)
    form = _seat_form(campaign, SeatForm())
    if not form.validate_on_submit():
        return _campaign_page(campaign, form, 422)
    try:
        order = services.open_group(current_user.id, campaign.id, form.sku_id.data,
                                    orders.destination(current_user.id, form), form.token.data)
    except services.GroupError as exc:
        return _campaign_page(campaign, form, 409, str(exc))
    flash(_("Your group is ready: pay to open it, then share it with friends."))
    return _to_payment(order)


# --- the group page -----------------------------------------------------------------------


def _group_page(group: Group, form: SeatForm | None = None, status: int = 200,
                message: str | None = None):
    """The group page; to a shopper who may join, the form to join with (the option they
    chose before signing in already chosen: shop.accounts.sheet); to a visitor not signed
    in, the options and a Join button that opens the sign-in in place."""
    viewer = viewer_id()
    seat = services.seat_of(group, viewer)
    open_to_join = (seat is None and group.status == "open" and group.seats_left > 0
                    and group.expires_at > utcnow())
    guest_form = None
    if open_to_join and viewer is None:
        guest_form = _seat_form(group.campaign, SeatForm(formdata=None))
    elif open_to_join and form is None:
        form = _seat_form(group.campaign)
        chosen = (sheet.intended("groups.join", url_for("groups.page", group_id=group.id))
                  or {}).get("sku_id")
        if chosen in dict(form.sku_id.choices):
            form.sku_id.data = chosen
    return render("groups/page.html", group=group, seat=seat,
                  form=form if open_to_join and viewer else None, guest_form=guest_form,
                  status=status, message=message, recent=discovery.recent_joins([group.campaign_id]))


@bp.get("/groups/<int:group_id>")
def page(group_id: int):
    return _group_page(services.group_for(group_id, viewer_id()) or abort(404))


@bp.get("/groups/<int:group_id>/progress")
def progress(group_id: int):
    """The live part of the group page, polled by htmx: 304 while nothing changed (one
    small query), 286 once the group is settled."""
    version, status, expires_at = services.group_version(group_id) or abort(404)
    state = f"{version}-over" if status == "open" and expires_at <= utcnow() else str(version)

    def build() -> str:  # the same for every viewer of this state: rendered once
        return cached_blocks(("group-progress", group_id, state), "groups/page.html",
                             ["progress"], lambda: {"group": services.group_for(group_id, None),
                                                    "oob": True})["progress"]

    return live_fragment(f"g{group_id}-{state}", settled=status != "open", build=build)


@bp.post("/groups/<int:group_id>/join")
def join(group_id: int):
    """Join and hold a seat. A visitor not signed in gets the sign-in (sheet or page) and
    comes back to this group's join form with the option they picked."""
    if not current_user.is_authenticated:
        group = services.group_for(group_id, None) or abort(404)
        sku_id = request.form.get("sku_id", type=int)
        return sheet.sign_in_first(url_for("groups.page", group_id=group.id, _anchor="join"),
                                   "groups.join", _("Sign in to join"),
                                   **({"sku_id": sku_id} if sku_id and 0 < sku_id < 2**31 else {}))
    group = services.group_for(group_id, current_user.id) or abort(404)
    form = _seat_form(group.campaign, SeatForm())
    if not form.validate_on_submit():
        return _group_page(group, form, 422)
    try:
        order = services.join_group(current_user.id, group.id, form.sku_id.data,
                                    orders.destination(current_user.id, form), form.token.data)
    except LookupError:
        abort(404)
    except services.GroupError as exc:
        return _group_page(group, form, 409, str(exc))
    flash(_("Your seat is held: pay to take it."))
    return _to_payment(order)


def _to_payment(order):
    """On from "Start a group and pay" / "Join and pay": to the card form when the card is the
    only way to pay (its payment started here: orders.card_next), else the order page
    with its choices."""
    payment = orders.card_next(order, current_user.id)
    if payment is not None:
        return redirect(url_for("payments.card", payment_id=payment.id), 303)
    return redirect(url_for("orders.detail", order_id=order.id), 303)


@bp.get("/me/groups")
@login_required
def mine():
    return render("groups/mine.html", seats=services.groups_of(current_user.id))


# --- share links and posters ----------------------------------------------------------------


def _group_titles(ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(select(Group.id, GroupCampaign).join(
        GroupCampaign, GroupCampaign.id == Group.campaign_id).where(Group.id.in_(ids))).all()
    return {group_id: _("Group buy: %(title)s", title=campaign.product.tr("title"))
            for group_id, campaign in rows}


def _group_poster(group_id: int):
    """The poster of an open group: the product picture, its title with the group size,
    and the group price."""
    from shop.media.services import path_for

    group = services.group_for(group_id, None)
    if group is None or group.status != "open":
        return None
    campaign, product = group.campaign, group.campaign.product
    cover = product.cover
    image = path_for(cover.key, max(int(w) for w in cover.widths.split(","))) if cover else None
    price = min(cs.price_minor for cs in campaign.skus)
    title = _("%(n)d-person group: %(title)s", n=group.size, title=product.tr("title"))
    return image, title, format_minor(price, campaign.currency)


links.register_target("g", "groups.page", "group_id", _group_titles)
links.register_poster("g", _group_poster)
