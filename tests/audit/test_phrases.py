"""The audit log in words (shop.audit.phrases): every backoffice action has a phrase, the
thing acted on is named and linked, an action missing from the registry still reads as
words, and a page's names are looked up in a bounded number of queries."""

from __future__ import annotations

import re

from flask_babel import force_locale

from shop.audit import phrases
from shop.db import SAFE_METHODS
from shop.web.auth import is_backoffice
from tests.conftest import counted_queries
from tests.factories import (AuditEntryFactory, CouponFactory, StoreFactory, UserFactory,
                             product_with_skus)

EN = {"Accept-Language": "en"}


def _sentences(html: str) -> list[str]:
    """Each entry's sentence as text (tags dropped, spaces folded)."""
    found = re.findall(r'<span class="audit-sentence[^"]*" data-testid="sentence">(.*?)\n</span>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", s).split()) for s in found]


def test_every_backoffice_action_of_the_url_map_has_a_phrase(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if (rule.methods or set()) - SAFE_METHODS
             and is_backoffice(rule, app.view_functions.get(rule.endpoint))}
    assert len(posts) > 50 and "promotions_admin.new_coupon" in posts
    missing = sorted(posts - set(phrases.ACTIONS))
    assert not missing, f"add a phrase to shop.audit.phrases.ACTIONS for: {missing}"
    areas = {endpoint.rpartition(".")[0] for endpoint in posts}
    assert areas <= set(phrases.AREAS), f"name these areas in phrases.AREAS: {areas - set(phrases.AREAS)}"
    with app.test_request_context(), force_locale("en"):
        for endpoint, action in phrases.ACTIONS.items():
            texts = [str(action.done), str(action.tried)] + [
                str(text) for pair in (action.new, action.price) if pair for text in pair]
            for text in texts:  # words, never a name of code or a placeholder left in
                assert text and "_" not in text and "%" not in text and "." not in text, endpoint
            assert action.kind is None or action.kind in phrases.KINDS, endpoint
            if action.arg is not None and endpoint in posts:  # the id is in the URL
                arguments = set().union(*(rule.arguments for rule in app.url_map.iter_rules(endpoint)))
                assert action.arg in arguments, endpoint


def test_sentences_name_and_link_the_thing(app, admin_client):
    product, _skus = product_with_skus(title="苹果汁")
    coupon = CouponFactory(name="满99减15")
    store = StoreFactory(name="西湖店")
    editor = UserFactory(role="editor", nickname="编辑小张")
    customer = UserFactory(nickname="顾客王")
    AuditEntryFactory(actor_id=editor.id, actor_role="editor", endpoint="promotions_admin.new_coupon",
                      target="", changes=[{"table": "coupons", "id": coupon.id, "op": "insert",
                                           "before": {}, "after": {"name": "满99减15"}}])
    AuditEntryFactory(actor_id=editor.id, actor_role="editor", endpoint="catalog_admin.product_form",
                      target=f"product_id={product.id}",
                      changes=[{"table": "skus", "id": 3, "op": "update",
                                "before": {"price_minor": 1990}, "after": {"price_minor": 1590}}])
    AuditEntryFactory(actor_id=editor.id, actor_role="editor", endpoint="catalog_admin.product_form",
                      target=f"product_id={product.id}",
                      changes=[{"table": "products", "id": product.id, "op": "update",
                                "before": {"title": "旧"}, "after": {"title": "苹果汁"}}])
    AuditEntryFactory(endpoint="stores_admin.store_form", target=f"store_id={store.id}", status=422)
    AuditEntryFactory(endpoint="orders.admin_refund", target="order_id=12", path="/admin/orders/12/refund")
    AuditEntryFactory(endpoint="referrals_admin.standing", target=f"user_id={customer.id}")
    AuditEntryFactory(endpoint="someone_admin.not_registered", target="",
                      changes=[{"table": "products", "id": 1, "op": "update", "before": {}, "after": {}},
                               {"table": "products", "id": 2, "op": "update", "before": {}, "after": {}}])
    AuditEntryFactory(endpoint="someone_admin.not_registered", target="", status=409)
    html = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    said = _sentences(html)
    assert said[-1] == "编辑小张 (Editor) created coupon 满99减15"
    assert said[-2] == "编辑小张 (Editor) changed the price of product 苹果汁"
    assert said[-3] == "编辑小张 (Editor) changed product 苹果汁"
    assert said[-4].endswith("(Admin) refused change store 西湖店 (the form had errors)")
    assert said[-5].endswith("(Admin) refunded order #12 (deleted)")  # no order 12: no link
    assert said[-6].endswith("(Admin) changed the distributor standing of 顾客王")
    assert said[-7].endswith("(Admin) changed 2 rows in products")
    assert said[-8].endswith("(Admin) refused tried a backoffice action (not possible in this state)")
    assert f'<a href="/admin/promotions/coupons/{coupon.id}">满99减15</a>' in html
    assert f'<a href="/admin/catalog/products/{product.id}">苹果汁</a>' in html
    assert f'<a href="/admin/stores/{store.id}">西湖店</a>' in html
    assert '<a href="/admin/orders/12">' not in html
    # the customer's page, where it exists (accounts_admin.customer); the name alone if not
    with app.test_request_context():
        has_page = "accounts_admin.customer" in app.view_functions
    assert (f'<a href="/admin/customers/{customer.id}">顾客王</a>' in html) == has_page
    rows = html.split('data-testid="audit-log"', 1)[1]
    assert "someone_admin" not in rows and "not_registered" not in rows


def test_names_are_looked_up_in_one_query_per_kind(app, admin_client):
    def entries(n: int) -> None:
        for _ in range(n):
            product, _skus = product_with_skus()
            AuditEntryFactory(endpoint="catalog_admin.archive", target=f"product_id={product.id}")
            AuditEntryFactory(endpoint="promotions_admin.edit_coupon",
                              target=f"coupon_id={CouponFactory().id}")
            AuditEntryFactory(endpoint="stores_admin.store_form", target=f"store_id={StoreFactory().id}")

    entries(2)
    with counted_queries(app) as statements:
        few = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    baseline = len(statements)
    entries(14)
    with counted_queries(app) as statements:
        many = admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True)
    assert len(_sentences(few)) == 6 and len(_sentences(many)) == 48
    assert len(statements) == baseline
    assert all("archived product" in s or "changed coupon" in s or "changed store" in s
               for s in _sentences(many))


def test_a_real_action_reads_as_a_sentence(app, admin_client):
    product, _skus = product_with_skus(title="真实的商品")
    response = admin_client.post_form(f"/admin/catalog/products/{product.id}/archive")
    assert response.status_code in (302, 303)
    said = _sentences(admin_client.get("/admin/audit/", headers=EN).get_data(as_text=True))
    assert len(said) == 1 and said[0].endswith("(Admin) archived product 真实的商品")


def test_the_phrases_render_in_chinese_too(app, admin_client):
    AuditEntryFactory(endpoint="orders.admin_refund", target="order_id=12", status=403)
    response = admin_client.get("/admin/audit/", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200 and len(_sentences(response.get_data(as_text=True))) == 1
