"""Backoffice of promotions: an overview; coupons (and granting them to customers); full
reductions and buy-N-get-M offers; limited-time prices; flash sessions with their items
and flash stock. Each list shows what the promotion has done (claims, uses, paid orders,
discount given, what those orders came to). Admins only, every route. The rules are in
backoffice.py and services.py; a refused change (409) or a form error (422) leaves
nothing changed."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.db import db, utcnow
from shop.promotions.blueprint import admin_bp as bp
from shop.promotions import backoffice, services
from shop.promotions.forms import (BuyGetForm, CouponForm, FlashItemChangeForm, FlashItemForm,
                                   FlashSessionForm, FullReductionForm, GrantForm, TimedPriceForm)
from shop.promotions.models import Coupon, FlashItem, FlashSession, Promotion, TimedPrice
from shop.promotions.services import PromotionError
from shop.referrals.margin import BelowFloor
from shop.web import number_arg, redirect_to, render, roles_required
from shop.web.forms import stored

PROMOTION_FORMS = {"full_reduction": FullReductionForm, "buy_get": BuyGetForm}


def _currency() -> str:
    return current_app.config["SHOP_CURRENCY"]


def _window() -> dict:
    """A new offer's times until the admin types others: from now, for a week."""
    now = utcnow().replace(second=0, microsecond=0)
    return {"starts_at": now, "ends_at": now + timedelta(days=7)}


def _page() -> int:
    return number_arg("page", 1, most=10_000)


def _refused(form, exc: PromotionError | BelowFloor) -> tuple[str | None, int]:
    """A refusal of the rules: on its field (422) when it names one, else a message (409)."""
    field = getattr(exc, "field", None)
    if field is not None and field in form:
        form[field].errors = list(form[field].errors) + [str(exc)]
        return None, 422
    if field is not None:
        form.form_errors.append(str(exc))
        return None, 422
    return str(exc), 409


@bp.context_processor
def _clock() -> dict:
    """The time the lists tell running, ended and not-started offers apart by."""
    return {"now": utcnow()}


@bp.get("/")
@roles_required("admin")
def overview():
    return render("admin/promotions/overview.html",
                  coupons=backoffice.coupons_listing(per_page=5),
                  promotions=backoffice.promotions_listing(per_page=5),
                  timed=backoffice.timed_prices_listing(per_page=5),
                  flash=backoffice.flash_sessions_listing(per_page=5))


# --- coupons ------------------------------------------------------------------------------


@bp.get("/coupons")
@roles_required("admin")
def coupons():
    return render("admin/promotions/coupons.html", listing=backoffice.coupons_listing(_page()))


def _coupon_page(coupon: Coupon | None, form: CouponForm, *, status: int, message=None,
                 grant_form: GrantForm | None = None):
    figures = backoffice.coupon_figures([coupon.id])[coupon.id] if coupon else None
    return render("admin/promotions/coupon_form.html", coupon=coupon, form=form,
                  figures=figures, grant_form=grant_form or stored(GrantForm),
                  message=message, status=status)


def _save_coupon(coupon: Coupon | None):
    if request.method == "GET":
        form = CouponForm.of(coupon) if coupon else CouponForm(data={"valid_from": _window()["starts_at"]})
        return _coupon_page(coupon, form, status=200)
    form, message, status = CouponForm(), None, 422
    if form.validate_on_submit():
        try:
            saved = backoffice.save_coupon(coupon, values=form.values(),
                                           total_quantity=form.total_quantity.data,
                                           currency=_currency(), actor_id=current_user.id)
        except PromotionError as exc:
            message, status = _refused(form, exc)
        else:
            flash(_("Coupon saved."))
            return redirect_to(url_for("promotions_admin.edit_coupon", coupon_id=saved.id))
    return _coupon_page(coupon, form, status=status, message=message)


@bp.route("/coupons/new", methods=["GET", "POST"])
@roles_required("admin")
def new_coupon():
    return _save_coupon(None)


