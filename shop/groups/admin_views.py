"""Backoffice of group buys: campaigns with their figures, creating and changing them
(SKU group prices, size, time limit, dates, limits, stock cap, options), and each
campaign's groups. Admins only, fragments included."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.catalog.models import Product
from shop.db import db, utcnow
from shop.groups.blueprint import admin_bp as bp
from shop.groups import services
from shop.groups.forms import CampaignForm, ProductChoiceForm
from shop.groups.models import GroupCampaign
from shop.referrals.margin import BelowFloor
from shop.web import number_arg, render, roles_required
from shop.web.forms import stored


@bp.get("/")
@roles_required("admin")
def campaigns():
    return render("admin/groups/campaigns.html", rows=services.campaigns_with_figures(),
                  choice=stored(ProductChoiceForm))


def _form(product: Product, campaign: GroupCampaign | None) -> CampaignForm:
    """The form; on GET filled from the campaign (or sensible defaults), one SKU row per
    active SKU of the product in either case."""
    if request.method == "POST":
        form = CampaignForm()
    else:
        now = utcnow().replace(second=0, microsecond=0)
        data = {"group_size": 2, "hours": 24, "starts_at": now, "ends_at": now + timedelta(days=30),
                "stock_cap": 100, "active": True}
        if campaign is not None:
            data = {"group_size": campaign.group_size, "hours": campaign.hours,
                    "starts_at": campaign.starts_at, "ends_at": campaign.ends_at,
                    "stock_cap": campaign.stock_cap, "per_user_limit": campaign.per_user_limit,
                    "new_customers_only": campaign.new_customers_only,
                    "auto_complete_percent": campaign.auto_complete_bp // 100
                    if campaign.auto_complete_bp else None, "active": campaign.active}
        prices = {cs.sku_id: cs for cs in campaign.skus} if campaign else {}
        data["skus"] = [{"sku_id": sku.id,
                         "price": prices[sku.id].price_minor if sku.id in prices else None,
                         "leader_price": prices[sku.id].leader_price_minor if sku.id in prices else None}
                        for sku in product.skus if sku.active]
        form = CampaignForm(data=data)
    rows = {int(row.sku_id.data or 0) for row in form.skus}
    if rows != {sku.id for sku in product.skus if sku.active}:
        form.skus.errors = [_("The product's options changed; reload the page.")]
    return form


def _save(product: Product, campaign: GroupCampaign | None):
    form = _form(product, campaign)
    changed = form.skus.errors  # validate() starts the list's errors afresh: keep this one
    if request.method == "POST" and form.validate_on_submit() and not changed:
        try:
            saved = services.save_campaign(campaign, product=product, prices=form.prices(),
                                           values=form.values(), actor_id=current_user.id,
                                           loss_leader=form.loss_leader.data)
        except services.GroupError as exc:
            return render("admin/groups/form.html", form=form, product=product,
                          campaign=campaign, message=str(exc), status=409)
        except BelowFloor as exc:  # on the SKU's row: its leader's price when it has one
            form.below_floor(exc.sku_id, str(exc))
            return render("admin/groups/form.html", form=form, product=product,
                          campaign=campaign, status=422)
        flash(_("Group buy saved."))
        return redirect(url_for("groups_admin.edit", campaign_id=saved.id), 303)
    if changed:
        form.skus.errors = changed
    return render("admin/groups/form.html", form=form, product=product, campaign=campaign,
                  status=422 if request.method == "POST" else 200)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    if request.method == "GET" and not ({"product_id", "q_product_id"} & set(request.args)):
        # opened without a product (a link, the address bar): nothing was asked yet, so no
        # error: the list, with the picker to choose the product
        return render("admin/groups/campaigns.html", rows=services.campaigns_with_figures(),
                      choice=stored(ProductChoiceForm), choose_product=True)
    choice = ProductChoiceForm(formdata=request.args)  # the product stays in the URL on POST
    product = choice.product_id.chosen if choice.validate() else None
    if product is None or product.archived_at is not None:
        if product is not None:
            choice.product_id.errors.append(_("That product is archived; choose another."))
        return render("admin/groups/campaigns.html", rows=services.campaigns_with_figures(),
                      choice=choice, status=422)
    return _save(product, None)


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(campaign_id: int):
    campaign = db.session.get(GroupCampaign, campaign_id) or abort(404)
    return _save(campaign.product, campaign)


@bp.get("/<int:campaign_id>/groups")
@roles_required("admin")
def groups(campaign_id: int):
    campaign = db.session.get(GroupCampaign, campaign_id) or abort(404)
    return render("admin/groups/groups.html", campaign=campaign,
                  pagination=services.campaign_groups(campaign.id,
                                                      page=number_arg("page", 1, most=10_000)))
