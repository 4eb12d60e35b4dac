"""Favourites (a row per shopper and product, toggled by POST) and browsing history (a
signed cookie: viewing a product writes no row)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from shop.catalog.models import Product
from shop.db import db
from shop.favourites.models import Favourite
from tests.conftest import signed_in
from tests.factories import product_with_skus

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", **EN}


def _rows(app) -> list[tuple[int, int]]:
    with app.app_context():
        return db.session.execute(select(Favourite.user_id, Favourite.product_id)
                                  .order_by(Favourite.id)).all()


def test_the_toggle_saves_and_forgets_for_its_owner_only(app):
    product, _ = product_with_skus()
    alice, alice_user = signed_in(app)
    bob, _bob_user = signed_in(app)
    assert 'aria-pressed="false" data-testid="favourite"' in alice.get(f"/p/{product.id}").get_data(as_text=True)
    response = alice.post_form(f"/favourites/{product.id}", headers=HX)
    assert 'aria-pressed="true"' in response.get_data(as_text=True)
    assert _rows(app) == [(alice_user.id, product.id)]
    assert 'aria-pressed="true" data-testid="favourite"' in alice.get(f"/p/{product.id}").get_data(as_text=True)
    assert product.title not in bob.get("/me/favourites").get_data(as_text=True)
    assert product.title in alice.get("/me/favourites").get_data(as_text=True)
    assert bob.post_form(f"/me/favourites/{product.id}/remove").status_code == 404
    assert _rows(app) == [(alice_user.id, product.id)]  # Bob can not remove Alice's
    # without JavaScript: a plain form, back to the product
    response = alice.post_form(f"/favourites/{product.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/p/{product.id}"
    assert _rows(app) == []


def test_anonymous_visitors_are_asked_to_sign_in_and_csrf_is_checked(app, client):
    product, _ = product_with_skus()
    response = client.post_form(f"/favourites/{product.id}", headers=HX)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "body"
    response = client.post_form(f"/favourites/{product.id}")
    assert response.status_code == 303 and "/signin" in response.headers["Location"]
    shopper, _user = signed_in(app)
    assert shopper.post(f"/favourites/{product.id}").status_code == 400  # no CSRF token
    assert shopper.post_form("/favourites/999999").status_code == 404  # no such product
    assert _rows(app) == []


def test_the_favourites_page_shows_the_price_now_and_sold_out(app):
    shopper, user = signed_in(app)
    cheap, _ = product_with_skus(skus=(("红", 990, 0), ("蓝", 2590, 3)))
    gone, _ = product_with_skus(skus=(("红", 1990, 0),))
    for product in (cheap, gone):
        assert shopper.post_form(f"/favourites/{product.id}", headers=HX).status_code == 200
    html = shopper.get("/me/favourites").get_data(as_text=True)
    assert html.index(gone.title) < html.index(cheap.title)  # the latest first
    assert "¥25.90" in html and "¥9.90" not in html and html.count('data-testid="sold-out"') == 1
    response = shopper.post_form(f"/me/favourites/{gone.id}/remove", headers=HX)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert _rows(app) == [(user.id, cheap.id)]
    from shop.signals import account_closing
    with app.app_context():  # closing the account takes them
        account_closing.send(db.session.get(type(user), user.id))
        db.session.commit()
    assert _rows(app) == []


def _table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t))
                for t in db.metadata.sorted_tables}


def test_history_is_kept_in_a_cookie_not_the_database(app, client):
    first, _ = product_with_skus()
    second, _ = product_with_skus()
    before = _table_counts(app)
    for product in (first, second, first):
        assert client.get(f"/p/{product.id}").status_code == 200
    html = client.get("/me/history").get_data(as_text=True)
    assert _table_counts(app) == before  # no GET wrote a row
    assert html.index(first.title) < html.index(second.title)
    with app.app_context():  # no longer on sale: dropped
        db.session.execute(update(Product).where(Product.id == second.id).values(status="off_sale"))
        db.session.commit()
    html = client.get("/me/history").get_data(as_text=True)
    assert first.title in html and second.title not in html
    assert client.post_form("/me/history/clear").status_code == 303
    assert first.title not in client.get("/me/history").get_data(as_text=True)
    # a cookie not signed by the shop is ignored
    client.set_cookie("seen", "forged")
    assert client.get("/me/history").status_code == 200


def test_me_links_the_order_tabs_and_the_shoppers_corners(app, shopper_client):
    for lang in ("zh-CN", "en"):
        html = shopper_client.get("/me", headers={"Accept-Language": lang}).get_data(as_text=True)
        for tab in ("unpaid", "unshipped", "shipped", "pickup", "done", "refunds"):
            assert f'href="/orders?tab={tab}"' in html, tab
        for url in ("/me/groups", "/bargains", "/me/coupons", "/points", "/distribution",
                    "/me/favourites", "/me/history"):
            assert f'href="{url}"' in html, url