@bp.route("/coupons/<int:coupon_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_coupon(coupon_id: int):
    return _save_coupon(db.session.get(Coupon, coupon_id) or abort(404))


@bp.post("/coupons/<int:coupon_id>/grant")
@roles_required("admin")
def grant_coupon(coupon_id: int):
    """Give the coupon to the customers chosen with the picker: all of them, or (an
    unknown customer, too few left) none."""
    coupon = db.session.get(Coupon, coupon_id) or abort(404)
    form, message, status = GrantForm(), None, 422
    if form.validate_on_submit():
        try:
            given = services.grant(coupon.id, form.customers.ids, actor_id=current_user.id)
        except PromotionError as exc:
            message, status = str(exc), 409
        else:
            flash(_("Coupon given to %(n)d customers.", n=given))
            return redirect_to(url_for("promotions_admin.edit_coupon", coupon_id=coupon.id))
    return _coupon_page(coupon, CouponForm.of(coupon), grant_form=form, status=status,
                        message=message)


# --- full reductions and buy N get M ------------------------------------------------------


@bp.get("/promotions")
@roles_required("admin")
def promotions():
    return render("admin/promotions/promotions.html",
                  listing=backoffice.promotions_listing(_page()))


def _save_promotion(promotion: Promotion | None, kind: str):
    form_class = PROMOTION_FORMS[kind]
    message, status = None, 200
    if request.method == "GET":
        form = form_class.of(promotion) if promotion else form_class(data=_window())
    else:
        form, status = form_class(), 422
        if form.validate_on_submit():
            try:
                saved = backoffice.save_promotion(
                    promotion, kind=kind, values=form.values(),
                    tiers=getattr(form, "tier_values", None), currency=_currency())
            except PromotionError as exc:
                message, status = _refused(form, exc)
            else:
                flash(_("Promotion saved."))
                return redirect_to(url_for("promotions_admin.edit_promotion",
                                           promotion_id=saved.id))
    figures = (backoffice.offer_figures((kind,), [promotion.id])[promotion.id]
               if promotion else None)
    return render("admin/promotions/promotion_form.html", form=form, kind=kind,
                  promotion=promotion, figures=figures, message=message, status=status)


@bp.route("/promotions/new", methods=["GET", "POST"])
@roles_required("admin")
def new_promotion():
    kind = request.args.get("kind", "full_reduction")
    if kind not in PROMOTION_FORMS:
        abort(404)
    return _save_promotion(None, kind)


@bp.route("/promotions/<int:promotion_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_promotion(promotion_id: int):
    promotion = db.session.get(Promotion, promotion_id) or abort(404)
    return _save_promotion(promotion, promotion.kind)


# --- limited-time prices ------------------------------------------------------------------


@bp.get("/timed-prices")
@roles_required("admin")
def timed_prices():
    return render("admin/promotions/timed_prices.html",
                  listing=backoffice.timed_prices_listing(_page()))


def _save_timed_price(timed: TimedPrice | None):
    message, status = None, 200
    if request.method == "GET":
        form = TimedPriceForm.of(timed) if timed else TimedPriceForm(data=_window())
    else:
        form, status = TimedPriceForm(), 422
        if form.validate_on_submit():
            try:
                saved = backoffice.save_timed_price(timed, values=form.values(),
                                                    actor_id=current_user.id,
                                                    loss_leader=form.loss_leader.data)
            except (PromotionError, BelowFloor) as exc:
                message, status = _refused(form, exc)
            else:
                flash(_("Limited-time price saved."))
                return redirect_to(url_for("promotions_admin.edit_timed_price", timed_id=saved.id))
    figures = (backoffice.offer_figures(("timed_price",), [timed.id])[timed.id]
               if timed else None)
    return render("admin/promotions/timed_price_form.html", form=form, timed=timed,
                  figures=figures, message=message, status=status)


@bp.route("/timed-prices/new", methods=["GET", "POST"])
@roles_required("admin")
def new_timed_price():
    return _save_timed_price(None)


@bp.route("/timed-prices/<int:timed_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_timed_price(timed_id: int):
    return _save_timed_price(db.session.get(TimedPrice, timed_id) or abort(404))


# --- flash sales ----------------------------------------------------------------------------


@bp.get("/flash")
@roles_required("admin")
def flash_sessions():
    return render("admin/promotions/flash_sessions.html",
                  listing=backoffice.flash_sessions_listing(_page()))


def _session_page(session: FlashSession | None, form: FlashSessionForm, *, status: int = 200,
                  message: str | None = None, item_form: FlashItemForm | None = None,
                  changed: FlashItemChangeForm | None = None, changed_id: int | None = None):
    """The session's form and, once it exists, its items with a form each and the form
    to add one; the form that was posted keeps what was typed and its errors."""
    rows = []
    if session is not None:
        for item, figures in backoffice.flash_items(session.id):
            item_change = changed if item.id == changed_id else FlashItemChangeForm.of(item)
            rows.append((item, figures, item_change))
    return render("admin/promotions/flash_session.html", session=session, form=form, rows=rows,
                  item_form=item_form or stored(FlashItemForm), message=message,
                  status=status)


def _save_session(session: FlashSession | None):
    if request.method == "GET":
        form = FlashSessionForm.of(session) if session else FlashSessionForm(data=_window())
        return _session_page(session, form)
    form, message, status = FlashSessionForm(), None, 422
    if form.validate_on_submit():
        try:
            saved = backoffice.save_flash_session(session, values=form.values())
        except PromotionError as exc:
            message, status = _refused(form, exc)
        else:
            flash(_("Flash session saved."))
            return redirect_to(url_for("promotions_admin.edit_flash_session", session_id=saved.id))
    return _session_page(session, form, status=status, message=message)


@bp.route("/flash/new", methods=["GET", "POST"])
@roles_required("admin")
def new_flash_session():
    return _save_session(None)


@bp.route("/flash/<int:session_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_flash_session(session_id: int):
    return _save_session(db.session.get(FlashSession, session_id) or abort(404))


@bp.post("/flash/<int:session_id>/items")
@roles_required("admin")
def add_flash_item(session_id: int):
    session = db.session.get(FlashSession, session_id) or abort(404)
    form, message, status = FlashItemForm(), None, 422
    if form.validate_on_submit():
        try:
            backoffice.add_flash_item(session, sku_id=form.sku_id.data, price_minor=form.price.data,
                                      allotted=form.allotted.data,
                                      per_user_limit=form.per_user_limit.data,
                                      currency=_currency(), actor_id=current_user.id,
                                      loss_leader=form.loss_leader.data)
        except (PromotionError, BelowFloor) as exc:
            message, status = _refused(form, exc)
        else:
            flash(_("Item added; its flash stock is set aside."))
            return redirect_to(url_for("promotions_admin.edit_flash_session", session_id=session.id))
    return _session_page(session, FlashSessionForm.of(session), item_form=form, status=status,
                         message=message)


@bp.post("/flash/items/<int:item_id>")
@roles_required("admin")
def change_flash_item(item_id: int):
    item = db.session.get(FlashItem, item_id) or abort(404)
    session = item.session
    form, message, status = FlashItemChangeForm(prefix=f"item{item.id}"), None, 422
    if form.validate_on_submit():
        try:
            backoffice.change_flash_item(item, price_minor=form.price.data,
                                         per_user_limit=form.per_user_limit.data,
                                         allotted=form.allotted.data, actor_id=current_user.id,
                                         loss_leader=form.loss_leader.data)
        except (PromotionError, BelowFloor) as exc:
            message, status = _refused(form, exc)
        else:
            flash(_("Item saved."))
            return redirect_to(url_for("promotions_admin.edit_flash_session", session_id=session.id))
    return _session_page(session, FlashSessionForm.of(session), changed=form, changed_id=item.id,
                         status=status, message=message)
