from sqlalchemy import func, select

from shop.accounts.models import User
from shop.db import db
from tests.factories import UserFactory

EN = {"Accept-Language": "en"}


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def _register(client, **overrides):
    data = {"email": "new@example.com", "nickname": "小新", "password": "longenough1",
            "confirm": "longenough1"}
    data.update(overrides)
    return client.post_form("/register", data, headers=EN)


def test_register_signs_in_and_hashes_the_password(app, client):
    from shop.config import Config, TestConfig

    assert Config.PASSWORD_METHOD == "scrypt"  # production; only the tests' is cheap
    assert TestConfig.PASSWORD_METHOD != Config.PASSWORD_METHOD
    app.config["PASSWORD_METHOD"] = Config.PASSWORD_METHOD
    response = _register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "new@example.com" and user.role == "shopper"
        assert user.password_hash.startswith("scrypt:") and "longenough1" not in user.password_hash
    assert "小新" in client.get("/me").get_data(as_text=True)


def test_register_refuses_bad_input_and_changes_nothing(app, client):
    UserFactory(email="taken@example.com")
    cases = [
        ({"email": "TAKEN@example.com"}, "An account with this email already exists."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"password": "short", "confirm": "short"}, "Use 8 to 128 characters."),
        ({"confirm": "different1"}, "The passwords differ."),
    ]
    for overrides, message in cases:
        response = _register(client, **overrides)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True), overrides
    assert _users(app) == 1


def test_signin_starts_a_new_session_and_signout_ends_it(app, client):
    user = UserFactory()
    with client.session_transaction() as session:
        session["planted"] = "from before sign-in"
    client.signin(user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}.0"  # the account and its session version
    assert client.get("/me").status_code == 200
    client.post_form("/signout")
    assert client.get("/me").status_code == 302


