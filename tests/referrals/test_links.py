"""Share links, the beacon, the cookie and binding: by rule, and every way of referring
oneself, closing a loop, or using a forged or disabled code, refused with a message."""

import re

from sqlalchemy import func, select

from shop.accounts.models import User
from shop.db import db
from shop.referrals import services
from shop.referrals.models import Binding, LinkOpen
from tests.factories import (PASSWORD, BindingFactory, DistributorFactory, ReferralSettingsFactory,
                             UserFactory, product_with_skus)
from tests.payments.helpers import EN


def _referrer(app, user_id):
    with app.app_context():
        return services.referrer_of(user_id)


def _opens(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LinkOpen))


def _open(client, token, **kwargs):
    """Open a share link as a phone does: the redirect, the page, then its beacon."""
    response = client.get(f"/s/{token}", headers=EN, **kwargs)
    assert response.status_code == 303
    location = response.headers["Location"]
    page = client.get(location, headers=EN)
    beacon = re.search(r'hx-post="(/s/[^"]+/opened)"', page.get_data(as_text=True))
    if beacon:
        assert client.post_form(beacon.group(1)).status_code == 204
    return location, page.get_data(as_text=True)


def test_a_signed_in_user_gets_a_short_link_with_their_code_and_a_poster(app, client):
    ReferralSettingsFactory()
    sharer = UserFactory()
    product, _skus = product_with_skus()
    client.signin(sharer.email)
    html = client.get(f"/share/p{product.id}", headers={"HX-Request": "true", **EN}).get_data(as_text=True)
    assert f'value="http://127.0.0.1:5000/s/{sharer.referral_code}-p{product.id}"' in html
    assert f'/share/poster/{sharer.referral_code}-p{product.id}.png' in html
    assert "<html" not in html  # the panel alone, for htmx
    poster = client.get(f"/share/poster/{sharer.referral_code}-p{product.id}.png")
    assert poster.status_code == 200 and poster.mimetype == "image/png"
    assert poster.data[:8] == b"\x89PNG\r\n\x1a\n"
    poster.close()
    # a visitor gets the plain link, and is asked to sign in to earn
    html = app.test_client().get(f"/share/p{product.id}", headers=EN).get_data(as_text=True)
    assert f'value="http://127.0.0.1:5000/p/{product.id}"' in html and "Sign in" in html
    assert app.test_client().get("/share/x1").status_code == 404
    assert client.get(f"/share/poster/{sharer.referral_code}-p999999.png").status_code == 404


def test_opening_a_link_records_the_open_sets_the_cookie_and_binds_at_registration(app, client):
    ReferralSettingsFactory(binding_rule="first_visit")
    sharer = UserFactory()
    product, _skus = product_with_skus()
    location, html = _open(client, f"{sharer.referral_code}-p{product.id}")
    assert location.startswith(f"/p/{product.id}?shared=")
    assert _opens(app) == 1
    with app.app_context():
        open_row = db.session.scalars(select(LinkOpen)).one()
        assert (open_row.sharer_id, open_row.target, len(open_row.visitor)) == (sharer.id, f"p{product.id}", 32)
    assert client.get_cookie("ref") is not None
    response = client.post_form("/register", {"email": "new@example.com", "nickname": "新人",
                                              "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(User).where(User.email == "new@example.com"))
        assert services.referrer_of(new.id) == sharer.id
        assert db.session.get(Binding, new.id).via == "registration"


def test_the_first_link_binds_under_first_visit_and_the_last_under_last_click(app, client):
    ReferralSettingsFactory(binding_rule="first_visit")
    first, second, shopper = UserFactory(), UserFactory(), UserFactory()
    client.signin(shopper.email)
    _open(client, first.referral_code)
    _open(client, second.referral_code)
    assert _referrer(app, shopper.id) == first.id
    with app.app_context():
        services.save_settings(binding_rule="last_click")
        db.session.commit()
    _open(client, second.referral_code)
    assert _referrer(app, shopper.id) == second.id
    assert _opens(app) == 3


def test_under_the_registration_rule_opening_a_link_binds_nobody_already_registered(app, client):
    ReferralSettingsFactory(binding_rule="registration")
    sharer, shopper = UserFactory(), UserFactory()
    client.signin(shopper.email)
    _open(client, sharer.referral_code)
    assert _referrer(app, shopper.id) is None and _opens(app) == 1
    # nor can a code be typed at checkout
    response = client.post_form("/checkout/referrer", {"code": sharer.referral_code}, headers=EN)
    assert response.status_code == 409 and "only set when an account is registered" in response.get_data(as_text=True)
    assert _referrer(app, shopper.id) is None


def test_a_binding_runs_out_after_its_days_and_may_be_made_again(app, client):
    from datetime import timedelta
    from shop.db import utcnow

    ReferralSettingsFactory(binding_rule="first_visit", binding_days=30)
    old, new, shopper = UserFactory(), UserFactory(), UserFactory()
    BindingFactory(user_id=shopper.id, referrer_id=old.id, expires_at=utcnow() - timedelta(days=1))
    assert _referrer(app, shopper.id) is None
    client.signin(shopper.email)
    _open(client, new.referral_code)
    with app.app_context():
        binding = db.session.get(Binding, shopper.id)
        assert binding.referrer_id == new.id
        assert timedelta(days=29) < binding.expires_at - utcnow() <= timedelta(days=30)


def test_own_link_forged_and_disabled_codes_credit_nobody_and_say_why(app, client):
    ReferralSettingsFactory()
    shopper, disabled = UserFactory(), UserFactory()
    DistributorFactory(user_id=disabled.id, status="disabled")
    client.signin(shopper.email)
    for token, message in ((shopper.referral_code, "That is your own referral code"),
                           ("ZZZZZZZZ", "There is no such referral code"),
                           (disabled.referral_code, "This referral code is no longer active")):
        location, html = _open(client, token)
        assert location == "/" and message in html, token
    assert _opens(app) == 0 and _referrer(app, shopper.id) is None
    assert client.get_cookie("ref") is None
    # a beacon posted by hand for them is refused too
    assert client.post_form(f"/s/{shopper.referral_code}/opened").status_code == 404
    assert client.post_form("/s/ZZZZZZZZ/opened").status_code == 404
    assert client.get("/s/not-a-code").status_code == 404
    assert _opens(app) == 0


def test_loops_are_refused_through_links_and_checkout(app, client):
    ReferralSettingsFactory(binding_rule="last_click")
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    BindingFactory(user_id=b.id, referrer_id=a.id)
    BindingFactory(user_id=c.id, referrer_id=b.id)
    client.signin(a.email)
    for sharer in (b, c):  # A->B->A and A->B->C->A
        location, html = _open(client, sharer.referral_code)
        assert "was referred by you, so they cannot be your referrer" in html
    assert _referrer(app, a.id) is None
    response = client.post_form("/checkout/referrer", {"code": c.referral_code}, headers=EN)
    assert response.status_code == 409 and "was referred by you" in response.get_data(as_text=True)
    assert _referrer(app, a.id) is None


def test_a_code_typed_at_registration_binds_and_a_bad_one_refuses_the_registration(app, client):
    ReferralSettingsFactory(binding_rule="registration")
    sharer, disabled = UserFactory(), UserFactory()
    DistributorFactory(user_id=disabled.id, status="disabled")
    form = {"email": "n@example.com", "nickname": "新", "password": PASSWORD, "confirm": PASSWORD}
    for invite, message in (("ZZZZZZZZ", "There is no such referral code"),
                            (disabled.referral_code, "This referral code is no longer active"),
                            ("bad", "A referral code is 8 letters and digits")):
        response = client.post_form("/register", dict(form, invite=invite), headers=EN)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "n@example.com")) is None
    response = client.post_form("/register", dict(form, invite=sharer.referral_code.lower()))
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(User).where(User.email == "n@example.com"))
        assert services.referrer_of(new.id) == sharer.id


