"""The pickers the home page's backoffice needs beyond the catalogue's (shop.web.picking):
article, collection, and the offers a campaign strip may show (groupbuy, flashitem,
bargain). Imported by shop/home/blueprint.py, so every app has them.

Decided: the article and offer kinds are registered here, not in shop.articles, because the home's
forms are its only users so far; it moves to shop/articles/picking.py if another domain
needs it (one registration per kind either way)."""

from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop.articles.models import Article
from shop.bargains.models import BargainCampaign
from shop.catalog.models import Product, Sku
from shop.groups.models import GroupCampaign
from shop.home.models import Collection
from shop.money import format_minor
from shop.promotions.models import FlashItem
from shop.web.picking import Choice, Kind, register


def _when(starts_at, ends_at) -> str:
    return f"{format_datetime(starts_at, 'short')} – {format_datetime(ends_at, 'short')}"


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


def describe_group_buy(c: GroupCampaign) -> Choice:
    return Choice("groupbuy", c.id, c.product.tr("title"),
                  ngettext("%(num)d person", "%(num)d people", c.group_size) + " · " + _when(c.starts_at, c.ends_at),
                  c.product.cover)


def describe_flash_item(item: FlashItem) -> Choice:
    return Choice("flashitem", item.id, item.sku.product.tr("title"),
                  f"{item.session.name} · {format_minor(item.price_minor, item.currency)} · "
                  + _when(item.session.starts_at, item.session.ends_at), item.sku.product.cover)


def describe_bargain(c: BargainCampaign) -> Choice:
    return Choice("bargain", c.id, c.product.tr("title"),
                  f"{format_minor(c.floor_price_minor, c.currency)} · " + _when(c.starts_at, c.ends_at),
                  c.product.cover)


GROUP_BUY = register(Kind(
    name="groupbuy", label=_l("a group buy"), noun=_l("group buy"),
    hint=_l("Search by product name"), model=GroupCampaign,
    statement=lambda: select(GroupCampaign).join(Product, GroupCampaign.product_id == Product.id)
    .options(selectinload(GroupCampaign.product).selectinload(Product.images)),
    columns=lambda: (Product.title,), describe=describe_group_buy))

FLASH_ITEM = register(Kind(
    name="flashitem", label=_l("a flash sale item"), noun=_l("flash sale item"),
    hint=_l("Search by product name"), model=FlashItem,
    statement=lambda: select(FlashItem).join(Sku, FlashItem.sku_id == Sku.id)
    .join(Product, Sku.product_id == Product.id)
    .options(joinedload(FlashItem.sku).joinedload(Sku.product).selectinload(Product.images)),
    columns=lambda: (Product.title,), describe=describe_flash_item))

BARGAIN = register(Kind(
    name="bargain", label=_l("a bargain"), noun=_l("bargain"),
    hint=_l("Search by product name"), model=BargainCampaign,
    statement=lambda: select(BargainCampaign).join(Product, BargainCampaign.product_id == Product.id)
    .options(selectinload(BargainCampaign.product).selectinload(Product.images)),
    columns=lambda: (Product.title,), describe=describe_bargain))
