"""Queries per backoffice page do not grow with the rows it lists: every page that takes
no id is opened with two of everything in the shop, then with six, and must run the
same number of SQL statements (DESIGN §8)."""

import pytest

from tests.admin.world import make_world, url_for_rule
from tests.conftest import counted_queries, signed_in

pytestmark = pytest.mark.pages  # backoffice query counts (SQLite pass only)

EN = {"Accept-Language": "en"}


def _count(app, client, url: str) -> int:
    with counted_queries(app) as statements:
        response = client.get(url, headers=EN)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)


def test_backoffice_lists_cost_the_same_queries_for_two_or_six_of_everything(app):
    ids = make_world(app, copies=2)
    client, _admin = signed_in(app, "admin")
    rules = [rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments
             and getattr(app.view_functions[rule.endpoint], "required_roles", None)
             and not rule.endpoint.endswith(("export_csv", "admin_export"))]
    assert len(rules) > 40
    urls = sorted(url_for_rule(rule, ids) for rule in rules)
    for url in urls:  # warm the caches (chrome, settings rows) before counting
        client.get(url, headers=EN)
    before = {url: _count(app, client, url) for url in urls}
    make_world(app, copies=4)
    after = {url: _count(app, client, url) for url in urls}
    grown = {url: (before[url], after[url]) for url in urls if after[url] != before[url]}
    assert not grown, grown
