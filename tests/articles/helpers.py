"""Shared steps of the article tests."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shop.articles.models import Article, ArticleRevision
from shop.db import db

EN = {"Accept-Language": "en"}


def article_form(**fields) -> dict:
    data = {"title": "夏天吃什么", "summary": "两样水果", "category_id": "0", "tags": "水果, 夏天",
            "body": "正文。", "revision": "0", "repromote_days": "15"}
    data.update(fields)
    return data


def write(client, article_id: int | None = None, **fields):
    url = f"/admin/articles/{article_id}" if article_id else "/admin/articles/new"
    return client.post_form(url, article_form(**fields), headers=EN)


def new_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(re.search(r"/admin/articles/(\d+)$", response.headers["Location"]).group(1))


def move(client, article_id: int, to: str, publish_at: str = ""):
    return client.post_form(f"/admin/articles/{article_id}/status",
                            {"to": to, "publish_at": publish_at}, headers=EN)


def snapshot(app, article_id: int | None = None):
    """Everything about articles that a refused request must leave as it was."""
    with app.app_context():
        rows = db.session.scalars(select(Article).order_by(Article.id)).all()
        state = [(a.id, a.title, a.summary, a.body_md, a.status, a.published_at, a.revision,
                  a.author_id) for a in rows]
        return state, db.session.scalar(select(func.count()).select_from(ArticleRevision))


def embed(product_id: int) -> str:
    return f"[[product:{product_id}]]"
