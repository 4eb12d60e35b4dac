"""Backoffice: the home page's blocks (order, kinds, scheduling, a banner's slides),
collections, and a preview of the home at a chosen time. Editors and admins. Every POST
carries the CSRF token; the audit log records each (shop.audit.recording)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from shop.db import SAFE_METHODS, db, utcnow
from shop.home import services
from shop.home.blueprint import admin_bp as bp
from shop.home.forms import (BlockForm, CollectionForm, ConfirmForm, MoveForm, PreviewForm,
                             SlideForm, ordered_ids)
from shop.home.models import BLOCK_KINDS, Collection, HomeBlock, HomeSlide
from shop.media.services import ImageError, read_upload, store_image
from shop.web import render, roles_required
from shop.web.forms import stored

ROLE = "editor"  # and admins (roles_required lets them do everything)


def _row(model, row_id: int):
    """The row; locked for the rest of the transaction when the request may change it."""
    return db.session.get(model, row_id,
                          with_for_update=request.method not in SAFE_METHODS) or abort(404)


def _upload(field):
    """The uploaded picture stored (re-encoded renditions), or None when none was sent;
    ImageError for a file that is not an image."""
    if field.data and getattr(field.data, "filename", ""):
        return store_image(read_upload(field.data.stream, current_app.config["MAX_IMAGE_BYTES"]))
    return None


# --- blocks ------------------------------------------------------------------------------


@bp.get("")
@roles_required(ROLE)
def blocks():
    return render("admin/home/blocks.html", blocks=services.all_blocks(), now=utcnow(),
                  move_form=stored(MoveForm), confirm_form=stored(ConfirmForm),
                  preview_form=stored(PreviewForm, data={"at": utcnow()}))


def _block_page(block: HomeBlock | None, kind: str, form: BlockForm, status: int = 200):
    return render("admin/home/block_form.html", row=block, kind=kind, form=form,
                  status=status, move_form=stored(MoveForm), confirm_form=stored(ConfirmForm))


@bp.route("/blocks/new/<kind>", methods=["GET", "POST"])
@bp.route("/blocks/<int:block_id>", methods=["GET", "POST"])
@roles_required(ROLE)
def block(kind: str | None = None, block_id: int | None = None):
    block = _row(HomeBlock, block_id) if block_id else None
    kind = block.kind if block else kind
    if kind not in BLOCK_KINDS:
        abort(404)
    if request.method == "GET":
        form = stored(BlockForm, data=BlockForm.data_of(block)) if block else stored(BlockForm)
        if block is not None and kind in ("articles", "categories"):  # in the editor's order
            getattr(form, kind).data = list(block.settings.get("ids", []))
        if block is not None and kind == "campaigns":
            for name in services.CAMPAIGN_KINDS:
                getattr(form, name).data = list(block.settings.get("ids", {}).get(name, []))
        return _block_page(block, kind, form)
    form = BlockForm()
    if form.validate_on_submit():
        try:
            saved = services.save_block(block, kind, services.BlockData(
                title=form.title.data or "", title_en=form.title_en.data or "",
                published=form.published.data, starts_at=form.starts_at.data,
                ends_at=form.ends_at.data, settings=form.settings_for(kind),
                collection_id=form.collection.data))
        except services.HomeError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Block saved."))
            if block is None and kind == "banner":
                return redirect(url_for("home_admin.slide", block_id=saved.id), 303)
            return redirect(url_for("home_admin.blocks"), 303)
    for field in (form.articles, form.categories, form.groups, form.flash, form.bargains):
        # back in the order posted
        if not field.errors:
            field.data = ordered_ids(field)
    return _block_page(block, kind, form, status=422)


@bp.post("/blocks/<int:block_id>/move")
@roles_required(ROLE)
def move_block(block_id: int):
    block = _row(HomeBlock, block_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move_block(block, form.direction.data)
    return redirect(url_for("home_admin.blocks"), 303)


@bp.post("/blocks/<int:block_id>/delete")
@roles_required(ROLE)
def delete_block(block_id: int):
    block = _row(HomeBlock, block_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_block(block)
    flash(_("Block deleted."))
    return redirect(url_for("home_admin.blocks"), 303)


# --- a banner's slides -------------------------------------------------------------------------


def _slide_page(block: HomeBlock, slide: HomeSlide | None, form: SlideForm, status: int = 200):
    return render("admin/home/slide_form.html", row=block, slide=slide, form=form,
                  status=status, move_form=stored(MoveForm), confirm_form=stored(ConfirmForm))


@bp.route("/blocks/<int:block_id>/slides/new", methods=["GET", "POST"])
@bp.route("/blocks/<int:block_id>/slides/<int:slide_id>", methods=["GET", "POST"])
@roles_required(ROLE)
def slide(block_id: int, slide_id: int | None = None):
    block = _row(HomeBlock, block_id)
    if block.kind != "banner":
        abort(404)
    slide = _row(HomeSlide, slide_id) if slide_id else None
    if slide is not None and slide.block_id != block.id:
        abort(404)
    if request.method == "GET":
        form = stored(SlideForm, data=SlideForm.data_of(slide)) if slide else stored(SlideForm)
        return _slide_page(block, slide, form)
    form = SlideForm()
    if form.validate_on_submit():
        kind, link_id, page = form.link()
        try:
            services.save_slide(block, slide, services.SlideData(
                alt=form.alt.data, alt_en=form.alt_en.data or "", link_kind=kind,
                link_id=link_id, link_page=page, image=_upload(form.image)))
        except ImageError as exc:
            form.image.errors = [*form.image.errors, str(exc)]
        except services.HomeError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Slide saved."))
            return redirect(url_for("home_admin.slide", block_id=block.id), 303)
    return _slide_page(block, slide, form, status=422)


@bp.post("/slides/<int:slide_id>/move")
@roles_required(ROLE)
def move_slide(slide_id: int):
    slide = _row(HomeSlide, slide_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move_slide(slide, form.direction.data)
    return redirect(url_for("home_admin.slide", block_id=slide.block_id), 303)


@bp.post("/slides/<int:slide_id>/delete")
@roles_required(ROLE)
def delete_slide(slide_id: int):
    slide = _row(HomeSlide, slide_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    block_id = slide.block_id
    services.delete_slide(slide)
    flash(_("Slide deleted."))
    return redirect(url_for("home_admin.slide", block_id=block_id), 303)


# --- collections ---------------------------------------------------------------------------------


@bp.get("/collections")
@roles_required(ROLE)
def collections():
    return render("admin/home/collections.html", collections=services.all_collections(),
                  confirm_form=stored(ConfirmForm))


def _collection_page(collection: Collection | None, form: CollectionForm, status: int = 200):
    return render("admin/home/collection_form.html", collection=collection, form=form,
                  status=status, move_form=stored(MoveForm), confirm_form=stored(ConfirmForm))


@bp.route("/collections/new", methods=["GET", "POST"])
@bp.route("/collections/<int:collection_id>", methods=["GET", "POST"])
@roles_required(ROLE)
def collection(collection_id: int | None = None):
    collection = _row(Collection, collection_id) if collection_id else None
    if request.method == "GET":
        if collection is None:
            return _collection_page(None, stored(CollectionForm))
        form = stored(CollectionForm, data=CollectionForm.data_of(collection))
        form.products.data = [i.product_id for i in collection.items]  # in order
        return _collection_page(collection, form)
    form = CollectionForm()
    if form.validate_on_submit():
        try:
            saved = services.save_collection(collection, services.CollectionData(
                title=form.title.data, title_en=form.title_en.data or "",
                description=form.description.data or "",
                description_en=form.description_en.data or "",
                published=form.published.data, mode=form.mode.data,
                product_ids=ordered_ids(form.products),
                rule_category_id=form.rule_category.data,
                rule_keyword=form.rule_keyword.data or "", rule_sort=form.rule_sort.data,
                rule_limit=form.rule_limit.data or 12, cover=_upload(form.cover)))
        except ImageError as exc:
            form.cover.errors = [*form.cover.errors, str(exc)]
        except services.HomeError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Collection saved."))
            return redirect(url_for("home_admin.collection", collection_id=saved.id), 303)
    if not form.products.errors:
        form.products.data = ordered_ids(form.products)
    return _collection_page(collection, form, status=422)


@bp.post("/collections/<int:collection_id>/products/<int:product_id>/move")
@roles_required(ROLE)
def move_collection_product(collection_id: int, product_id: int):
    collection = _row(Collection, collection_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.move_collection_product(collection, product_id, form.direction.data)
    except services.HomeError:
        abort(404)
    return redirect(url_for("home_admin.collection", collection_id=collection.id), 303)


@bp.post("/collections/<int:collection_id>/delete")
@roles_required(ROLE)
def delete_collection(collection_id: int):
    collection = _row(Collection, collection_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_collection(collection)
    flash(_("Collection deleted."))
    return redirect(url_for("home_admin.collections"), 303)


# --- preview ---------------------------------------------------------------------------------------


@bp.get("/preview")
@roles_required(ROLE)
def preview():
    """The home page as it will look at ?at= (default: now), unpublished blocks included
    and marked. Reads only; nothing is cached."""
    form = PreviewForm(formdata=request.args)
    at = form.at.data if form.validate() and form.at.data else utcnow()
    return render("admin/home/preview.html", form=form, at=at,
                  blocks=services.home_blocks(at, preview=True))
