"""Text input is checked at one boundary (shop.text): a control character in any query
argument or form field of any route is a 400 with a message before a view runs, on
SQLite and on PostgreSQL (which refuses NUL in text and answered 500 before); names
refuse invisible and direction-changing characters; emails are compared in one form."""

import pytest
from sqlalchemy import func, select

from shop.accounts.models import User
from shop.db import db
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import UserFactory, product_with_skus

EN = {"Accept-Language": "en"}
MESSAGE = "holds control characters (such as NUL), which are not allowed"


def _url(rule) -> str:
    values = {name: 1 if type(conv).__name__ in ("IdConverter", "IntegerConverter") else "x"
              for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def test_nul_in_any_query_argument_or_form_field_of_any_route_is_a_400_not_a_500(app):
    client, _admin = signed_in(app, "admin")
    token = client.csrf_token()
    # The check is one boundary, blind to names: each route is sent one argument, the
    # names taken in turn, so every name and every route is tried (not every pair).
    names = ("q", "page", "tag", "table", "next", "sort")
    fields = ("nickname", "email", "name", "q", "detail", "reason", "a\x00b")
    checked = 0
    for number, rule in enumerate(app.url_map.iter_rules()):
        if rule.endpoint == "static":
            continue
        url = _url(rule)
        if "GET" in rule.methods:
            name = names[number % len(names)]
            response = client.get(f"{url}?{name}=a%00b", headers=EN)
            assert response.status_code == 400, (rule.rule, name, response.status_code)
            assert MESSAGE in response.get_data(as_text=True), rule.rule
            checked += 1
        if "POST" in rule.methods:
            field = fields[number % len(fields)]
            response = client.post(url, data={"csrf_token": token, field: "a\x00b\x1f"},
                                   headers=EN)
            assert response.status_code == 400, (rule.rule, field, response.status_code)
            assert MESSAGE in response.get_data(as_text=True), rule.rule
            checked += 1
    assert checked > 150
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1  # nothing made


def test_nul_in_a_path_and_in_the_forms_the_attack_run_used_changes_nothing(app, client):
    assert client.get("/search?q=%00", headers=EN).status_code == 400
    assert client.get("/articles?tag=%00").status_code == 400
    assert client.get("/a/%00").status_code in (400, 404)
    response = client.post_form("/register", {"email": "n@example.com", "nickname": "a\x00b",
                                              "password": "longenough1", "confirm": "longenough1"},
                                headers=EN)
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    _product, (sku, _) = product_with_skus()
    shopper, user = signed_in(app)
    shopper.post_form("/cart/add", {"sku_id": str(sku.id), "quantity": "1"})
    response = shopper.post_form("/checkout", dict(ADDRESS, detail="文三路\x00",
                                                   token=form_token(shopper, "/checkout")))
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        from shop.orders.models import Order
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_line_breaks_and_tabs_are_text(app, client):
    shopper, _user = signed_in(app)
    response = shopper.post_form("/me/profile", {"nickname": "小\t新"}, headers=EN)
    assert response.status_code == 302


@pytest.mark.parametrize("nickname", ["abc\u202egnp.exe", "ad\u200bmin\u200d", "\u2066x\u2069",
                                      "\ufeffbom", "ab\u061cc", "\u3164", "a\u2028b", "so\u00adft",
                                      "ab\u180ec", "\u2800"])
def test_names_refuse_invisible_and_direction_changing_characters(app, client, nickname):
    response = client.post_form("/register", {"email": "n@example.com", "nickname": nickname,
                                              "password": "longenough1", "confirm": "longenough1"},
                                headers=EN)
    assert response.status_code == 422
    assert "Names can not hold invisible or direction-changing characters." in response.get_data(as_text=True)
    shopper, user = signed_in(app)
    response = shopper.post_form("/me/profile", {"nickname": nickname}, headers=EN)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, user.id).nickname == user.nickname
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_emoji_joined_into_one_are_a_name(app):
    shopper, user = signed_in(app)
    response = shopper.post_form("/me/profile", {"nickname": "👨\u200d👩\u200d👧 一家"}, headers=EN)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).nickname == "👨\u200d👩\u200d👧 一家"


def test_a_control_character_in_an_uploaded_file_name_is_refused(app, png_bytes):
    shopper, user = signed_in(app)
    response = shopper.post("/me/profile", headers=EN, content_type="multipart/form-data", data={
        "csrf_token": shopper.csrf_token(), "nickname": "新名字",
        "avatar": (png_bytes(), "a\x00b.png")})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).nickname == user.nickname


def test_a_look_alike_email_is_the_same_account(app, client):
    UserFactory(email="admin@example.com", role="admin")
    response = client.post_form("/register", {"email": "ＡＤＭＩＮ@example.com", "nickname": "假",
                                              "password": "longenough1", "confirm": "longenough1"},
                                headers=EN)
    assert response.status_code == 422
    assert "An account with this email already exists." in response.get_data(as_text=True)
    response = client.post_form("/register", {"email": "Ｎｅｗ@Example.com", "nickname": "新",
                                              "password": "longenough1", "confirm": "longenough1"})
    assert response.status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(select(User.email))) == ["admin@example.com", "new@example.com"]
    other = app.test_client()  # and signs in however it is typed
    assert other.post_form("/signin", {"email": "ＮＥＷ@example.com", "password": "longenough1"}
                           ).status_code == 302


def test_the_migration_writes_emails_in_one_form_and_reports_look_alikes(app, capfd):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with app.app_context():
        downgrade(revision="a7c3e91d5b20")  # before emails in one form
        for user_id, email in ((1, "admin@example.com"), (2, "ＡＤＭＩＮ@example.com"),
                               (3, "Ｌｏｎｅ@example.com")):
            db.session.execute(text(
                "INSERT INTO users (id, email, password_hash, nickname, role, active, created_at, "
                "updated_at, can_publish, referral_code) VALUES (:i, :e, 'x', 'n', 'shopper', true, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, :c)"), {"i": user_id, "e": email,
                                                                       "c": f"ABCDEFG{user_id}"})
        db.session.commit()
        upgrade()
        emails = dict(db.session.execute(text("SELECT id, email FROM users")).all())
        assert emails == {1: "admin@example.com", 2: "ＡＤＭＩＮ@example.com", 3: "lone@example.com"}
        db.session.rollback()
    log = capfd.readouterr().err  # the migration's log (alembic.ini sends it to stderr)
    reported = [line for line in log.splitlines() if "look-alike" in line]
    assert len(reported) == 1 and reported[0].endswith(
        "look-alike accounts share the email admin@example.com once normalised, left as they "
        "are for an admin to merge or rename: #1 admin@example.com, #2 ＡＤＭＩＮ@example.com")
