"""Shopper side of promotions: the coupon claim centre (htmx claim buttons), the
shopper's coupons, what the product page shows (a limited-time price, a flash sale, full
reductions), and the flash-sale pages with their purchase form."""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from shop.accounts import sheet
from shop.catalog.views import PRODUCT_OFFERS, WayToBuy
from shop.db import db, utcnow
from shop.extensions import htmx
from shop.orders import services as orders
from shop.promotions import services
from shop.promotions.blueprint import bp
from shop.promotions.forms import FlashBuyForm
from shop.promotions.models import Coupon, FlashItem
from shop.web import render, viewer_id



# --- coupons ----------------------------------------------------------------------------


def _centre_page(message: str | None = None, status: int = 200):
    coupons = services.claimable_coupons()
    claimed = services.claims_of(viewer_id(), [c.id for c in coupons]) if viewer_id() else {}
    return render("promotions/claim_centre.html", coupons=coupons, claimed=claimed,
                  message=message, status=status)


@bp.get("/coupons")
def claim_centre():
    return _centre_page()


@bp.post("/coupons/<int:coupon_id>/claim")
def claim(coupon_id: int):
    """Claim one: htmx swaps the coupon's card (claimed, or why not); without htmx the
    page comes back with a message. A visitor not signed in gets the sign-in (sheet or
    page) and comes back to the coupon, its Claim button one tap away."""
    coupon = db.session.get(Coupon, coupon_id) or abort(404)
    if not current_user.is_authenticated:
        return sheet.sign_in_first(url_for("promotions.claim_centre", _anchor=f"coupon-{coupon.id}"),
                                   "promotions.claim", _("Sign in to claim coupons"))
    message, status = None, 200
    try:
        services.claim(current_user.id, coupon.id)
    except services.PromotionError as exc:
        message, status = str(exc), 409
    if htmx:
        return render("promotions/claim_centre.html", block="card", coupon=coupon,
                      claimed=services.claims_of(current_user.id, [coupon.id]),
                      card_message=message, status=status)
    if message:
        return _centre_page(message, status)
    flash(_("Coupon claimed: it is in My coupons."))
    return redirect(url_for("promotions.claim_centre"), 303)


@bp.get("/me/coupons")
@login_required
def mine():
    return render("promotions/mine.html", held=services.coupons_of(current_user.id), now=utcnow())


# --- on the product page ----------------------------------------------------------------


def _product_offers(product_id: int) -> dict:
    """For the product page (catalog.views.PRODUCT_OFFERS, cached there for all visitors):
    its limited-time price, its flash sale (on or next) and the full reductions it counts
    toward, under the price; and the action bar's "grab it now" while the flash sale is
    on, at its price."""
    from shop.catalog.services import get_product_for_shoppers

    product = get_product_for_shoppers(product_id)
    if product is None:
        return {}
    now = utcnow()
    item = services.flash_for_product(product_id, now)
    way = None
    if item is not None and item.session.starts_at <= now:
        way = WayToBuy("flash", url_for("promotions.flash_page", item_id=item.id),
                       item.price_minor, item.currency, ((item.sku_id, item.price_minor),))
    html = render_template("promotions/_for_product.html", timed=services.timed_price_for(product, now),
                           flash_item=item, reductions=services.full_reductions_for(product, now), now=now)
    return {"way": way, "html": Markup(html)}


PRODUCT_OFFERS["flash"] = _product_offers


# --- flash sales ------------------------------------------------------------------------


@bp.get("/flash")
def flash_index():
    return render("promotions/flash_index.html", sessions=services.flash_sessions(), now=utcnow())


def _item_page(item: FlashItem, form: FlashBuyForm | None, status: int = 200,
               message: str | None = None):
    quote = (services.flash_quote(current_user.id, item, 1, form.province_code())
             if form is not None else None)
    return render("promotions/flash_item.html", item=item, form=form, now=utcnow(),
                  status=status, message=message, quote=quote)


def _buy_form(item: FlashItem, form: FlashBuyForm | None = None) -> FlashBuyForm:
    if form is None:
        form = FlashBuyForm(data={"token": uuid.uuid4().hex, "quantity": 1})
        form.fill_address(orders.default_address(current_user.id))
    form.quantity.choices = [(n, str(n)) for n in range(1, item.per_user_limit + 1)]
    return form


@bp.get("/flash/items/<int:item_id>")
def flash_page(item_id: int):
    item = services.flash_item(item_id) or abort(404)
    return _item_page(item, _buy_form(item) if viewer_id() else None)


@bp.post("/flash/items/<int:item_id>/buy")
@login_required
def flash_buy(item_id: int):
    item = services.flash_item(item_id) or abort(404)
    form = _buy_form(item, FlashBuyForm())
    if not form.validate_on_submit():
        return _item_page(item, form, 422)
    address = orders.destination(current_user.id, form)
    try:
        order = services.buy_flash(current_user.id, item.id, form.quantity.data, address,
                                   form.token.data)
    except services.PromotionError as exc:
        return _item_page(item, form, 409, str(exc))
    flash(_("Got it! Pay within %(n)d minutes to keep it.", n=_hold_minutes()))
    return redirect(url_for("orders.detail", order_id=order.id), 303)


def _hold_minutes() -> int:
    return current_app.config["FLASH_HOLD_MINUTES"]
