import re

from sqlalchemy import select

from shop.cart.models import CartItem
from shop.db import db
from tests.factories import product_with_skus

EN = {"Accept-Language": "en"}
HX = {"HX-Request": "true", **EN}


def _quantities(client) -> dict[int, int]:
    with client.session_transaction() as session:
        return {int(k): v for k, v in session.get("cart", {}).items()}


def _badge(html: str) -> str:
    match = re.search(r'<span id="cart-badge" class="badge"[^>]*>(.*?)</span>\s*(?:</span>)?', html)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def test_the_tab_bar_has_a_cart_tab_with_a_badge(client):
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert re.search(r'href="/cart"[^>]*>.*?<span>Cart</span><span id="cart-badge"', html, re.S)


def test_add_update_remove_through_htmx_with_the_badge_out_of_band(client):
    product, (red, _blue) = product_with_skus(skus=(("红", 1990, 10), ("蓝", 2590, 5)))
    token = client.csrf_token()
    added = client.post("/cart/add", data={"csrf_token": token, "sku_id": red.id, "quantity": "2"}, headers=HX)
    body = added.get_data(as_text=True)
    assert added.status_code == 200 and "Added to your cart." in body and "<html" not in body
    assert 'hx-swap-oob="true"' in body and _badge(body).startswith("2")
    assert _quantities(client) == {red.id: 2}

    changed = client.post(f"/cart/items/{red.id}", data={"csrf_token": token, "quantity": "3"}, headers=HX)
    body = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "¥59.70" in body and _badge(body).startswith("3")

    removed = client.post(f"/cart/items/{red.id}/remove", data={"csrf_token": token}, headers=HX)
    body = removed.get_data(as_text=True)
    assert "Your cart is empty." in body and _badge(body) == ""
    assert _quantities(client) == {}
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert _badge(page) == ""


def test_bad_quantities_are_refused_and_change_nothing(client):
    product, (red, _blue) = product_with_skus()
    token = client.csrf_token()
    client.post("/cart/add", data={"csrf_token": token, "sku_id": red.id, "quantity": "1"}, headers=HX)
    for quantity in ["-1", "0", "1.5", str(10**12), ["1", "2"], "abc", ""]:
        response = client.post("/cart/add", data={"csrf_token": token, "sku_id": red.id, "quantity": quantity},
                               headers=HX)
        assert response.status_code == 422, quantity
        response = client.post(f"/cart/items/{red.id}", data={"csrf_token": token, "quantity": quantity},
                               headers=HX)
        assert response.status_code == 422, quantity
    assert _quantities(client) == {red.id: 1}


def test_client_prices_are_ignored(client):
    product, (red, _blue) = product_with_skus()
    token = client.csrf_token()
    client.post("/cart/add", data={"csrf_token": token, "sku_id": red.id, "quantity": "2",
                                   "price": "0.01", "price_minor": "1", "total": "0.02"}, headers=HX)
    html = client.get("/cart", headers=EN).get_data(as_text=True)
    # money as the page shows it ("0.01" alone could turn up inside a random CSRF token)
    assert "¥39.80" in html and "¥0.01" not in html and "¥0.02" not in html


def test_stock_limit_and_availability(client, app):
    from shop.catalog.models import Product

    product, (red, blue) = product_with_skus(skus=(("红", 1990, 3), ("蓝", 2590, 0)))
    draft, (draft_sku, _x) = product_with_skus(status="draft")
    token = client.csrf_token()

    def add(sku_id, quantity):
        return client.post("/cart/add", data={"csrf_token": token, "sku_id": sku_id, "quantity": quantity},
                           headers=HX)

    assert add(red.id, 4).status_code == 422 and "You can have 1 to 3 of this item." in add(red.id, 4).get_data(as_text=True)
    assert "This item is sold out." in add(blue.id, 1).get_data(as_text=True)
    assert "This item is not for sale." in add(draft_sku.id, 1).get_data(as_text=True)
    assert "This item is not for sale." in add(999999, 1).get_data(as_text=True)
    with app.app_context():
        db.session.get(Product, product.id).purchase_limit = 2
        db.session.commit()
    assert add(red.id, 2).status_code == 200
    assert add(red.id, 1).status_code == 422  # 3 in all, over the limit of 2
    assert _quantities(client) == {red.id: 2}


def test_another_visitors_line_cannot_be_touched(client):
    product, (red, _blue) = product_with_skus()
    token = client.csrf_token()
    assert client.post(f"/cart/items/{red.id}/remove", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/cart/items/{red.id}", data={"csrf_token": token, "quantity": "1"},
                       headers=HX).status_code == 422


def test_a_visitors_cart_merges_into_the_account_at_signin(app, client):
    from tests.factories import UserFactory

    user = UserFactory()
    product, (red, blue) = product_with_skus(skus=(("红", 1990, 5), ("蓝", 2590, 5)))
    with app.app_context():
        db.session.add(CartItem(user_id=user.id, sku_id=red.id, quantity=4))
        db.session.commit()
    token = client.csrf_token()
    for sku_id, quantity in [(red.id, 3), (blue.id, 1)]:
        client.post("/cart/add", data={"csrf_token": token, "sku_id": sku_id, "quantity": quantity}, headers=HX)
    client.signin(user.email)
    with app.app_context():
        rows = dict(db.session.execute(select(CartItem.sku_id, CartItem.quantity)
                                       .where(CartItem.user_id == user.id)).all())
    assert rows == {red.id: 5, blue.id: 1}  # 4 + 3 capped at the stock of 5
    assert _quantities(client) == {}
    assert _badge(client.get("/", headers=EN).get_data(as_text=True)).startswith("6")
    html = client.get("/cart", headers=EN).get_data(as_text=True)
    assert "¥125.40" in html  # 5 × 19.90 + 1 × 25.90
    client.post_form("/signout")
    assert _badge(client.get("/", headers=EN).get_data(as_text=True)) == ""


def test_the_product_page_adds_to_the_cart_without_javascript(client):
    product, (red, _blue) = product_with_skus()
    html = client.get(f"/p/{product.id}").get_data(as_text=True)
    assert 'action="/cart/add"' in html and f'name="sku_id" value="{red.id}"' in html
    response = client.post_form("/cart/add", {"sku_id": red.id, "quantity": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/cart"
    assert _quantities(client) == {red.id: 1}


def test_a_visitors_session_is_not_rewritten_by_pages_that_only_read_it(client):
    """The product page's lazy fragments run beside an add to the cart: if each answer
    sent the session back as it had read it, the last one would drop the item. So reads
    leave an anonymous session as it is (no Set-Cookie); the add itself writes it."""
    product, (red, _blue) = product_with_skus()
    client.get(f"/p/{product.id}")
    response = client.post_form("/cart/add", {"sku_id": red.id, "quantity": 1}, headers=HX)
    assert response.status_code == 200 and "session=" in response.headers.get("Set-Cookie", "")
    for url in (f"/p/{product.id}", f"/a/featuring/{product.id}", "/cart"):
        response = client.get(url, headers=EN)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url
    assert _quantities(client) == {red.id: 1}