def test_wrong_password_is_refused_with_a_message(client):
    user = UserFactory()
    response = client.post_form("/signin", {"email": user.email, "password": "wrong-one"}, headers=EN)
    assert response.status_code == 422
    assert "The email or password is wrong." in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_signin_is_rate_limited(app, client):
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    user = UserFactory()
    for _ in range(5):  # right passwords never count: colleagues behind one address sign in
        assert app.test_client().signin(user.email).status_code == 302
    token = client.csrf_token()
    codes = [client.post("/signin", data={"csrf_token": token, "email": user.email,
                                          "password": "wrong"}, headers=EN).status_code
             for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    response = client.post("/signin", data={"csrf_token": token, "email": user.email,
                                            "password": "password123"}, headers=EN)
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert "Too many wrong passwords. Wait 1 minute and try again." in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302


def test_next_redirects_only_to_same_site_paths(client):
    user = UserFactory()
    for target, expected in [("/categories", "/categories"), ("//evil.example", "/me"),
                             ("https://evil.example/", "/me"), ("/\\evil.example", "/me"),
                             ("javascript:alert(1)", "/me")]:
        response = client.post_form("/signin", {"email": user.email, "password": "password123",
                                                "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == expected, target
        client.post_form("/signout")


def test_signing_in_first_returns_to_the_page_not_to_a_post_or_a_fragment(client):
    """A form posted (a stale tab) or a fragment asked for without a session: sign in,
    then back to the page it came from, never to the POST's URL (a 405 after signing in)
    nor to another site's page."""
    token = client.csrf_token()
    post = lambda headers: client.post("/group-buys/1/open", data={"csrf_token": token},  # noqa: E731
                                       headers=headers)
    assert post({"Referer": "http://localhost/group-buys/1?ref=AB"}).headers["Location"] == \
        "/signin?next=%2Fgroup-buys%2F1%3Fref%3DAB"
    assert post({"Referer": "https://evil.example/group-buys/1"}).headers["Location"] == "/signin"
    fragment = client.get("/me", headers={"HX-Request": "true",
                                          "HX-Current-URL": "http://localhost/products/3"})
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == "/signin?next=%2Fproducts%2F3"
    assert client.get("/me?tab=orders").headers["Location"] == "/signin?next=%2Fme%3Ftab%3Dorders"


def test_signin_page_drops_an_offsite_next(client):
    html = client.get("/signin?next=//evil.example").get_data(as_text=True)
    assert '<input id="next" name="next" type="hidden" value="">' in html
    html = client.get("/signin?next=/categories").get_data(as_text=True)
    assert '<input id="next" name="next" type="hidden" value="/categories">' in html


def test_profile_edit_with_avatar(app, client, png_bytes):
    user = UserFactory()
    client.signin(user.email)
    response = client.post_form("/me/profile", {"nickname": "新名字", "phone": "13800138000",
                                                "avatar": (png_bytes(), "me.png")},
                                content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.nickname, saved.phone) == ("新名字", "13800138000")
        assert saved.avatar_key and saved.avatar_widths
    with client.get(f"/media/{saved.avatar_key}-{saved.avatar_widths.split(',')[0]}.webp") as served:
        assert served.status_code == 200 and served.mimetype == "image/webp"
        assert "immutable" in served.headers["Cache-Control"]


def test_profile_refuses_a_bad_phone_and_a_fake_image(app, client):
    user = UserFactory(nickname="原名")
    client.signin(user.email)
    response = client.post_form("/me/profile", {"nickname": "改名", "phone": "call me"}, headers=EN)
    assert response.status_code == 422
    assert "Enter a phone number" in response.get_data(as_text=True)
    import io
    response = client.post_form("/me/profile", {"nickname": "改名", "avatar": (io.BytesIO(b"<?php evil"), "x.png")},
                                content_type="multipart/form-data", headers=EN)
    assert response.status_code == 422
    assert "not an image" in response.get_data(as_text=True)
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert saved.nickname == "原名" and saved.avatar_key is None


def test_language_switch_is_a_post_and_sticks(client):
    assert client.get("/language").status_code == 405
    response = client.post_form("/language", {"lang": "en", "next": "/categories"})
    assert response.status_code == 302 and response.headers["Location"] == "/categories"
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert client.post_form("/language", {"lang": "xx"}).status_code == 400
    client.post_form("/language", {"lang": "zh_Hans"})
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)


def test_behind_a_proxy_the_limit_counts_the_visitor_address(app):
    from shop import create_app
    from tests.conftest import ShopClient, _config

    class Proxied(_config(app.config["SQLALCHEMY_DATABASE_URI"], app.config["MEDIA_ROOT"])):
        PROXY_COUNT = 1
        SIGNIN_RATE_LIMIT = "2 per minute"

    proxied = create_app(Proxied)
    proxied.test_client_class = ShopClient
    client = proxied.test_client()
    token = client.csrf_token()

    def attempt(ip):
        return client.post("/signin", data={"csrf_token": token, "email": f"{ip}@example.com",
                                            "password": "x"}, headers={"X-Forwarded-For": ip}).status_code

    try:
        assert [attempt("1.1.1.1") for _ in range(3)] == [422, 422, 429]
        assert attempt("2.2.2.2") == 422  # another visitor behind the same proxy is not locked out
    finally:
        with proxied.app_context():
            db.engine.dispose()


def test_the_per_email_limit_holds_across_addresses(app, client):
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    user = UserFactory()
    token = client.csrf_token()
    codes = [client.post("/signin", data={"csrf_token": token, "email": user.email, "password": "wrong"},
                         environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(4)]
    assert codes == [422, 422, 422, 429]


def test_registration_is_rate_limited(app, client):
    app.config["REGISTER_RATE_LIMIT"] = "2 per minute"
    codes = []
    for n in range(3):
        codes.append(_register(client, email=f"r{n}@example.com").status_code)
        client.post_form("/signout")
    assert codes == [302, 302, 429]
    assert _users(app) == 2


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_saved_before_signing_out_no_longer_signs_in(app):
    user = UserFactory()
    phone, laptop = app.test_client(), app.test_client()
    phone.signin(user.email)
    laptop.signin(user.email)
    saved = _cookie(phone)
    assert phone.get("/me").status_code == 200 and laptop.get("/me").status_code == 200
    assert phone.post_form("/signout").status_code == 302
    replayed = app.test_client()
    replayed.set_cookie("session", saved)
    assert replayed.get("/me").status_code == 302  # to sign in: that session is over
    assert laptop.get("/me").status_code == 302  # and every other session of the account
    again = app.test_client()
    again.signin(user.email)  # a new sign-in works as before
    assert again.get("/me").status_code == 200


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app):
    user = UserFactory()
    here, elsewhere = app.test_client(), app.test_client()
    here.signin(user.email)
    elsewhere.signin(user.email)
    response = here.post_form("/me/password", {"current": "wrong-one", "password": "newpassword1",
                                                "confirm": "newpassword1"}, headers=EN)
    assert response.status_code == 422 and "The current password is wrong." in response.get_data(as_text=True)
    assert elsewhere.get("/me").status_code == 200  # a refused change ends nothing
    response = here.post_form("/me/password", {"current": "password123", "password": "newpassword1",
                                               "confirm": "newpassword1"})
    assert response.status_code == 302
    assert here.get("/me").status_code == 200 and elsewhere.get("/me").status_code == 302
    fresh = app.test_client()
    assert fresh.post_form("/signin", {"email": user.email, "password": "password123"}).status_code == 422
    fresh.signin(user.email, "newpassword1")


def test_a_disabled_account_is_signed_out_everywhere_and_can_not_sign_in(app):
    """`flask shop account EMAIL --disable` (the backoffice's customer page comes with
    issue 24), then --enable."""
    user = UserFactory()
    client = app.test_client()
    client.signin(user.email)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["shop", "account", user.email.upper(), "--disable"])
    assert result.exit_code == 0 and result.output.endswith(": disabled\n"), result.output
    assert client.get("/me").status_code == 302
    assert app.test_client().post_form("/signin", {"email": user.email, "password": "password123"}
                                       ).status_code == 422
    result = runner.invoke(args=["shop", "account", user.email, "--enable"])
    assert result.exit_code == 0 and result.output.endswith(": active\n"), result.output
    app.test_client().signin(user.email)
    assert runner.invoke(args=["shop", "account", "nobody@example.com"]).exit_code == 2
