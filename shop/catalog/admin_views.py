"""Backoffice: categories and products. Every route checks the role (admins)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from shop.catalog.blueprint import admin_bp as bp
from shop.catalog import services
from shop.catalog.forms import CategoryForm, ImageForm, ProductForm
from shop.catalog.models import Category, Product
from shop.db import db
from shop.extensions import htmx
from shop.media.services import ImageError, read_upload, store_image
from shop.web import number_arg, render, roles_required
from shop.web.forms import stored

BLANK_SKU_ROWS = 2
BLANK_SKU = {"price": None, "cost": None, "stock": None, "active": True}


def _split(text: str | None, sep: str) -> list[str]:
    text = (text or "").replace("，", ",").replace("／", "/")
    return [part.strip() for part in text.split(sep) if part.strip()]


def _labels(text: str | None) -> dict[str, str]:
    labels = {}
    for line in (text or "").splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            if key.strip() and value.strip():
                labels[key.strip()] = value.strip()
    return labels


def _category_choices(include_none: str | None = None, top_only: bool = False):
    choices = [SelectChoice(0, include_none)] if include_none else []
    for category in services.all_categories():
        if top_only and category.parent_id is not None:
            continue
        prefix = "— " if category.parent_id else ""
        choices.append(SelectChoice(category.id, prefix + category.name))
    return choices


def _shipping_choices():
    return [SelectChoice(0, _("The default template"))] + [
        SelectChoice(template_id, name)
        for template_id, name in services.PRODUCT_CHOICES["shipping_template_id"]()]


def _get_product(product_id: int) -> Product:
    return db.session.get(Product, product_id) or abort(404)


# --- categories ------------------------------------------------------------------------


@bp.get("/categories")
@roles_required("admin")
def categories():
    return render("admin/catalog/categories.html", categories=services.all_categories())


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@roles_required("admin")
def category_form(category_id: int | None = None):
    category = db.session.get(Category, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET" and category is not None:
        form.name_en.data = category.translations.get("en", {}).get("name", "")
        form.parent_id.data = category.parent_id or 0
    form.parent_id.choices = _category_choices(_("None (top level)"), top_only=True)
    if form.validate_on_submit():
        try:
            category = services.save_category(
                category, name=form.name.data, name_en=form.name_en.data or "",
                slug=form.slug.data, parent_id=form.parent_id.data or None,
                position=form.position.data, active=form.active.data,
            )
        except services.CatalogError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Category saved."))
            return redirect(url_for("catalog_admin.categories"))
    status = 422 if request.method == "POST" else 200
    return render("admin/catalog/category_form.html", form=form, category=category, status=status)


# --- products --------------------------------------------------------------------------


@bp.get("/products")
@roles_required("admin")
def products():
    page = number_arg("page", 1, most=10_000)
    q = request.args.get("q", "").strip()[:80]
    status = request.args.get("status", "")
    archived = request.args.get("archived") == "1"
    low = request.args.get("stock") == "low"
    pagination = services.admin_products(
        q=q, status=status, archived=archived, page=page,
        low_stock=current_app.config["LOW_STOCK_THRESHOLD"] if low else None)
    return render("admin/catalog/products.html", block="results", pagination=pagination,
                  q=q, status_filter=status, archived=archived, low=low)


def _product_form_data(product: Product) -> dict:
    en = (product.translations or {}).get("en", {})
    return {
        "title": product.title, "title_en": en.get("title", ""),
        "subtitle": product.subtitle, "subtitle_en": en.get("subtitle", ""),
        "selling_points": product.selling_points, "selling_points_en": en.get("selling_points", ""),
        "description": product.description, "description_en": en.get("description", ""),
        "category_id": product.category_id, "cost_price": product.cost_price_minor,
        "status": product.status, "featured": product.featured,
        "shipping_template_id": product.shipping_template_id or 0,
        "purchase_limit": product.purchase_limit, "pickup_enabled": product.pickup_enabled,
        "option_names": ", ".join(product.option_names or []),
        "option_labels_en": "\n".join(f"{k}={v}" for k, v in en.get("options", {}).items()),
        "skus": [
            {"id": str(sku.id), "code": sku.code, "options": " / ".join(sku.option_values),
             "price": sku.price_minor, "cost": sku.cost_price_minor, "stock": sku.stock,
             "stock_seen": str(sku.stock), "active": sku.active}
            for sku in product.skus
        ] + [BLANK_SKU] * BLANK_SKU_ROWS,
    }


def _translations(form: ProductForm) -> dict:
    en = {
        "title": form.title_en.data, "subtitle": form.subtitle_en.data,
        "selling_points": form.selling_points_en.data, "description": form.description_en.data,
        "options": _labels(form.option_labels_en.data),
    }
    en = {key: value for key, value in en.items() if value}
    return {"en": en} if en else {}


def _sku_rows(form: ProductForm) -> list[services.SkuRow] | None:
    """The filled SKU rows, or None after adding errors to the blank-but-half-filled ones."""
    rows, ok = [], True
    for entry in form.skus.entries:
        sub = entry.form
        if sub.is_blank():
            continue
        if not sub.code.data:
            sub.code.errors.append(_("Give the SKU a code."))
            ok = False
        if sub.price.data is None:
            sub.price.errors.append(_("Give the SKU a price."))
            ok = False
        raw_id, raw_seen = sub.id.data or "", sub.stock_seen.data or "0"
        if not (raw_id.isdigit() or raw_id == "") or not raw_seen.isdigit():
            abort(400)  # hidden fields the page wrote: only a forged form gets here
        sku_id, seen = (int(raw_id) if raw_id else None), int(raw_seen)
        if ok:
            rows.append(services.SkuRow(
                id=sku_id, code=sub.code.data, option_values=_split(sub.options.data, "/"),
                price_minor=sub.price.data, stock=sub.stock.data or 0, stock_seen=seen,
                active=sub.active.data, cost_price_minor=sub.cost.data,
            ))
    return rows if ok else None


def _product_page(product: Product | None, form: ProductForm | None = None,
                  image_form: ImageForm | None = None, status: int = 200):
    """The product form page, with the form drawn from the product when none is given."""
    if form is None:
        form = stored(ProductForm, data=_product_form_data(product) if product else {
            "skus": [BLANK_SKU] * (BLANK_SKU_ROWS + 1), "status": "draft",
        })
        form.category_id.choices = _category_choices()  # a posted form has them already
        form.shipping_template_id.choices = _shipping_choices()
    return render("admin/catalog/product_form.html", form=form, product=product,
                  image_form=image_form or stored(ImageForm), status=status)


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@roles_required("admin")
def product_form(product_id: int | None = None):
    product = _get_product(product_id) if product_id else None
    if request.method == "GET":
        return _product_page(product)
    form = ProductForm()
    form.category_id.choices = _category_choices()
    form.shipping_template_id.choices = _shipping_choices()
    if form.validate_on_submit():
        rows = _sku_rows(form)
        if rows is not None:
            data = services.ProductData(
                title=form.title.data, subtitle=form.subtitle.data or "",
                selling_points=form.selling_points.data or "",
                description=form.description.data or "", category_id=form.category_id.data,
                cost_price_minor=form.cost_price.data, status=form.status.data,
                featured=form.featured.data, option_names=_split(form.option_names.data, ","),
                translations=_translations(form), purchase_limit=form.purchase_limit.data,
                shipping_template_id=form.shipping_template_id.data or None,
                pickup_enabled=form.pickup_enabled.data,
            )
            try:
                product = services.save_product(
                    product, data, rows, currency=current_app.config["SHOP_CURRENCY"],
                    actor_id=current_user.id,
                )
            except services.CatalogError as exc:
                form.form_errors.append(str(exc))
            else:
                flash(_("Product saved."))
                return redirect(url_for("catalog_admin.product_form", product_id=product.id))
    return _product_page(product, form, status=422)


@bp.post("/products/<int:product_id>/archive")
@roles_required("admin")
def archive(product_id: int):
    product = _get_product(product_id)
    if product.archived_at is None:
        services.archive_product(product)
        flash(_("Product archived: shoppers no longer see it."))
    else:
        services.restore_product(product)
        flash(_("Product restored as off sale."))
    return redirect(url_for("catalog_admin.product_form", product_id=product.id))


@bp.post("/products/<int:product_id>/images")
@roles_required("admin")
def upload_image(product_id: int):
    product = _get_product(product_id)
    form = ImageForm()
    if form.validate_on_submit():
        try:
            data = read_upload(form.image.data.stream, current_app.config["MAX_IMAGE_BYTES"])
            services.add_image(product, store_image(data))
        except ImageError as exc:
            form.image.errors.append(str(exc))
    status = 422 if form.errors else 200
    if htmx:
        return render("admin/catalog/product_form.html", block="images", product=product,
                      image_form=form if form.errors else stored(ImageForm), status=status)
    if form.errors:
        return _product_page(product, image_form=form, status=422)
    flash(_("Image added."))
    return redirect(url_for("catalog_admin.product_form", product_id=product.id))


@bp.post("/products/<int:product_id>/images/<int:image_id>/delete")
@roles_required("admin")
def delete_image(product_id: int, image_id: int):
    product = _get_product(product_id)
    try:
        services.remove_image(product, image_id)
    except services.CatalogError:
        abort(404)
    if not htmx:
        return redirect(url_for("catalog_admin.product_form", product_id=product.id))
    return render("admin/catalog/product_form.html", block="images", product=product,
                  image_form=stored(ImageForm))
