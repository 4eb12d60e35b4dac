"""The pickers the home page's backoffice needs beyond the catalogue's (shop.web.picking):
article and collection. Imported by shop/home/blueprint.py, so every app has them.

Decided: the article kind is registered here, not in shop.articles, because the home's
forms are its only users so far; it moves to shop/articles/picking.py if another domain
needs it (one registration per kind either way)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.articles.models import Article
from shop.home.models import Collection
from shop.web.picking import Choice, Kind, register


def describe_article(article: Article) -> Choice:
    when = article.published_at.strftime("%Y-%m-%d") if article.published_at else ""
    status = _("published %(day)s", day=when) if article.status == "published" else _("not published")
    return Choice("article", article.id, article.title, status, article.cover)


def describe_collection(collection: Collection) -> Choice:
    return Choice("collection", collection.id, collection.tr("title"),
                  "" if collection.published else _("not published"), collection.cover)


ARTICLE = register(Kind(
    name="article", label=_l("an article"), noun=_l("article"),
    hint=_l("Search by article title"), model=Article,
    statement=lambda: select(Article), columns=lambda: (Article.title,),
    describe=describe_article))

COLLECTION = register(Kind(
    name="collection", label=_l("a collection"), noun=_l("collection"),
    hint=_l("Search by collection title"), model=Collection,
    statement=lambda: select(Collection), columns=lambda: (Collection.title,),
    describe=describe_collection))
