"""Edges: embeds written other ways, the same product twice, paging by htmx, who sees the
review queue, stale workflow moves, rescheduling, re-promotion after re-publishing, tag
and title limits, ids too large, and attribution across sign-out and unpublishing."""

import re
from datetime import timedelta

from sqlalchemy import select

from shop.articles.models import Article
from shop.db import db, utcnow
from tests.articles.helpers import EN, embed, move, new_id, snapshot, write
from tests.articles.test_attribution import _buy, _shopper, _sources
from tests.conftest import signed_in
from tests.factories import ArticleFactory, UserFactory, product_with_skus


def _publisher(app):
    client, user = signed_in(app, "editor")
    with app.app_context():
        db.session.get(type(user), user.id).can_publish = True
        db.session.commit()
    return client, user


def test_embeds_in_quotes_and_lists_are_checked_like_any_other(app):
    client, _ = signed_in(app, "editor")
    for body in (f"> {embed(999999)}", f"1. {embed(999999)}\n\n   text", "\\[\\[product:999999\\]\\]"):
        before = snapshot(app)
        response = write(client, body=body)
        assert response.status_code == 422, body
        assert "does not exist" in response.get_data(as_text=True)
        assert snapshot(app) == before
    product, _ = product_with_skus()
    article_id = new_id(write(client, body=f"```\n{embed(999999)}\n```\n\n> {embed(product.id)}"))
    with app.app_context():  # the fenced one is text; the quoted one is a card
        assert [e.product_id for e in db.session.get(Article, article_id).embeds] == [product.id]


def test_a_product_shown_twice_keeps_its_cards_apart(app, client):
    product, _ = product_with_skus()
    article = ArticleFactory(body_md=f"{embed(product.id)}\n\n中间\n\n{embed(product.id)}")
    html = client.get(f"/a/{article.id}").get_data(as_text=True)
    ids = re.findall(r' id="([^"]+)"', html)
    assert html.count('class="embed"') == 2 and len(ids) == len(set(ids))


def test_the_content_tab_pages_through_htmx(app, client):
    editor = UserFactory(role="editor")
    for n in range(21):
        ArticleFactory(author=editor, title=f"第{n}篇", published_at=utcnow() - timedelta(minutes=n + 1))
    first = client.get("/articles").get_data(as_text=True)
    assert 'href="/articles?page=2"' in first and "第20篇" not in first
    response = client.get("/articles?page=2", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "第20篇" in html and 'id="results"' not in html


def test_only_publishers_see_the_review_queue(app):
    writer, _ = signed_in(app, "editor")
    new_id(write(writer, title="待审的稿子"))
    other, _ = signed_in(app, "editor")
    assert other.get("/admin/articles/review").status_code == 403
    publisher, _ = _publisher(app)
    assert publisher.get("/admin/articles/review").status_code == 200


def test_a_move_on_content_changed_since_it_was_seen_is_refused(app):
    writer, _ = signed_in(app, "editor")
    publisher, _ = _publisher(app)
    article_id = new_id(write(writer, body="原文"))
    assert move(writer, article_id, "review").status_code == 303  # revision 2
    page = publisher.get(f"/admin/articles/{article_id}/review").get_data(as_text=True)
    seen = re.search(r'name="revision" value="(\d+)"', page).group(1)
    assert write(writer, article_id, body="偷换的正文", revision="2").status_code == 303
    before = snapshot(app)
    response = publisher.post_form(f"/admin/articles/{article_id}/status",
                                   {"to": "published", "revision": seen}, headers=EN)
    assert response.status_code == 409 and "changed after you opened it" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_republishing_needs_a_new_time_and_restarts_nothing_by_itself(app):
    client, _ = _publisher(app)
    article_id = new_id(write(client, repromote="y", repromote_days="15"))
    assert move(client, article_id, "published").status_code == 303
    before = snapshot(app)
    response = move(client, article_id, "published")
    assert response.status_code == 409 and "reschedule" in response.get_data(as_text=True)
    assert snapshot(app) == before
    with app.app_context():  # promoted 40 days ago, then unpublished, then published again today
        article = db.session.get(Article, article_id)
        article.last_promoted_at = utcnow() - timedelta(days=40)
        db.session.commit()
    assert move(client, article_id, "draft").status_code == 303
    assert move(client, article_id, "published").status_code == 303
    assert "No article is due." in client.get("/admin/articles/due", headers=EN).get_data(as_text=True)
    with app.app_context():
        article = db.session.get(Article, article_id)
        assert article.repromote_due_at - article.published_at == timedelta(days=15)


def test_tags_and_titles_past_their_limits_are_refused(app):
    client, _ = signed_in(app, "editor")
    for fields, message in [({"tags": "a" * 33}, "at most 32 characters"),
                            ({"tags": ", ".join(f"t{i}" for i in range(9))}, "at most 8 tags"),
                            ({"title": "   "}, "This field is required")]:
        before = snapshot(app)
        response = write(client, **fields)
        assert response.status_code == 422 and message in response.get_data(as_text=True), fields
        assert snapshot(app) == before


def test_ids_larger_than_a_column_holds_are_404s(app, client):
    for url in ("/a/99999999999999999999", "/articles?c=99999999999999999999",
                "/p/99999999999999999999", "/articles?c=abc"):
        assert client.get(url).status_code == 404, url


def test_attribution_is_not_handed_to_the_next_person_or_to_an_unpublished_article(app):
    mango, (sku, _) = product_with_skus()
    article = ArticleFactory(body_md=embed(mango.id))
    first, _ = _shopper(app)
    assert first.post_form(f"/a/{article.id}/click/{mango.id}").status_code == 204
    first.post_form("/signout")
    second = UserFactory()
    from shop.wallet import services as wallet
    with app.app_context():
        wallet.move(second.id, 100_000, reason="t", ref_type="t", ref_id="second")
        db.session.commit()
    first.signin(second.email)
    assert _sources(app, _buy(first, sku.id)) == {mango.id: None}

    buyer, _ = _shopper(app)
    assert buyer.post_form(f"/a/{article.id}/click/{mango.id}").status_code == 204
    with app.app_context():
        db.session.get(Article, article.id).status = "draft"
        db.session.commit()
    assert _sources(app, _buy(buyer, sku.id)) == {mango.id: None}
    with app.app_context():
        assert db.session.scalar(select(Article.status).where(Article.id == article.id)) == "draft"
