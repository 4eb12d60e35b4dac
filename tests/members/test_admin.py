"""The backoffice of member levels: admins only; create, edit and delete with members
moved to where their growth puts them; bad input is a 422 form and changes nothing."""

import pytest
from sqlalchemy import select

from shop.db import db
from shop.members.models import Member, MemberLevel
from tests.conftest import signed_in
from tests.factories import UserFactory
from tests.members.helpers import give, ladder, member

EN = {"Accept-Language": "en"}
GOLD = {"name": "金卡会员", "threshold": "2000", "discount_bp": "500", "points_multiplier_bp": "15000",
        "free_shipping": "y"}


def _levels(app) -> list[tuple]:
    with app.app_context():
        return [(l.name, l.threshold, l.discount_bp, l.points_multiplier_bp, l.free_shipping)
                for l in db.session.scalars(select(MemberLevel).order_by(MemberLevel.threshold))]


@pytest.mark.parametrize("role", ["shopper", "staff", "editor"])
def test_only_admins_reach_the_levels(app, role):
    level_id = ladder("银卡会员")["银卡会员"]
    client, _user = signed_in(app, role)
    before = _levels(app)
    assert client.get("/admin/members/levels").status_code == 403
    assert client.get(f"/admin/members/levels/{level_id}").status_code == 403
    assert client.post_form("/admin/members/levels", GOLD).status_code == 403
    assert client.post_form(f"/admin/members/levels/{level_id}", GOLD).status_code == 403
    assert client.post_form(f"/admin/members/levels/{level_id}/delete").status_code == 403
    assert _levels(app) == before


def test_visitors_are_sent_to_sign_in(app, client):
    response = client.get("/admin/members/levels")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_an_admin_adds_a_level_and_members_move_onto_it(app, admin_client):
    ladder("普通会员")
    user = UserFactory()
    give(app, user.id, 2500)
    assert member(app, user.id) == (2500, "普通会员")
    page = admin_client.get("/admin/members/levels", headers=EN).get_data(as_text=True)
    assert "Member levels" in page and "普通会员" in page
    response = admin_client.post_form("/admin/members/levels", GOLD)
    assert response.status_code == 303
    assert _levels(app) == [("普通会员", 0, 0, 10_000, False), ("金卡会员", 2000, 500, 15_000, True)]
    assert member(app, user.id) == (2500, "金卡会员")
    page = admin_client.get("/admin/members/levels", headers=EN).get_data(as_text=True)
    assert "金卡会员" in page and "5%" in page and "×1.5" in page


def test_an_admin_edits_a_level_and_a_new_threshold_re_levels_members(app, admin_client):
    levels = ladder("普通会员", "银卡会员")
    user = UserFactory()
    give(app, user.id, 600)
    assert member(app, user.id) == (600, "银卡会员")
    url = f"/admin/members/levels/{levels['银卡会员']}"
    form = admin_client.get(url, headers=EN).get_data(as_text=True)
    assert 'value="银卡会员"' in form and 'value="500"' in form and 'value="200"' in form
    response = admin_client.post_form(url, {"name": "银卡", "threshold": "800", "discount_bp": "300",
                                            "points_multiplier_bp": "12000"})
    assert response.status_code == 303
    assert _levels(app) == [("普通会员", 0, 0, 10_000, False), ("银卡", 800, 300, 12_000, False)]
    assert member(app, user.id) == (600, "普通会员")  # 600 no longer reaches it


@pytest.mark.parametrize("change, field_error", [
    ({"threshold": "500"}, "Another level starts at this growth."),
    ({"name": "银卡会员"}, "Another level has this name."),
    ({"discount_bp": "9001"}, "Enter a whole number from 0 to 9000."),
    ({"discount_bp": "-1"}, "Enter a whole number from 0 to 9000."),
    ({"points_multiplier_bp": "9999"}, "Enter a whole number from 10000 to 100000."),
    ({"threshold": "1.5"}, "Enter a whole number from 0 to 2147483647."),
    ({"name": ""}, "This field is required."),
    ({"name": "<b>金</b>"}, "Use plain text: HTML tags are not allowed here."),
])
def test_bad_input_is_refused_with_the_form_and_changes_nothing(app, admin_client, change, field_error):
    levels = ladder("普通会员", "银卡会员")
    user = UserFactory()
    give(app, user.id, 2100)
    before, standing = _levels(app), member(app, user.id)
    created = admin_client.post_form("/admin/members/levels", {**GOLD, **change}, headers=EN)
    assert created.status_code == 422 and field_error in created.get_data(as_text=True)
    assert _levels(app) == before and member(app, user.id) == standing
    # the same change to an existing level (a clash with the other level, for the names
    # and thresholds)
    edit = {"name": "普通会员", "threshold": "0", "discount_bp": "0", "points_multiplier_bp": "10000",
            **change}
    edited = admin_client.post_form(f"/admin/members/levels/{levels['普通会员']}", edit, headers=EN)
    assert edited.status_code == 422 and field_error in edited.get_data(as_text=True)
    assert _levels(app) == before and member(app, user.id) == standing


def test_deleting_a_level_moves_its_members_down(app, admin_client):
    levels = ladder("普通会员", "银卡会员", "金卡会员")
    gold, silver = UserFactory(), UserFactory()
    give(app, gold.id, 2100)
    give(app, silver.id, 600)
    response = admin_client.post_form(f"/admin/members/levels/{levels['金卡会员']}/delete")
    assert response.status_code == 303
    assert [name for name, *_rest in _levels(app)] == ["普通会员", "银卡会员"]
    assert member(app, gold.id) == (2100, "银卡会员") and member(app, silver.id) == (600, "银卡会员")
    admin_client.post_form(f"/admin/members/levels/{levels['普通会员']}/delete")
    admin_client.post_form(f"/admin/members/levels/{levels['银卡会员']}/delete")
    assert _levels(app) == [] and member(app, gold.id) == (2100, None)
    with app.app_context():
        assert db.session.scalar(select(Member.level_id).where(Member.user_id == gold.id)) is None
    assert admin_client.post_form(f"/admin/members/levels/{levels['金卡会员']}/delete").status_code == 409
    assert admin_client.get(f"/admin/members/levels/{levels['金卡会员']}").status_code == 404


def test_a_delete_without_the_csrf_token_is_refused(app, admin_client):
    level_id = ladder("银卡会员")["银卡会员"]
    assert admin_client.post(f"/admin/members/levels/{level_id}/delete").status_code == 400
    assert len(_levels(app)) == 1
