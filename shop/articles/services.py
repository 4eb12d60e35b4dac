"""Article rules: who may write, review and publish; saving with revisions; what shoppers
see; the figures. Services flush and raise ArticleError (NotAllowed for a missing right)
with a message for the person; they never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import User
from shop.articles import markup
from shop.articles.models import (Article, ArticleCategory, ArticleEvent, ArticleProduct,
                                  ArticleRevision, Tag, article_tags)
from shop.catalog.models import Product
from shop.catalog.services import lead_sku, on_sale, text_matches
from shop.db import RowsPage, bump_version, db, utcnow
from shop.media.services import StoredImage
from shop.orders.models import PAID_STATUSES, Order, OrderLine


class ArticleError(ValueError):
    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class NotAllowed(ArticleError):
    """The person lacks the right (a 403 with this message)."""


@dataclass
class ArticleData:
    title: str
    summary: str
    body_md: str
    category_id: int | None
    tags: list[str]
    repromote_days: int | None  # None: not marked for re-promotion
    cover: StoredImage | None = None  # a new cover; None keeps the current one


# --- rights ----------------------------------------------------------------------------


def check_may_edit(article: Article | None, user: User) -> None:
    """Editors write their own articles while draft or in review (published ones too
    with the publishing right); only admins touch another editor's article."""
    if user.role == "admin":
        return
    if user.role != "editor":
        raise NotAllowed(_("Only editors and admins write articles."))
    if article is None:
        return
    if article.author_id != user.id:
        raise NotAllowed(_("This article belongs to another editor: only admins may edit it."))
    if article.status == "published" and not user.may_publish:
        raise NotAllowed(_("This article is published: editing it needs the publishing right."))


def check_may_see(article: Article, user: User) -> None:
    """The author, admins and publishers (who review everyone's articles)."""
    if article.author_id != user.id and not user.may_publish:
        raise NotAllowed(_("This article belongs to another editor: only its author and "
                           "publishers see it."))


def check_may_publish(user: User) -> None:
    if not user.may_publish:
        raise NotAllowed(_("Publishing needs the publishing right; ask an admin."))


# --- saving ----------------------------------------------------------------------------


def _embed_problems(ids: list[int]) -> list[str]:
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}
    problems = []
    for product_id in ids:
        product = found.get(product_id)
        if product is None:
            problems.append(_("Product %(id)d does not exist, so it cannot be embedded.",
                              id=product_id))
        elif not product.on_sale:
            problems.append(_("“%(title)s” (product %(id)d) is not on sale, so it cannot be "
                              "embedded.", title=product.tr("title"), id=product_id))
    return problems


def checked(body_md: str) -> tuple[list[str | int], list[str]]:
    """The body rendered and cut at its embeds (what the preview shows), and every reason
    it cannot be saved or published ([] when it can)."""
    parts = markup.split(markup.render(body_md))
    return parts, markup.check(body_md, parts) + _embed_problems(markup.ids_in(parts))


def check_body(body_md: str) -> list[str]:
    return checked(body_md)[1]


def _tags(names: list[str]) -> list[Tag]:
    """Tag rows for the names (the form has checked their count and length)."""
    names = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            try:
                with db.session.begin_nested():
                    tag = Tag(name=name)
                    db.session.add(tag)
            except IntegrityError:  # created meanwhile by another editor
                tag = db.session.scalar(select(Tag).where(Tag.name == name))
        tags.append(tag)
    return tags


def _snapshot(article: Article, action: str, actor: User, restored_from: int | None = None):
    """A revision row; and what shoppers see of articles (the home feed) is stale now."""
    bump_version("articles")
    article.revision += 1
    db.session.add(ArticleRevision(
        article_id=article.id, number=article.revision, action=action,
        restored_from=restored_from, editor_id=actor.id, status=article.status,
        title=article.title, summary=article.summary, body_md=article.body_md,
        category_id=article.category_id, tags=[t.name for t in article.tags],
        cover={"key": article.cover_key, "width": article.cover_width,
               "height": article.cover_height, "widths": article.cover_widths}
        if article.cover_key else None,
    ))