def test_checkout_takes_a_code_from_a_shopper_without_a_referrer_once(app, client):
    ReferralSettingsFactory(binding_rule="first_visit")
    sharer, other, shopper = UserFactory(), UserFactory(), UserFactory()
    client.signin(shopper.email)
    html = client.get("/checkout/referrer", headers={"HX-Request": "true", **EN}).get_data(as_text=True)
    assert 'name="code"' in html
    response = client.post_form("/checkout/referrer", {"code": shopper.referral_code}, headers=EN)
    assert response.status_code == 409 and "That is your own referral code" in response.get_data(as_text=True)
    response = client.post_form("/checkout/referrer", {"code": sharer.referral_code},
                                headers={"HX-Request": "true", **EN})
    assert response.status_code == 200 and sharer.nickname in response.get_data(as_text=True)
    response = client.post_form("/checkout/referrer", {"code": other.referral_code}, headers=EN)
    assert response.status_code == 409 and "You already have a referrer" in response.get_data(as_text=True)
    assert _referrer(app, shopper.id) == sharer.id


def test_the_centre_shows_clicks_orders_conversion_and_links(app, client):
    from tests.referrals.helpers import order_paid_by

    ReferralSettingsFactory(binding_rule="first_visit")
    sharer = UserFactory()
    product, (sku, _blue) = product_with_skus(skus=(("红", 10000, 9), ("蓝", 10000, 0)))
    visitor = app.test_client()
    _open(visitor, f"{sharer.referral_code}-p{product.id}")
    buyer = UserFactory()
    visitor.signin(buyer.email)  # the cookie binds the buyer at sign-in
    assert _referrer(app, buyer.id) == sharer.id
    order_paid_by(app, buyer.id, sku=sku, client=visitor)  # through the link: one buyer
    _open(app.test_client(), f"{sharer.referral_code}-p{product.id}")  # a second visitor, no order
    client.signin(sharer.email)
    html = client.get("/distribution", headers=EN).get_data(as_text=True)
    assert 'data-testid="clicks">2<' in html and 'data-testid="orders">1<' in html
    assert 'data-testid="conversion">50%<' in html and 'data-testid="pending">CN¥10.00' in html
    assert product.title in html or f"Product {product.code}" in html
    assert client.get("/distribution/team", headers=EN).get_data(as_text=True).count(buyer.nickname) == 1
    ledger = client.get("/distribution/ledger", headers=EN).get_data(as_text=True)
    assert "Commission earned" in ledger and "+CN¥10.00" in ledger
    kit = client.get(f"/distribution/kit/{product.id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="per-sale">One sale at this price earns you CN¥10.00' in kit
    assert f"/s/{sharer.referral_code}-p{product.id}" in kit


def test_a_code_typed_at_registration_wins_over_an_older_cookie_under_last_click(app, client):
    ReferralSettingsFactory(binding_rule="last_click")
    cookie_sharer, typed_sharer = UserFactory(), UserFactory()
    _open(client, cookie_sharer.referral_code)
    response = client.post_form("/register", {"email": "t@example.com", "nickname": "新", "password": PASSWORD,
                                              "confirm": PASSWORD, "invite": typed_sharer.referral_code})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(User).where(User.email == "t@example.com"))
        binding = db.session.get(Binding, new.id)
        assert (binding.referrer_id, binding.via) == (typed_sharer.id, "registration")
