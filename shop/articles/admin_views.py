"""Backoffice: writing, review and publishing, history, figures, re-promotion, article
categories and who may publish. Every route checks the role; the services check the
finer rights (own articles, the publishing right) and answer 403 with their message."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from shop.accounts import services as accounts
from shop.articles import ARTICLE_STATUS_LABELS
from shop.articles.blueprint import admin_bp as bp
from shop.articles import diff as revision_diff
from shop.articles import services
from shop.articles.forms import ArticleForm, CategoryForm, PreviewForm, StatusForm
from shop.articles.models import ARTICLE_STATUSES, Article, ArticleCategory
from shop.db import SAFE_METHODS, db
from shop.media.services import ImageError, read_upload, store_image
from shop.web import number_arg, render, render_error, roles_required
from shop.web.forms import stored

SORTS = ("updated", *services.FIGURE_COLUMNS)


def _article(article_id: int) -> Article:
    """The article; locked for the rest of the transaction when the request may change it,
    so two saves, or a save and a publish, run one after the other."""
    return db.session.get(Article, article_id,
                          with_for_update=request.method not in SAFE_METHODS) or abort(404)


@bp.errorhandler(services.NotAllowed)
def _refused(exc: services.NotAllowed):
    """A missing right: 403 with the service's reason (nothing is committed on 4xx)."""
    return render_error(None, 403, str(exc))


@bp.errorhandler(services.ArticleError)
def _conflict(exc: services.ArticleError):
    """A move the article's state does not allow (publish a bad body, restore a missing
    revision...): 409 with the reason."""
    return render_error(None, 409, str(exc))


def _category_choices() -> list[SelectChoice]:
    return [SelectChoice(0, _("None"))] + [SelectChoice(c.id, c.tr("name"))
                                           for c in services.all_categories()]


def _parts(parts: list) -> list:
    return [Markup(p) if isinstance(p, str) else p for p in parts]


# --- lists -----------------------------------------------------------------------------


@bp.get("")
@roles_required("editor")
def index():
    """Articles with their figures: an editor's own, or all for admins; sortable."""
    sort = request.args.get("sort", "updated")
    sort = sort if sort in SORTS else "updated"
    descending = request.args.get("dir", "desc") != "asc"
    status = request.args.get("status", "")
    status = status if status in ARTICLE_STATUSES else ""
    page = number_arg("page", 1, most=10_000)
    author_id = None if current_user.role == "admin" else current_user.id
    pagination = services.figures(author_id=author_id, status=status, sort=sort,
                                  descending=descending, page=page)
    return render("admin/articles/list.html", block="results", pagination=pagination,
                  sort=sort, descending=descending, status_filter=status,
                  args={"sort": sort, "dir": "desc" if descending else "asc", "status": status})


@bp.get("/review")
@roles_required("editor")
def review_queue():
    """What waits for a publisher: articles in review, and scheduled ones."""
    services.check_may_publish(current_user)
    return render("admin/articles/queue.html", articles=services.review_queue())


@bp.get("/due")
@roles_required("editor")
def due():
    author_id = None if current_user.role == "admin" else current_user.id
    return render("admin/articles/due.html",
                  articles=services.due_for_repromotion(author_id=author_id))


# --- writing ---------------------------------------------------------------------------


def _form_page(article: Article | None, form: ArticleForm, status: int = 200):
    form.category_id.choices = _category_choices()
    parts, problems = services.checked(form.body.data or "")
    return render("admin/articles/form.html", article=article, form=form,
                  parts=_parts(parts), problems=problems,
                  cards=services.embed_cards([p for p in parts if isinstance(p, int)]),
                  status=status)


def _form_data(article: Article) -> dict:
    return {"title": article.title, "summary": article.summary,
            "category_id": article.category_id or 0, "tags": ", ".join(t.name for t in article.tags),
            "body": article.body_md, "repromote": bool(article.repromote_days),
            "repromote_days": article.repromote_days or current_app.config["ARTICLE_REPROMOTE_DAYS"],
            "revision": article.revision}


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:article_id>", methods=["GET", "POST"])
@roles_required("editor")
def edit(article_id: int | None = None):
    article = _article(article_id) if article_id else None
    services.check_may_edit(article, current_user)
    if request.method == "GET":
        data = _form_data(article) if article else {
            "repromote_days": current_app.config["ARTICLE_REPROMOTE_DAYS"], "revision": 0}
        return _form_page(article, stored(ArticleForm, data=data))
    form = ArticleForm()
    form.category_id.choices = _category_choices()
    if form.validate_on_submit():
        try:
            cover = None
            if form.cover.data and form.cover.data.filename:
                cover = store_image(read_upload(form.cover.data.stream,
                                                current_app.config["MAX_IMAGE_BYTES"]))
            article = services.save_article(article, services.ArticleData(
                title=form.title.data, summary=form.summary.data or "", body_md=form.body.data or "",
                category_id=form.category_id.data or None, tags=form.tag_names(),
                repromote_days=form.repromote_days.data if form.repromote.data else None,
                cover=cover,
            ), actor=current_user, base_revision=form.revision.data)
        except ImageError as exc:
            form.cover.errors.append(str(exc))
        except services.NotAllowed:
            raise
        except services.ArticleError as exc:
            form.form_errors.extend(exc.messages)
        else:
            flash(_("Article saved."))
            return redirect(url_for("articles_admin.edit", article_id=article.id), 303)
    return _form_page(article, form, status=422)


