"""Every backoffice route, fragments included, checks the role with the one decorator."""

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from shop.catalog.models import Category, Product, ProductImage, Sku
from shop.db import db
from tests.conftest import signed_in
from tests.factories import ProductImageFactory, product_with_skus

pytestmark = pytest.mark.pages  # the role guard of every backoffice route (SQLite pass only)


def _backoffice_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def _url(rule, ids: dict) -> str:
    """The rule with real ids, so a refused request would have had something to change."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)


def _state(app):
    with app.app_context():
        rows = [db.session.scalars(select(model)).all() for model in (Category, Product, Sku, ProductImage)]
        return [sorted((type(r).__name__, r.id, repr(sorted(
            (c.key, getattr(r, c.key)) for c in r.__table__.columns))) for r in group) for group in rows]


def test_every_backoffice_view_carries_the_role_decorator(app):
    rules = _backoffice_rules(app)
    assert len(rules) >= 8
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "required_roles", None), f"{rule.endpoint} has no role check"


@pytest.mark.parametrize("role", ["anonymous", "shopper", "editor", "staff"])
def test_backoffice_routes_refuse_roles_they_are_not_for(app, role):
    if role == "anonymous":
        client = app.test_client()
    else:
        client, _user = signed_in(app, role)
    product, _skus = product_with_skus()
    image = ProductImageFactory(product=product)
    ids = {"product_id": product.id, "category_id": product.category_id, "image_id": image.id}
    before = _state(app)
    token = client.csrf_token()
    refused = [rule for rule in _backoffice_rules(app)
               if role not in app.view_functions[rule.endpoint].required_roles]
    assert len(refused) >= 7
    for rule in refused:
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for headers in ({}, {"HX-Request": "true"}):
                response = client.open(_url(rule, ids), method=method, headers=headers,
                                       data={"csrf_token": token} if method == "POST" else None)
                if role == "anonymous":
                    expected = 401 if headers else 302
                    assert response.status_code == expected, (rule.rule, method, headers)
                    # back to the page asked for; a POST or a fragment has none to give
                    # (no referrer here): a 405 or a bare fragment after signing in
                    goes = response.headers["HX-Redirect" if headers else "Location"]
                    if method == "GET" and not headers:
                        assert goes == "/signin?" + urlencode({"next": _url(rule, ids)})
                    else:
                        assert goes == "/signin", (rule.rule, method, goes)
                else:
                    assert response.status_code == 403, (rule.rule, method, role, headers)
    assert _state(app) == before


def test_backoffice_home_is_for_backoffice_roles(app):
    for role, expected in [("shopper", 403), ("editor", 200), ("staff", 200), ("admin", 200)]:
        client, _user = signed_in(app, role)
        assert client.get("/admin/").status_code == expected, role
