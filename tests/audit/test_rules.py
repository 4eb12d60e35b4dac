"""Which requests are backoffice actions, checked against the whole URL map, and the order
of the hooks around the request edge's commit."""

from __future__ import annotations

import pytest

from shop.audit.recording import _after_edge, _before_edge
from shop.web.auth import is_backoffice
from shop.db import SAFE_METHODS
from shop.web.lifecycle import finish_request

pytestmark = pytest.mark.pages  # which routes are backoffice actions (SQLite pass only)


def _rules(app):
    return [(rule, app.view_functions[rule.endpoint]) for rule in app.url_map.iter_rules()]


def test_every_route_under_admin_and_every_role_guarded_view_is_recorded(app):
    rules = _rules(app)
    under_admin = [(rule, view) for rule, view in rules if rule.rule.startswith("/admin")]
    assert len(under_admin) >= 80
    for rule, view in under_admin:
        assert is_backoffice(rule, view), rule.endpoint
    for rule, view in rules:
        if getattr(view, "required_roles", None):
            assert is_backoffice(rule, view), rule.endpoint
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint == "admin" or blueprint.endswith("_admin"):
            assert is_backoffice(rule, view), rule.endpoint
    # the backoffice pages that live in a shopper blueprint are among them
    endpoints = {rule.endpoint for rule, view in under_admin}
    assert {"orders.admin_ship", "orders.admin_refund", "wallet.adjust"} <= endpoints


def test_shopper_routes_are_not_backoffice(app):
    shopper_posts = [(rule, view) for rule, view in _rules(app)
                     if not rule.rule.startswith("/admin") and (rule.methods or set()) - SAFE_METHODS]
    assert {rule.endpoint for rule, _view in shopper_posts} >= {"cart.add", "accounts.signin"}
    for rule, view in shopper_posts:
        assert not is_backoffice(rule, view), rule.endpoint


def test_the_hooks_surround_the_edge_commit(app):
    """Flask runs after_request functions last registered first: the success's entry is
    added before the edge commits, a refusal's written after the edge rolled back."""
    funcs = app.after_request_funcs[None]
    assert funcs.index(_after_edge) < funcs.index(finish_request) < funcs.index(_before_edge)
