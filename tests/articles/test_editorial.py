"""Editors write, review and publish; revisions; and every bad input refused with a
message and no change."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from shop.articles.models import Article, ArticleRevision
from shop.db import db, utcnow
from tests.articles.helpers import EN, embed, move, new_id, snapshot, write
from tests.conftest import signed_in
from tests.factories import ArticleCategoryFactory, ProductFactory, UserFactory, product_with_skus


def _editor(app, can_publish=False):
    client, user = signed_in(app, "editor")
    if can_publish:
        with app.app_context():
            db.session.get(type(user), user.id).can_publish = True
            db.session.commit()
    return client, user


def test_an_editor_writes_an_article_with_two_embeds_as_a_draft(app):
    client, editor = _editor(app)
    mango, _ = product_with_skus()
    cherry, _ = product_with_skus()
    topic = ArticleCategoryFactory()
    body = f"芒果要挑软的。\n\n{embed(mango.id)}\n\n车厘子看果梗。\n\n{embed(cherry.id)}\n"
    article_id = new_id(write(client, body=body, category_id=str(topic.id)))
    with app.app_context():
        article = db.session.get(Article, article_id)
        assert (article.status, article.author_id, article.revision) == ("draft", editor.id, 1)
        assert [e.product_id for e in article.embeds] == [mango.id, cherry.id]
        assert sorted(t.name for t in article.tags) == ["夏天", "水果"]
        assert article.category_id == topic.id and article.repromote_days is None
    page = client.get(f"/admin/articles/{article_id}/review", headers=EN).get_data(as_text=True)
    assert page.count('class="embed"') == 2 and "Send to review" in page and "Publish" not in page
    assert client.get(f"/a/{article_id}").status_code == 404  # a draft is not public


def test_the_workflow_draft_review_published_unpublished(app):
    client, editor = _editor(app)
    publisher, _ = _editor(app, can_publish=True)
    product, _ = product_with_skus()
    article_id = new_id(write(client, body=embed(product.id)))
    assert move(client, article_id, "review").status_code == 303
    before = snapshot(app)
    response = move(client, article_id, "published")
    assert response.status_code == 403
    assert "publishing right" in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert move(publisher, article_id, "published").status_code == 303
    assert client.get(f"/a/{article_id}").status_code == 200
    assert move(publisher, article_id, "draft").status_code == 303  # unpublish
    assert client.get(f"/a/{article_id}").status_code == 404
    with app.app_context():
        actions = db.session.scalars(select(ArticleRevision.action).order_by(ArticleRevision.number)).all()
        assert actions == ["saved", "submitted", "published", "unpublished"]
        assert db.session.get(Article, article_id).published_at is None


def test_a_scheduled_article_shows_from_its_time(app):
    client, _ = _editor(app, can_publish=True)
    article_id = new_id(write(client, title="定时发布"))
    # the form's time is read in the shop's zone (Asia/Shanghai)
    later = (utcnow() + timedelta(hours=2)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    assert move(client, article_id, "published", later).status_code == 303
    assert client.get(f"/a/{article_id}").status_code == 404
    assert "定时发布" not in client.get("/articles").get_data(as_text=True)
    assert "定时发布" in client.get("/admin/articles/review").get_data(as_text=True)
    with app.app_context():
        article = db.session.get(Article, article_id)
        assert timedelta(hours=1, minutes=58) < article.published_at - utcnow() <= timedelta(hours=2)
        article.published_at = utcnow() - timedelta(seconds=1)  # the time has come
        db.session.commit()
    assert client.get(f"/a/{article_id}").status_code == 200
    assert "定时发布" in client.get("/articles").get_data(as_text=True)
    past = (utcnow() - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    other = new_id(write(client, title="过去"))
    response = move(client, other, "published", past)
    assert response.status_code == 409 and "future" in response.get_data(as_text=True)


@pytest.mark.parametrize("field, value", [
    ("title", "<script>alert(1)</script>标题"),
    ("title", "<img src=x onerror=alert(1)>"),
    ("summary", "好文 <a href='javascript:alert(1)'>x</a>"),
    ("tags", "水果, <b>夏天</b>"),
    ("body", "<script>alert(1)</script>"),
    ("body", "正文 <iframe src=//evil.example></iframe>"),
    ("body", "<div hx-get='/admin' hx-trigger='load'>x</div>"),
    ("body", "<p style='position:fixed'>x</p>"),
    ("body", "[点我](javascript:alert(1))"),
])
def test_markup_payloads_are_refused_with_a_message(app, field, value):
    client, _ = _editor(app)
    product, _ = product_with_skus()
    article_id = new_id(write(client, body=embed(product.id)))
    before = snapshot(app)
    for target in (None, article_id):  # a new article, and an edit
        response = write(client, target, **{field: value, "revision": "1"})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert ("HTML tags" in html or "http(s)" in html), html[:2000]
        assert snapshot(app) == before


def test_embedding_a_missing_or_draft_product_is_refused(app):
    client, _ = _editor(app)
    draft = ProductFactory(status="draft")
    off = ProductFactory(status="off_sale")
    for product_id, message, newline in [(999999, "does not exist", "\n"),
                                         (999999, "does not exist", "\r\n"),  # as browsers send
                                         (draft.id, "is not on sale", "\r\n"),
                                         (off.id, "is not on sale", "\n")]:
        before = snapshot(app)
        response = write(client, body=f"看看{newline}{newline}{embed(product_id)}{newline}")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert snapshot(app) == before


def test_an_editor_may_not_edit_another_editors_draft_but_an_admin_may(app):
    owner, _ = _editor(app)
    other, _ = _editor(app, can_publish=True)  # even with the publishing right
    admin, _ = signed_in(app, "admin")
    article_id = new_id(write(owner, title="我的草稿"))
    before = snapshot(app)
    assert other.get(f"/admin/articles/{article_id}").status_code == 403
    response = write(other, article_id, title="改了", revision="1")
    assert response.status_code == 403
    assert "only admins may edit" in response.get_data(as_text=True)
    assert other.post_form(f"/admin/articles/{article_id}/history/1/restore").status_code == 403
    assert snapshot(app) == before
    shopper, _ = signed_in(app, "shopper")
    assert write(shopper, article_id, title="改了", revision="1").status_code == 403
    assert snapshot(app) == before
    assert write(admin, article_id, title="管理员改的", revision="1").status_code == 303
    with app.app_context():
        assert db.session.get(Article, article_id).title == "管理员改的"


def test_a_published_article_needs_the_right_to_edit(app):
    client, _ = _editor(app)
    admin, _ = signed_in(app, "admin")
    article_id = new_id(write(client))
    assert move(admin, article_id, "published").status_code == 303
    before = snapshot(app)
    response = write(client, article_id, title="偷偷改", revision="2")
    assert response.status_code == 403 and "publishing right" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_history_lists_who_and_when_and_restores_an_earlier_version(app):
    client, editor = _editor(app)
    article_id = new_id(write(client, title="第一版", body="旧正文"))
    assert write(client, article_id, title="第二版", body="新正文", revision="1").status_code == 303
    history = client.get(f"/admin/articles/{article_id}/history", headers=EN).get_data(as_text=True)
    assert "第一版" in history and "第二版" in history and editor.nickname in history
    assert client.post_form(f"/admin/articles/{article_id}/history/1/restore").status_code == 303
    with app.app_context():
        article = db.session.get(Article, article_id)
        assert (article.title, article.body_md, article.revision) == ("第一版", "旧正文", 3)
        last = db.session.scalar(select(ArticleRevision).where(ArticleRevision.number == 3))
        assert (last.action, last.restored_from, last.editor_id) == ("restored", 1, editor.id)
    assert client.post_form(f"/admin/articles/{article_id}/history/99/restore").status_code == 409


def test_a_save_over_a_newer_revision_is_refused(app):
    client, _ = _editor(app)
    article_id = new_id(write(client, title="一"))
    assert write(client, article_id, title="二", revision="1").status_code == 303
    before = snapshot(app)
    response = write(client, article_id, title="三", revision="1")  # opened before "二"
    assert response.status_code == 422 and "after you opened it" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_the_live_preview_renders_cards_and_problems_without_saving(app):
    client, _ = _editor(app)
    product, _ = product_with_skus(title="预览的芒果")
    before = snapshot(app)
    response = client.post_form("/admin/articles/preview",
                                {"body": f"**好吃**\n\n{embed(product.id)}\n\n{embed(424242)}"},
                                headers={"HX-Request": "true", **EN})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="preview"')
    assert "<strong>好吃</strong>" in html and f"Product {product.code}" in html  # its English title
    assert "Product 424242 does not exist" in html and "no longer on sale" in html
    assert snapshot(app) == before
    picker = client.get("/admin/articles/products?q=预览", headers={"HX-Request": "true"})
    assert f"[[product:{product.id}]]" in picker.get_data(as_text=True)


def test_line_and_page_breaks_pasted_from_a_word_processor_are_line_breaks(app):
    client, _ = _editor(app)
    response = client.post_form("/admin/articles/preview", {"body": "第一行\x0b第二行\x0c\x0c第三段"},
                                headers={"HX-Request": "true", **EN})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<p>第一行\n第二行</p>" in html and "<p>第三段</p>" in html


def test_publishing_rights_are_given_by_admins(app):
    admin, _ = signed_in(app, "admin")
    editor = UserFactory(role="editor")
    shopper = UserFactory()
    assert admin.post_form(f"/admin/articles/editors/{editor.id}/publishing").status_code == 303
    with app.app_context():
        assert db.session.get(type(editor), editor.id).can_publish is True
    assert admin.post_form(f"/admin/articles/editors/{shopper.id}/publishing").status_code == 404
    client, _ = _editor(app)
    assert client.post_form(f"/admin/articles/editors/{editor.id}/publishing").status_code == 403


def test_repromotion_lists_due_articles_until_marked_promoted(app):
    client, _ = _editor(app, can_publish=True)
    due_id = new_id(write(client, title="该推了", repromote="y", repromote_days="15"))
    fresh_id = new_id(write(client, title="刚发的", repromote="y", repromote_days="15"))
    never_id = new_id(write(client, title="不重推"))
    for article_id in (due_id, fresh_id, never_id):
        assert move(client, article_id, "published").status_code == 303
    with app.app_context():
        article = db.session.get(Article, due_id)
        article.published_at = utcnow() - timedelta(days=16)
        article.repromote_due_at = article.published_at + timedelta(days=15)
        db.session.commit()
    page = client.get("/admin/articles/due").get_data(as_text=True)
    assert "该推了" in page and "刚发的" not in page and "不重推" not in page
    assert client.post_form(f"/admin/articles/{due_id}/promoted").status_code == 303
    assert "该推了" not in client.get("/admin/articles/due").get_data(as_text=True)
    with app.app_context():
        article = db.session.get(Article, due_id)
        assert article.repromote_due_at - article.last_promoted_at == timedelta(days=15)
    response = client.post_form(f"/admin/articles/{never_id}/promoted")
    assert response.status_code == 409


def test_article_categories_are_kept_by_admins(app):
    admin, _ = signed_in(app, "admin")
    response = admin.post_form("/admin/articles/categories/new",
                               {"name": "好物", "name_en": "Picks", "slug": "picks", "position": "0",
                                "active": "y"})
    assert response.status_code == 303
    again = admin.post_form("/admin/articles/categories/new",
                            {"name": "重复", "slug": "picks", "position": "0"}, headers=EN)
    assert again.status_code == 422 and "already uses this slug" in again.get_data(as_text=True)
