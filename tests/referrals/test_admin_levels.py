"""The distributor levels page holds a form per level and the form to add one
(shop.web.forms): a refused change comes back in its own row, as typed, with its error;
the "add" form stays empty and the stored levels stay as they were."""

from __future__ import annotations

from sqlalchemy import select

from shop.db import db
from shop.referrals.models import DistributorLevel
from tests.factories import DistributorLevelFactory
from tests.web.page_forms import form_values

EN = {"Accept-Language": "en"}


def _levels(app) -> list[tuple]:
    with app.app_context():
        return [(lv.name, lv.level1_bp, lv.level2_bp)
                for lv in db.session.scalars(select(DistributorLevel).order_by(DistributorLevel.id))]


def test_a_refused_level_change_stays_in_its_row_and_the_add_form_stays_empty(app, admin_client):
    gold, silver = DistributorLevelFactory(name="金牌"), DistributorLevelFactory(name="银牌", level1_bp=800)
    before = _levels(app)
    edit = f"/admin/distribution/levels/{gold.id}"
    response = admin_client.post_form(edit, {"name": "金牌二", "level1_bp": "abc", "level2_bp": "600"},
                                      headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _levels(app) == before
    assert form_values(html, edit)["name"] == ["金牌二"]  # as typed, in its own row
    assert form_values(html, edit)["level1_bp"] == ["abc"]
    assert form_values(html, f"/admin/distribution/levels/{silver.id}")["level1_bp"] == ["800"]
    added = form_values(html, "/admin/distribution/levels")
    assert added.get("name", [""]) == [""] and added.get("level1_bp", [""]) == [""]
    assert html.count('class="error"') >= 1 and "This field is required" not in html
    # the silver row, saved as shown, changes nothing
    shown = form_values(html, f"/admin/distribution/levels/{silver.id}")
    assert admin_client.post_form(f"/admin/distribution/levels/{silver.id}", shown).status_code == 303
    assert _levels(app) == before
