"""Small things every shopper sees: the shop's icon where browsers look for it, and the
wallet page's recharge packages and history heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import signed_in
from tests.factories import RechargePackageFactory

CSS = re.sub(r"/\*.*?\*/", "", (Path(__file__).parents[2] / "static/css/app.css").read_text(), flags=re.S)


def _has_rule(selector: str, declaration: str) -> bool:
    """Whether app.css gives `selector` (alone or in a list) the declaration."""
    return any(selector in [s.strip() for s in sel.split(",")] and declaration in body
               for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS))


@pytest.mark.pages
def test_the_favicon_is_linked_and_served_where_browsers_ask(client):
    page = client.get("/signin").get_data(as_text=True)
    assert '<link rel="icon" href="/static/img/icon.svg" type="image/svg+xml">' in page
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.get_data()[:4] == b"\0\0\1\0"  # an ICO file


def test_the_wallet_lists_packages_without_bullets_under_its_own_headings(app, monkeypatch):
    for key in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY"):  # packages show with cards on
        monkeypatch.setitem(app.config, key, "sk_or_pk_test")
    client, _user = signed_in(app)
    RechargePackageFactory()
    page = client.get("/wallet", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<ul class="packages">' in page and _has_rule(".packages", "list-style:none")
    assert '<h2 class="section-title">Wallet history</h2>' in page