def _set_body(article: Article, body_md: str) -> None:
    body_md = markup.normalise(body_md)
    article.body_md = body_md
    article.body_html = markup.render(body_md)
    ids = markup.ids_in(markup.split(article.body_html))
    article.embeds = [ArticleProduct(product_id=pid, position=i) for i, pid in enumerate(ids)]


def _set_repromotion(article: Article, days: int | None) -> None:
    """Due `days` after the later of the last promotion and the publication."""
    article.repromote_days = days
    since = max(filter(None, (article.last_promoted_at, article.published_at)), default=None)
    article.repromote_due_at = (since + timedelta(days=days)
                                if days and article.status == "published" and since else None)


def save_article(article: Article | None, data: ArticleData, *, actor: User,
                 base_revision: int | None = None) -> Article:
    """Create or edit an article; each save is a revision. `base_revision` is the revision
    the editor's form was opened at: a save over someone else's newer one is refused."""
    check_may_edit(article, actor)
    if article is not None and base_revision is not None and base_revision != article.revision:
        raise ArticleError(_("Someone saved this article after you opened it. Reload the page "
                             "to see their version, then make your change again."))
    problems = check_body(data.body_md)
    if data.category_id is not None and db.session.get(ArticleCategory, data.category_id) is None:
        problems.append(_("Choose one of the listed categories."))
    if problems:
        raise ArticleError(*problems)
    if article is None:
        article = Article(author_id=actor.id, status="draft")
        db.session.add(article)
    article.title = data.title.strip()
    article.summary = data.summary.strip()
    article.category_id = data.category_id
    article.tags = _tags(data.tags)
    if data.cover is not None:
        article.cover_key, article.cover_widths = data.cover.key, ",".join(map(str, data.cover.widths))
        article.cover_width, article.cover_height = data.cover.width, data.cover.height
    _set_body(article, data.body_md)
    _set_repromotion(article, data.repromote_days)
    db.session.flush()
    _snapshot(article, "saved", actor)
    db.session.flush()
    return article


def restore(article: Article, number: int, *, actor: User) -> None:
    """Bring back the content of revision `number` as a new revision."""
    check_may_edit(article, actor)
    old = db.session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == article.id, ArticleRevision.number == number))
    if old is None:
        raise ArticleError(_("There is no such revision."))
    problems = check_body(old.body_md)
    if problems:
        raise ArticleError(_("This revision cannot be restored as it is:"), *problems)
    article.title, article.summary = old.title, old.summary
    category = db.session.get(ArticleCategory, old.category_id) if old.category_id else None
    article.category_id = category.id if category else None
    article.tags = _tags(old.tags or [])
    cover = old.cover or {}
    article.cover_key, article.cover_widths = cover.get("key"), cover.get("widths")
    article.cover_width, article.cover_height = cover.get("width"), cover.get("height")
    _set_body(article, old.body_md)
    db.session.flush()
    _snapshot(article, "restored", actor, restored_from=number)
    db.session.flush()


# --- workflow --------------------------------------------------------------------------

# (from, to) -> who: "author" (the author or an admin) or "publisher".
MOVES = {
    ("draft", "review"): "author",
    ("review", "draft"): "author_or_publisher",  # withdrawn, or sent back by a reviewer
    ("draft", "published"): "publisher",
    ("review", "published"): "publisher",
    ("published", "draft"): "publisher",  # unpublish (a scheduled one too)
    ("published", "published"): "publisher",  # reschedule
}
STATUS_ACTIONS = {"review": "submitted", "published": "published", "draft": "returned"}