@bp.post("/preview")
@roles_required("editor")
def preview():
    """The live preview of the editor (htmx, as the body is typed). Changes nothing."""
    form = PreviewForm()
    if not form.validate_on_submit():
        return render("admin/articles/_preview.html", block="preview", parts=[], cards={},
                      problems=[e for errors in form.errors.values() for e in errors], status=422)
    parts, problems = services.checked(form.body.data or "")
    return render("admin/articles/_preview.html", block="preview", parts=_parts(parts),
                  cards=services.embed_cards([p for p in parts if isinstance(p, int)]),
                  problems=problems)


@bp.get("/products")
@roles_required("editor")
def picker():
    q = request.args.get("q", "").strip()[:80]
    return render("admin/articles/_picker.html", block="picker", picked=services.picker_products(q))


@bp.get("/<int:article_id>/review")
@roles_required("editor")
def review(article_id: int):
    """The article as shoppers will see it, with the workflow buttons."""
    article = _article(article_id)
    services.check_may_see(article, current_user)
    parts = services.body_parts(article)
    return render("admin/articles/review.html", article=article, status_form=StatusForm(),
                  parts=_parts(parts),
                  cards=services.embed_cards([p for p in parts if isinstance(p, int)]))


@bp.post("/<int:article_id>/status")
@roles_required("editor")
def change_status(article_id: int):
    article = _article(article_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors))
        return redirect(url_for("articles_admin.review", article_id=article.id), 303)
    services.change_status(article, form.to.data, actor=current_user,
                           publish_at=form.publish_at_utc(), seen_revision=form.revision.data)
    flash(_("The article is now: %(status)s.", status=ARTICLE_STATUS_LABELS[article.status]))
    return redirect(url_for("articles_admin.review", article_id=article.id), 303)


@bp.post("/<int:article_id>/promoted")
@roles_required("editor")
def promoted(article_id: int):
    article = _article(article_id)
    services.check_may_see(article, current_user)
    services.mark_promoted(article, actor=current_user)
    flash(_("Marked as promoted today."))
    return redirect(url_for("articles_admin.due"), 303)


@bp.get("/<int:article_id>/history")
@roles_required("editor")
def history(article_id: int):
    article = _article(article_id)
    services.check_may_see(article, current_user)
    return render("admin/articles/history.html", article=article,
                  revisions=services.revisions(article))


@bp.get("/<int:article_id>/history/<int:number>/diff")
@roles_required("editor")
def diff(article_id: int, number: int):
    """What changed between revision `number` and another (?against=N: the current one
    when not given), older to newer; the restore button of `number` lives here."""
    article = _article(article_id)
    services.check_may_see(article, current_user)
    against = number_arg("against", article.revision, most=article.revision)
    picked = revision_diff.revision(article, number)
    other = revision_diff.revision(article, against)
    if picked is None or other is None:
        abort(404)
    old, new = (picked, other) if picked.number <= other.number else (other, picked)
    return render("admin/articles/diff.html", article=article, picked=picked,
                  diff=revision_diff.compare(old, new))


@bp.post("/<int:article_id>/history/<int:number>/restore")
@roles_required("editor")
def restore(article_id: int, number: int):
    article = _article(article_id)
    services.restore(article, number, actor=current_user)
    flash(_("Revision %(n)d restored as revision %(new)d.", n=number, new=article.revision))
    return redirect(url_for("articles_admin.edit", article_id=article.id), 303)


# --- categories and rights (admins) ----------------------------------------------------


@bp.get("/categories")
@roles_required("admin")
def categories():
    return render("admin/articles/categories.html", categories=services.all_categories())


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@roles_required("admin")
def category_form(category_id: int | None = None):
    category = db.session.get(ArticleCategory, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET" and category is not None:
        form.name_en.data = (category.translations or {}).get("en", {}).get("name", "")
    if form.validate_on_submit():
        try:
            services.save_category(category, name=form.name.data, name_en=form.name_en.data or "",
                                   slug=form.slug.data, position=form.position.data,
                                   active=form.active.data)
        except services.ArticleError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Category saved."))
            return redirect(url_for("articles_admin.categories"), 303)
    status = 422 if request.method == "POST" else 200
    return render("admin/articles/category_form.html", form=form, category=category, status=status)


@bp.get("/editors")
@roles_required("admin")
def editors():
    return render("admin/articles/editors.html", editors=accounts.editors())


@bp.post("/editors/<int:user_id>/publishing")
@roles_required("admin")
def publishing(user_id: int):
    try:
        user = accounts.toggle_publishing(user_id)
    except accounts.AccountError as exc:
        return render_error(None, 404, str(exc))
    flash(_("%(name)s may now publish.", name=user.nickname) if user.can_publish
          else _("%(name)s may no longer publish.", name=user.nickname))
    return redirect(url_for("articles_admin.editors"), 303)
