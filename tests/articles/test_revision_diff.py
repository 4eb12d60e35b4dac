"""Before restoring a revision the editor reads what changed: title and summary word by
word, the body line by line (its Markdown source, escaped), products added and removed;
the restore button is on that page."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from shop.articles.diff import lines, words
from shop.articles.models import Article, ArticleRevision
from shop.db import db
from tests.articles.helpers import EN, new_id, snapshot, write
from tests.conftest import signed_in
from tests.factories import product_with_skus

BODY_1 = "第一段不变。\n\n第二段是旧的说法。\n\n第三段也不变。"
BODY_2 = "第一段不变。\n\n第二段换了新的说法，更长。\n\n第三段也不变。"


def _lines(html: str, op: str) -> list[str]:
    return re.findall(rf'<div class="diff-line {op}">(.*?)</div>', html, re.S)


def test_words_and_lines():
    assert [(p.op, p.text) for p in words("red apple pie", "green apple pie")] == [
        ("delete", "red"), ("insert", "green"), ("equal", " apple pie")]
    assert [(p.op, p.text) for p in words("夏天吃西瓜", "夏天吃桃")] == [
        ("equal", "夏天吃"), ("delete", "西瓜"), ("insert", "桃")]
    result = lines("a\nb\nc", "a\nc\nd")
    assert [(line.op, "".join(p.text for p in line.pieces)) for line in result] == [
        ("equal", "a"), ("delete", "b"), ("equal", "c"), ("insert", "d")]


def test_one_changed_paragraph_shows_as_deleted_and_inserted_and_nothing_else(app):
    client, editor = signed_in(app, "editor")
    article_id = new_id(write(client, title="夏天吃什么", body=BODY_1))
    assert write(client, article_id, title="夏天吃什么", body=BODY_2, revision="1").status_code == 303
    response = client.get(f"/admin/articles/{article_id}/history/1/diff", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Revision 1 → revision 2" in html
    deleted, inserted = _lines(html, "delete"), _lines(html, "insert")
    assert len(deleted) == 1 and len(inserted) == 1
    assert re.sub(r"<[^>]+>", "", deleted[0]).endswith("第二段是旧的说法。")
    assert re.sub(r"<[^>]+>", "", inserted[0]).endswith("第二段换了新的说法，更长。")
    assert "<del>" in deleted[0] and "<ins>" in inserted[0]
    kept = [re.sub(r"<[^>]+>", "", line) for line in _lines(html, "equal")]
    assert kept == ["第一段不变。", "", "", "第三段也不变。"]
    # the title and summary did not change: nothing marked in them
    title = html.split('data-testid="diff-title">', 1)[1].split("</p>", 1)[0]
    assert title == "夏天吃什么"
    assert "The same products." in html
    # the restore button is here, posting with the CSRF token, for the older revision
    assert re.search(rf'<form method="post" action="/admin/articles/{article_id}/history/1/restore">\s*'
                     r'<input type="hidden" name="csrf_token" value="[^"]+">', html)
    history = client.get(f"/admin/articles/{article_id}/history", headers=EN).get_data(as_text=True)
    assert f"/admin/articles/{article_id}/history/1/diff" in history
    assert f"/admin/articles/{article_id}/history/2/diff?against=1" in history
    # the same two revisions, from the newer one's side (what revision 2 changed)
    same = client.get(f"/admin/articles/{article_id}/history/2/diff?against=1", headers=EN)
    assert _lines(same.get_data(as_text=True), "delete") == deleted
    assert "Restore revision" not in same.get_data(as_text=True)  # 2 is the current one
    # reading changes nothing
    before = snapshot(app)
    client.get(f"/admin/articles/{article_id}/history/1/diff")
    assert snapshot(app) == before


def test_html_in_a_revision_body_is_shown_escaped(app):
    client, _editor = signed_in(app, "editor")
    article_id = new_id(write(client, title="标题", body="正文。"))
    assert write(client, article_id, title="新标题", body="新正文。", revision="1").status_code == 303
    with app.app_context():  # a body from before the sanitiser, or written straight to the table
        db.session.execute(update(ArticleRevision).where(
            ArticleRevision.article_id == article_id, ArticleRevision.number == 1)
            .values(title="<b>粗</b>标题",
                    body_md='<script>alert("x")</script>\n<img src=x onerror=alert(1)>'))
        db.session.commit()
    html = client.get(f"/admin/articles/{article_id}/history/1/diff", headers=EN).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>粗</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;粗&lt;/b&gt;" in html


def test_embedded_products_added_and_removed(app):
    client, _editor = signed_in(app, "editor")
    kept, _skus = product_with_skus(title="留下的商品")
    gone, _skus = product_with_skus(title="拿掉的商品")
    new, _skus = product_with_skus(title="新加的商品")
    article_id = new_id(write(client, body=f"开头。\n\n[[product:{kept.id}]]\n\n[[product:{gone.id}]]"))
    assert write(client, article_id, revision="1",
                 body=f"开头。\n\n[[product:{kept.id}]]\n\n[[product:{new.id}]]").status_code == 303
    html = client.get(f"/admin/articles/{article_id}/history/1/diff", headers=EN).get_data(as_text=True)
    products = html.split('data-testid="diff-products">', 1)[1].split("</ul>", 1)[0]
    assert "<ins>Added: 新加的商品</ins>" in products and "<del>Removed: 拿掉的商品</del>" in products
    assert "留下的商品" not in products


def test_unknown_revisions_and_other_editors(app):
    client, _editor = signed_in(app, "editor")
    article_id = new_id(write(client))
    base = f"/admin/articles/{article_id}/history"
    assert client.get(f"{base}/1/diff").status_code == 200
    assert "This is the current revision." in client.get(f"{base}/1/diff", headers=EN).get_data(as_text=True)
    for url in (f"{base}/9/diff", f"{base}/1/diff?against=9", f"{base}/1/diff?against=x",
                f"{base}/1/diff?against=0", "/admin/articles/999999/history/1/diff"):
        assert client.get(url).status_code == 404, url
    other, _user = signed_in(app, "editor")
    assert other.get(f"{base}/1/diff").status_code == 403
    shopper, _user = signed_in(app, "shopper")
    assert shopper.get(f"{base}/1/diff").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Article.revision).where(Article.id == article_id)) == 1