def change_status(article: Article, to: str, *, actor: User, publish_at: datetime | None = None,
                  seen_revision: int | None = None) -> None:
    """Move the article. `seen_revision` is the revision the person was shown: a move made
    on content someone changed since (a body swapped while in review) is refused."""
    who = MOVES.get((article.status, to))
    if who is None:
        raise ArticleError(_("This article cannot go from this status to that one."))
    if seen_revision is not None and seen_revision != article.revision:
        raise ArticleError(_("This article changed after you opened it. Reload the page, read "
                             "the new version, then try again."))
    is_author = actor.id == article.author_id or actor.role == "admin"
    if who == "author" and not is_author:
        raise NotAllowed(_("Only the author or an admin may send this article to review."))
    if who == "publisher" or (who == "author_or_publisher" and not is_author):
        check_may_publish(actor)
    now = utcnow()
    if to == "published":
        if article.status == "published" and publish_at is None:
            raise ArticleError(_("This article is already published: choose a new time to "
                                 "reschedule it."))
        if publish_at is not None and publish_at <= now:
            raise ArticleError(_("Choose a publication time in the future, or leave it empty to "
                                 "publish now."))
        if not article.body_md.strip():
            raise ArticleError(_("Write the body before publishing."))
        problems = check_body(article.body_md)
        if problems:
            raise ArticleError(*problems)
        article.published_at = publish_at or now
    action = STATUS_ACTIONS[to]
    if article.status == "published" and to == "draft":
        action = "unpublished"
        article.published_at = None
    article.status = to
    _set_repromotion(article, article.repromote_days)
    _snapshot(article, action, actor)
    db.session.flush()


def mark_promoted(article: Article, *, actor: User) -> None:
    if not article.repromote_days or not article.visible_at(utcnow()):
        raise ArticleError(_("Only published articles marked for re-promotion can be promoted."))
    article.last_promoted_at = utcnow()
    _set_repromotion(article, article.repromote_days)
    db.session.flush()


# --- what shoppers see -----------------------------------------------------------------


def is_visible(now: datetime | None = None):
    """The condition for an article shoppers see: published, and its time has come."""
    return (Article.status == "published") & (Article.published_at <= (now or utcnow()))


def _visible(now: datetime | None = None):
    return select(Article).where(is_visible(now))


NEWEST = (Article.published_at.desc(), Article.id.desc())


def feed(limit: int = 6) -> list[Article]:
    return list(db.session.scalars(
        _visible().order_by(*NEWEST).limit(limit)))


def list_published(*, category_id: int | None = None, tag: str = "", page: int = 1,
                   per_page: int = 20):
    query = _visible()
    if category_id:
        query = query.where(Article.category_id == category_id)
    if tag:
        query = query.where(Article.id.in_(
            select(article_tags.c.article_id).join(Tag).where(Tag.name == tag)))
    query = query.order_by(*NEWEST)
    return db.paginate(query, page=page, per_page=per_page, error_out=True, count=True)


def is_shown(article_id: int) -> bool:
    """Whether shoppers see this article now (one indexed lookup, for the beacons)."""
    return db.session.scalar(select(Article.id).where(Article.id == article_id, is_visible())) is not None


def get_visible(article_id: int) -> Article | None:
    return db.session.scalar(
        _visible().where(Article.id == article_id)
        .options(joinedload(Article.author), joinedload(Article.category),
                 selectinload(Article.tags)))


def related(article: Article, limit: int = 4) -> list[Article]:
    """Other visible articles of the same category or sharing a tag, newest first."""
    conditions = []
    if article.category_id:
        conditions.append(Article.category_id == article.category_id)
    tag_ids = [t.id for t in article.tags]
    if tag_ids:
        conditions.append(Article.id.in_(
            select(article_tags.c.article_id).where(article_tags.c.tag_id.in_(tag_ids))))
    if not conditions:
        return []
    return list(db.session.scalars(
        _visible().where(Article.id != article.id, or_(*conditions))
        .order_by(*NEWEST).limit(limit)))


