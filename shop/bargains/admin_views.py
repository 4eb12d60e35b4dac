"""Backoffice of bargains: the campaigns with their figures (started, reached the floor,
bought, paid), and a campaign's form. Admins only, on every route."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.bargains.blueprint import admin_bp as bp
from shop.bargains import services
from shop.bargains.forms import CampaignForm
from shop.bargains.models import BargainCampaign
from shop.db import db, utcnow
from shop.referrals.margin import BelowFloor
from shop.web import render, roles_required


@bp.get("/")
@roles_required("admin")
def campaigns():
    return render("admin/bargains/campaigns.html", rows=services.admin_campaigns())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new_campaign():
    return _edit(None)


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_campaign(campaign_id: int):
    return _edit(db.session.get(BargainCampaign, campaign_id) or abort(404))


def _initial(campaign: BargainCampaign | None) -> dict:
    """The form's values: the campaign's, or for a new one, starting now for a week."""
    if campaign is None:
        now = utcnow()
        return {"helpers_needed": 5, "hours": 24, "active": True,
                "starts_at": now, "ends_at": now + timedelta(days=7)}
    return {"sku_id": campaign.sku_id, "start_price_minor": campaign.start_price_minor,
            "floor_price_minor": campaign.floor_price_minor,
            "helpers_needed": campaign.helpers_needed, "hours": campaign.hours,
            "starts_at": campaign.starts_at, "ends_at": campaign.ends_at, "active": campaign.active}


def _edit(campaign: BargainCampaign | None):
    form = CampaignForm(data=_initial(campaign)) if request.method == "GET" else CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = services.save_campaign(campaign, **form.values(), actor_id=current_user.id,
                                              loss_leader=form.loss_leader.data)
        except services.BargainError as exc:
            form.sku_id.errors.append(str(exc))
        except BelowFloor as exc:
            form.floor_price_minor.errors.append(str(exc))
        else:
            flash(_("Bargain campaign saved."))
            return redirect(url_for("bargains_admin.edit_campaign", campaign_id=campaign.id), 303)
    return render("admin/bargains/campaign.html", campaign=campaign, form=form,
                  status=422 if request.method == "POST" else 200)
