"""The home page's rules: which blocks show when, what each shows, and the editors'
changes to blocks, slides and collections. Services flush, never commit; every change
bumps the "home" cache version, part of the home page's fragment key.

Reading the home costs a fixed number of queries whatever the number of blocks of a
kind: one for the blocks (slides and collections ride along), one per kind of slide
target, one for all picked collections' products, one per rule collection (a block each,
bounded by what an editor puts on one page), one for articles, one for categories and
one per kind of campaign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from shop.articles import services as articles
from shop.articles.models import Article
from shop.bargains import services as bargains
from shop.catalog import services as catalog
from shop.catalog.models import Category, Product, Sku
from shop.db import bump_version, db, utcnow
from shop.groups.models import GroupCampaign, GroupCampaignSku
from shop.home.models import (BLOCK_KINDS, CAMPAIGN_PAGES, Collection, CollectionProduct,
                              HomeBlock, HomeSlide)
from shop.media.services import StoredImage, forget_files
from shop.promotions.models import FlashItem, FlashSession

BLOCK_LABELS = {"banner": _l("Banner carousel"), "campaigns": _l("Campaign strip"),
                "collection": _l("Product collection"), "articles": _l("Article list"),
                "categories": _l("Category grid")}
assert set(BLOCK_LABELS) == set(BLOCK_KINDS)
# The campaign pages a slide may open: name -> (endpoint, label).
CAMPAIGN_ENDPOINTS = {"groups": ("groups.index", _l("Group buys")),
                      "flash": ("promotions.flash_index", _l("Flash sale")),
                      "bargains": ("bargains.index", _l("Bargains")),
                      "coupons": ("promotions.claim_centre", _l("Coupon centre"))}
assert set(CAMPAIGN_ENDPOINTS) == set(CAMPAIGN_PAGES)
CAMPAIGN_KINDS = {"groups": _l("Group buys"), "flash": _l("Flash sale"),
                  "bargains": _l("Bargains")}
MAX_BLOCK_ITEMS = 12  # articles, campaigns, categories in one block


class HomeError(ValueError):
    """A change refused, with a message for the editor."""


def bump() -> None:
    bump_version("home")


# --- reading: the shopper's home ------------------------------------------------------------


@dataclass
class Campaign:
    """A running offer in a campaign strip."""

    kind: str  # groups, flash, bargains
    id: int  # the campaign's (flash: the item's) id
    product: Product
    price_minor: int
    currency: str


@dataclass
class Shown:
    """A block as drawn: its row and what it shows (only what shoppers may see now)."""

    block: HomeBlock
    slides: list[HomeSlide] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)


def any_blocks() -> bool:
    """Whether editors have made any block at all (a fresh shop has none and shows the
    built-in home: categories, featured products, articles)."""
    return db.session.scalar(select(HomeBlock.id).limit(1)) is not None


def all_blocks() -> list[HomeBlock]:
    """Every block in order, with its slides and collection (two queries)."""
    return list(db.session.scalars(
        select(HomeBlock).options(selectinload(HomeBlock.slides), joinedload(HomeBlock.collection))
        .order_by(HomeBlock.position, HomeBlock.id)).unique())


def home_blocks(now: datetime | None = None, *, preview: bool = False) -> list[Shown]:
    """The blocks shoppers see at `now` (published, in their window), in order, each with
    what it shows. preview=True: unpublished blocks too (the editors' preview). Blocks
    with nothing to show (a banner whose links all went, an empty collection) are left out.
    Reads only."""
    now = now or utcnow()
    blocks = [b for b in all_blocks() if (preview or b.published) and b.in_window(now)]
    shown = [Shown(b) for b in blocks]
    _fill_slides(shown, now)
    _fill_collections(shown, preview)
    _fill_articles(shown, now)
    _fill_categories(shown)
    _fill_campaigns(shown, now)
    return [s for s in shown if s.slides or s.products or s.articles or s.categories
            or s.campaigns]


def _fill_slides(shown: list[Shown], now: datetime) -> None:
    """A slide shows when its target is there for shoppers: a product on sale, an article
    published by now, a published collection, an active category, a campaign page."""
    slides = [slide for s in shown if s.block.kind == "banner" for slide in s.block.slides]
    wanted: dict[str, set[int]] = defaultdict(set)
    for slide in slides:
        if slide.link_id is not None:
            wanted[slide.link_kind].add(slide.link_id)
    there = {kind: _existing(kind, ids, now) for kind, ids in wanted.items()}
    for s in shown:
        if s.block.kind == "banner":
            s.slides = [slide for slide in s.block.slides
                        if (slide.link_kind == "campaign" and slide.link_page in CAMPAIGN_ENDPOINTS)
                        or slide.link_id in there.get(slide.link_kind, ())]


def _existing(kind: str, ids: set[int], now: datetime) -> set[int]:
    """Which of `ids` of `kind` a shopper may open at `now` (one query)."""
    if kind == "product":
        query = select(Product.id).where(Product.status == "on_sale", Product.archived_at.is_(None),
                                         Product.id.in_(ids))
    elif kind == "article":
        query = select(Article.id).where(articles.is_visible(now), Article.id.in_(ids))
    elif kind == "collection":
        query = select(Collection.id).where(Collection.published.is_(True), Collection.id.in_(ids))
    elif kind == "category":
        query = select(Category.id).where(Category.active.is_(True), Category.id.in_(ids))
    else:
        return set()
    return set(db.session.scalars(query))


def _fill_collections(shown: list[Shown], preview: bool) -> None:
    with_collection = [s for s in shown if s.block.kind == "collection" and s.block.collection
                       and (preview or s.block.collection.published)]
    products = collections_products([s.block.collection for s in with_collection])
    for s in with_collection:
        s.products = products[s.block.collection.id][:MAX_BLOCK_ITEMS]


def collections_products(collections: list[Collection]) -> dict[int, list[Product]]:
    """{collection id: its products on sale, in order}: one query for all the picked
    collections, one per rule collection, one for the images."""
    found: dict[int, list[Product]] = {c.id: [] for c in collections}
    picked = [c.id for c in collections if c.mode == "picked"]
    if picked:
        rows = db.session.execute(
            catalog.on_sale().add_columns(CollectionProduct.collection_id)
            .join(CollectionProduct, CollectionProduct.product_id == Product.id)
            .where(CollectionProduct.collection_id.in_(picked))
            .options(selectinload(Product.images))
            .order_by(CollectionProduct.collection_id, CollectionProduct.position)).all()
        for product, collection_id in rows:
            found[collection_id].append(product)
    for c in collections:
        if c.mode == "rule":
            found[c.id] = rule_products(c)
    return found


def rule_products(c: Collection) -> list[Product]:
    query = catalog.on_sale().options(selectinload(Product.images))
    if c.rule_category_id is not None:
        children = select(Category.id).where(Category.parent_id == c.rule_category_id)
        query = query.where((Product.category_id == c.rule_category_id)
                            | Product.category_id.in_(children))
    if c.rule_keyword:
        query = query.where(catalog.text_matches(c.rule_keyword))
    return list(db.session.scalars(
        query.order_by(*catalog.SORTS.get(c.rule_sort, catalog.SORTS["sales"])).limit(c.rule_limit)))


def _fill_articles(shown: list[Shown], now: datetime) -> None:
    blocks = [s for s in shown if s.block.kind == "articles"]
    if not blocks:
        return
    chosen = {i for s in blocks for i in s.block.settings.get("ids", [])}
    latest = max((s.block.settings.get("limit", 4) for s in blocks), default=4)
    query = select(Article).where(articles.is_visible(now))
    rows = list(db.session.scalars(query.where(Article.id.in_(chosen)))) if chosen else []
    newest = list(db.session.scalars(query.order_by(*articles.NEWEST).limit(latest)))
    by_id = {a.id: a for a in rows}
    for s in blocks:
        ids = s.block.settings.get("ids", [])
        s.articles = ([by_id[i] for i in ids if i in by_id] if ids
                      else newest[:s.block.settings.get("limit", 4)])


def _fill_categories(shown: list[Shown]) -> None:
    blocks = [s for s in shown if s.block.kind == "categories"]
    if not blocks:
        return
    chosen = {i for s in blocks for i in s.block.settings.get("ids", [])}
    rows = {c.id: c for c in db.session.scalars(select(Category).where(
        Category.active.is_(True), Category.id.in_(chosen)))} if chosen else {}
    top = catalog.top_categories() if any(not s.block.settings.get("ids") for s in blocks) else []
    for s in blocks:
        ids = s.block.settings.get("ids", [])
        s.categories = [rows[i] for i in ids if i in rows] if ids else top[:MAX_BLOCK_ITEMS]


def _fill_campaigns(shown: list[Shown], now: datetime) -> None:
    """Each strip shows, per kind of offer it takes, the ones its editor chose (those
    still running) or, when none were chosen, all the running ones."""
    blocks = [s for s in shown if s.block.kind == "campaigns"]
    if not blocks:
        return
    everything: set[str] = set()
    chosen: dict[str, set[int]] = defaultdict(set)
    for s in blocks:
        for kind in s.block.settings.get("kinds", list(CAMPAIGN_KINDS)):
            ids = s.block.settings.get("ids", {}).get(kind)
            if ids:
                chosen[kind].update(ids)
            else:
                everything.add(kind)
    running = running_campaigns(now, everything)
    picked = running_campaigns(now, set(chosen), chosen) if chosen else []
    for s in blocks:
        found = []
        for kind in s.block.settings.get("kinds", list(CAMPAIGN_KINDS)):
            ids = s.block.settings.get("ids", {}).get(kind)
            if ids:
                by_id = {c.id: c for c in picked if c.kind == kind}
                found += [by_id[i] for i in ids if i in by_id]
            else:
                found += [c for c in running if c.kind == kind]
        s.campaigns = found[:s.block.settings.get("limit", 6)]


def running_campaigns(now: datetime, kinds: set[str],
                      only: dict[str, set[int]] | None = None) -> list[Campaign]:
    """Offers on at `now` whose product is on sale: group buys (from their lowest group
    price), flash items with stock left, bargains (down to their floor); soonest ending
    first within a kind; `only`: just these ids of a kind. A few queries per kind, each
    bounded."""
    found: list[Campaign] = []
    if "groups" in kinds:
        lowest = (select(GroupCampaignSku.campaign_id, func.min(GroupCampaignSku.price_minor))
                  .group_by(GroupCampaignSku.campaign_id).subquery())
        query = (select(GroupCampaign, lowest.c[1]).join(lowest, lowest.c.campaign_id == GroupCampaign.id)
                 .join(GroupCampaign.product)
                 .where(GroupCampaign.active.is_(True), GroupCampaign.starts_at <= now,
                        GroupCampaign.ends_at > now, GroupCampaign.units_left > 0,
                        Product.status == "on_sale", Product.archived_at.is_(None)))
        if only:
            query = query.where(GroupCampaign.id.in_(only.get("groups", ())))
        rows = db.session.execute(
            query.options(joinedload(GroupCampaign.product).selectinload(Product.images))
            .order_by(GroupCampaign.ends_at, GroupCampaign.id).limit(MAX_BLOCK_ITEMS)).unique().all()
        found += [Campaign("groups", c.id, c.product, price, c.currency) for c, price in rows]
    if "flash" in kinds:
        query = (select(FlashItem).join(FlashSession).join(Sku, FlashItem.sku_id == Sku.id)
                 .join(Product, Sku.product_id == Product.id)
                 .where(FlashSession.active.is_(True), FlashSession.starts_at <= now,
                        FlashSession.ends_at > now, FlashItem.released.is_(False),
                        FlashItem.stock_left > 0, Product.status == "on_sale",
                        Product.archived_at.is_(None)))
        if only:
            query = query.where(FlashItem.id.in_(only.get("flash", ())))
        items = db.session.scalars(
            query.options(joinedload(FlashItem.sku).joinedload(Sku.product).selectinload(Product.images))
            .order_by(FlashSession.ends_at, FlashItem.id).limit(MAX_BLOCK_ITEMS)).unique().all()
        found += [Campaign("flash", i.id, i.sku.product, i.price_minor, i.currency) for i in items]
    if "bargains" in kinds:
        wanted = only.get("bargains", set()) if only else None
        found += [Campaign("bargains", c.id, c.product, c.floor_price_minor, c.currency)
                  for c in bargains.running_campaigns(now)
                  if c.product.on_sale and (wanted is None or c.id in wanted)][:MAX_BLOCK_ITEMS]
    return found


def collection_page(collection_id: int) -> tuple[Collection, list[Product]] | None:
    """A published collection and its products on sale, or None (missing, unpublished)."""
    collection = db.session.get(Collection, collection_id)
    if collection is None or not collection.published:
        return None
    return collection, collections_products([collection])[collection.id]


def collection_titles(ids: list[int]) -> dict[int, str]:
    """Titles of published collections, for share links (shop.referrals.links)."""
    return {c.id: c.tr("title") for c in db.session.scalars(
        select(Collection).where(Collection.id.in_(ids), Collection.published.is_(True)))}


# --- changing: blocks -------------------------------------------------------------------------


@dataclass
class BlockData:
    title: str
    title_en: str
    published: bool
    starts_at: datetime | None
    ends_at: datetime | None
    settings: dict
    collection_id: int | None = None


def _check_window(starts_at, ends_at) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise HomeError(_("The end must come after the start."))


def _translations(row, field_name: str, english: str) -> dict:
    translations = {lang: dict(values) for lang, values in (row.translations or {}).items()}
    en = translations.setdefault("en", {})
    if english:
        en[field_name] = english
    else:
        en.pop(field_name, None)
    return translations


def _replace_image(row, prefix: str, image: StoredImage) -> None:
    """Point `row`'s <prefix>_key/_width/_height/_widths columns at `image`; the files of
    the one it replaces go once this commits."""
    if getattr(row, f"{prefix}_key"):
        forget_files(getattr(row, f"{prefix}_key"), getattr(row, f"{prefix}_widths"))
    setattr(row, f"{prefix}_key", image.key)
    setattr(row, f"{prefix}_width", image.width)
    setattr(row, f"{prefix}_height", image.height)
    setattr(row, f"{prefix}_widths", ",".join(map(str, image.widths)))


def save_block(block: HomeBlock | None, kind: str, data: BlockData) -> HomeBlock:
    """Make (at the end of the page) or change a block."""
    if kind not in BLOCK_KINDS:
        raise HomeError(_("Unknown kind of block."))
    _check_window(data.starts_at, data.ends_at)
    if kind == "collection" and data.collection_id is None:
        raise HomeError(_("Choose a collection."))
    if block is None:
        last = db.session.scalar(select(func.max(HomeBlock.position)))
        block = HomeBlock(kind=kind, position=(last or 0) + 1, translations={})
        db.session.add(block)
    block.title = data.title
    block.translations = _translations(block, "title", data.title_en)
    block.published = data.published
    block.starts_at, block.ends_at = data.starts_at, data.ends_at
    block.settings = dict(data.settings)
    block.collection_id = data.collection_id if kind == "collection" else None
    db.session.flush()
    bump()
    return block


def move_block(block: HomeBlock, direction: str) -> None:
    """Swap a block with its neighbour above ("up") or below ("down"); positions are
    renumbered 1..n, so they stay distinct whatever they were."""
    _move(all_blocks(), block, direction)
    bump()


def _move(rows: list, row, direction: str) -> None:
    index = rows.index(row)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise HomeError(_("Move it up or down."))
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    for position, item in enumerate(rows, start=1):
        item.position = position
    db.session.flush()


def delete_block(block: HomeBlock) -> None:
    for slide in block.slides:
        forget_files(slide.image_key, slide.image_widths)
    db.session.delete(block)
    db.session.flush()
    bump()


# --- changing: slides ---------------------------------------------------------------------------


@dataclass
class SlideData:
    alt: str
    alt_en: str
    link_kind: str
    link_id: int | None
    link_page: str | None
    image: StoredImage | None = None


def save_slide(block: HomeBlock, slide: HomeSlide | None, data: SlideData) -> HomeSlide:
    """Add a slide to a banner (a picture is needed) or change one (a new picture
    replaces the old, whose files go once this commits)."""
    if block.kind != "banner":
        raise HomeError(_("Only a banner carousel has slides."))
    if (data.link_kind == "campaign") != (data.link_page is not None) or \
            (data.link_kind != "campaign" and data.link_id is None):
        raise HomeError(_("Choose where the slide leads."))
    if slide is None:
        if data.image is None:
            raise HomeError(_("Upload a picture for the slide."))
        slide = HomeSlide(block=block, position=len(block.slides) + 1, translations={})
        db.session.add(slide)
    if data.image is not None:
        _replace_image(slide, "image", data.image)
    slide.alt = data.alt
    slide.translations = _translations(slide, "alt", data.alt_en)
    slide.link_kind, slide.link_id, slide.link_page = data.link_kind, data.link_id, data.link_page
    db.session.flush()
    bump()
    return slide


def move_slide(slide: HomeSlide, direction: str) -> None:
    _move(list(slide.block.slides), slide, direction)
    bump()


def delete_slide(slide: HomeSlide) -> None:
    forget_files(slide.image_key, slide.image_widths)
    slide.block.slides.remove(slide)
    db.session.flush()
    bump()


# --- changing: collections ------------------------------------------------------------------------


@dataclass
class CollectionData:
    title: str
    title_en: str
    description: str
    description_en: str
    published: bool
    mode: str
    product_ids: list[int]
    rule_category_id: int | None
    rule_keyword: str
    rule_sort: str
    rule_limit: int
    cover: StoredImage | None = None


def all_collections() -> list[Collection]:
    return list(db.session.scalars(select(Collection).order_by(Collection.id.desc())))


def save_collection(collection: Collection | None, data: CollectionData) -> Collection:
    """Make or change a collection. Picked products keep the order given."""
    if data.mode == "picked" and not data.product_ids:
        raise HomeError(_("Choose the collection's products, or make it a rule."))
    if data.mode == "rule" and data.rule_category_id is None and not data.rule_keyword:
        raise HomeError(_("A rule needs a category or a word to look for."))
    if collection is None:
        collection = Collection(translations={})
        db.session.add(collection)
    collection.title, collection.description = data.title, data.description
    collection.translations = _translations(collection, "title", data.title_en)
    collection.translations = _translations(collection, "description", data.description_en)
    collection.published, collection.mode = data.published, data.mode
    collection.rule_category_id = data.rule_category_id
    collection.rule_keyword, collection.rule_sort = data.rule_keyword, data.rule_sort
    collection.rule_limit = data.rule_limit
    if data.cover is not None:
        _replace_image(collection, "cover", data.cover)
    kept = {item.product_id: item for item in collection.items}
    collection.items = [kept.get(pid) or CollectionProduct(product_id=pid)
                        for pid in data.product_ids]
    for position, item in enumerate(collection.items, start=1):
        item.position = position
    db.session.flush()
    bump()
    return collection


def delete_collection(collection: Collection) -> None:
    """Delete it; a block that showed it shows nothing (it is left for the editor)."""
    if collection.cover_key:
        forget_files(collection.cover_key, collection.cover_widths)
    db.session.delete(collection)
    db.session.flush()
    bump()


def move_collection_product(collection: Collection, product_id: int, direction: str) -> None:
    """Move a picked product up or down in its collection."""
    item = next((i for i in collection.items if i.product_id == product_id), None)
    if item is None:
        raise HomeError(_("This product is not in the collection."))
    _move(list(collection.items), item, direction)
    bump()