def featuring(product_id: int, limit: int = 5) -> list[Article]:
    return list(db.session.scalars(
        _visible().join(ArticleProduct, ArticleProduct.article_id == Article.id)
        .where(ArticleProduct.product_id == product_id)
        .order_by(*NEWEST).limit(limit)))


def best_converting(product_id: int) -> tuple[Article, int, int] | None:
    """The visible article featuring this product whose views turned into the most paid
    orders of it, per view: (article, views, orders), or None when no article featuring
    it has been viewed. Ties go to the article with more orders, then the newest."""
    views = (select(ArticleEvent.article_id, func.count().label("views"))
             .where(ArticleEvent.kind == "view").group_by(ArticleEvent.article_id).subquery())
    sales = (select(OrderLine.source_article_id.label("article_id"),
                    func.count(distinct(OrderLine.order_id)).label("orders"))
             .join(Order, Order.id == OrderLine.order_id)
             .where(OrderLine.product_id == product_id, OrderLine.source_article_id.is_not(None),
                    Order.status.in_(sorted(PAID_STATUSES)))
             .group_by(OrderLine.source_article_id).subquery())
    orders = func.coalesce(sales.c.orders, 0)
    row = db.session.execute(
        select(Article, views.c.views, orders)
        .join(ArticleProduct, ArticleProduct.article_id == Article.id)
        .join(views, views.c.article_id == Article.id)
        .outerjoin(sales, sales.c.article_id == Article.id)
        .where(ArticleProduct.product_id == product_id, is_visible())
        .order_by((orders * 1_000_000 / views.c.views).desc(), orders.desc(), *NEWEST)
        .limit(1)).first()
    return (row[0], row[1], row[2]) if row else None


def categories() -> list[ArticleCategory]:
    return list(db.session.scalars(select(ArticleCategory).where(ArticleCategory.active.is_(True))
                                   .order_by(ArticleCategory.position, ArticleCategory.id)))


@dataclass
class EmbedCard:
    product: Product
    skus: list  # active SKUs, in order

    @property
    def in_stock(self) -> bool:
        return any(sku.stock > 0 for sku in self.skus)

    @property
    def price_minor(self) -> int:
        return lead_sku(self.skus).price_minor


def embed_cards(product_ids: list[int]) -> dict[int, EmbedCard]:
    """Live cards for the embedded products on sale (three queries, whatever the count);
    products missing or not on sale are absent and render as a notice."""
    if not product_ids:
        return {}
    products = db.session.scalars(
        on_sale().where(Product.id.in_(product_ids))
        .options(selectinload(Product.skus), selectinload(Product.images)))
    cards = {}
    for product in products:
        skus = [sku for sku in product.skus if sku.active]
        if skus:
            cards[product.id] = EmbedCard(product, skus)
    return cards


def body_parts(article: Article) -> list[str | int]:
    """The stored body, cleaned again (nh3 is fast; whatever reached the column, nothing
    runs), cut at its embeds."""
    return markup.split(markup.sanitise(article.body_html))


# --- backoffice lists ------------------------------------------------------------------


def revisions(article: Article) -> list[ArticleRevision]:
    return list(db.session.scalars(
        select(ArticleRevision).where(ArticleRevision.article_id == article.id)
        .options(joinedload(ArticleRevision.editor)).order_by(ArticleRevision.number.desc())))


def review_queue_query():
    """Articles waiting for a publisher: in review, or published for a future time."""
    return select(Article).where(or_(Article.status == "review",
                                     (Article.status == "published") & (Article.published_at > utcnow())))


def review_queue() -> list[Article]:
    return list(db.session.scalars(
        review_queue_query().options(joinedload(Article.author)).order_by(Article.updated_at)))


def due_query(now: datetime | None = None, author_id: int | None = None):
    """Articles marked for re-promotion whose time has come (an author's own, if given)."""
    now = now or utcnow()
    query = _visible(now).where(Article.repromote_due_at <= now)
    if author_id is not None:
        query = query.where(Article.author_id == author_id)
    return query


def due_for_repromotion(now: datetime | None = None, author_id: int | None = None) -> list[Article]:
    return list(db.session.scalars(
        due_query(now, author_id).options(joinedload(Article.author)).order_by(Article.repromote_due_at)))


def picker_products(q: str, limit: int = 12) -> list[Product]:
    """Products on sale an editor may embed, newest first, by title or code."""
    query = on_sale().options(selectinload(Product.images)).order_by(Product.id.desc()).limit(limit)
    if q:
        query = query.where(text_matches(q, Product.code))
    return list(db.session.scalars(query))


# --- figures ---------------------------------------------------------------------------

FIGURE_COLUMNS = ("views", "visitors", "clicks", "carts", "orders", "gmv")


def figures(*, author_id: int | None = None, status: str = "", sort: str = "updated",
            descending: bool = True, page: int = 1, per_page: int = 20):
    """Articles with their figures, one page, sortable by any figure. Events are counted
    per article; orders and GMV come from the paid order lines that carry the article (GMV:
what they paid for their goods, less what refunds gave back of them)."""
    e = ArticleEvent
    events = (select(e.article_id,
                     func.sum(case((e.kind == "view", 1), else_=0)).label("views"),
                     func.count(distinct(case((e.kind == "view", e.visitor)))).label("visitors"),
                     func.sum(case((e.kind == "click", 1), else_=0)).label("clicks"),
                     func.sum(case((e.kind == "cart", 1), else_=0)).label("carts"))
              .group_by(e.article_id).subquery())
    goods = OrderLine.total_minor - OrderLine.discount_minor  # what the line paid for its goods
    kept = case((OrderLine.refunded_minor >= goods, 0), else_=goods - OrderLine.refunded_minor)
    sales = (select(OrderLine.source_article_id.label("article_id"),
                    func.count(distinct(OrderLine.order_id)).label("orders"),
                    func.sum(kept).label("gmv"))
             .join(Order, Order.id == OrderLine.order_id)
             .where(OrderLine.source_article_id.is_not(None), Order.status.in_(sorted(PAID_STATUSES)))
             .group_by(OrderLine.source_article_id).subquery())
    columns = {
        "views": func.coalesce(events.c.views, 0), "visitors": func.coalesce(events.c.visitors, 0),
        "clicks": func.coalesce(events.c.clicks, 0), "carts": func.coalesce(events.c.carts, 0),
        "orders": func.coalesce(sales.c.orders, 0), "gmv": func.coalesce(sales.c.gmv, 0),
    }
    query = (select(Article, *(col.label(name) for name, col in columns.items()))
             .outerjoin(events, events.c.article_id == Article.id)
             .outerjoin(sales, sales.c.article_id == Article.id)
             .options(joinedload(Article.author)))
    if author_id is not None:
        query = query.where(Article.author_id == author_id)
    if status:
        query = query.where(Article.status == status)
    key = columns.get(sort, Article.updated_at)
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Article.id).order_by(None).subquery()))
    query = query.order_by(key.desc() if descending else key.asc(), Article.id.desc())
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return RowsPage(rows, page, per_page, total)


# --- categories ------------------------------------------------------------------------


def all_categories() -> list[ArticleCategory]:
    return list(db.session.scalars(select(ArticleCategory)
                                   .order_by(ArticleCategory.position, ArticleCategory.id)))


def save_category(category: ArticleCategory | None, *, name: str, name_en: str, slug: str,
                  position: int, active: bool) -> ArticleCategory:
    try:
        with db.session.begin_nested():
            if category is None:
                category = ArticleCategory()
                db.session.add(category)
            category.name, category.slug = name.strip(), slug.strip()
            category.position, category.active = position, active
            category.translations = {"en": {"name": name_en.strip()}} if name_en.strip() else {}
    except IntegrityError:
        raise ArticleError(_("Another category already uses this slug.")) from None
    return category
