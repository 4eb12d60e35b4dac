"""Shopper side: share links and their beacon, the share panel and poster, the
distributor centre (figures, team, ledger, withdrawals, the kit per product), the
application, and a referrer's code typed at checkout."""

from __future__ import annotations

import hashlib

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from shop.accounts.models import User
from shop.articles import services as articles
from shop.articles.models import Article
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.db import db
from shop.extensions import htmx, limiter
from shop.media.services import path_for
from shop.money import format_minor
from shop.referrals import links, poster, services
from shop.referrals.blueprint import bp
from shop.referrals.forms import ApplyForm, CodeForm, WithdrawForm
from shop.web import render, render_error, viewer_id
from shop.web.visitor import visitor_id

BEACON_LIMIT = "60 per minute"
POSTER_SOURCE = "qr"  # ?src=qr: opened by scanning a poster (counted by shop.analytics)


@bp.app_context_processor
def _shared_token():
    """The token of the share link this page was opened through, for the beacon."""
    value = request.args.get("shared", "") if request else ""
    return {"shared_token": value if links.parse(value) else None}


# --- share links ------------------------------------------------------------------------


@bp.get("/s/<value>")
def open_link(value: str):
    """A share link: remember it and show the page. A code that can not refer this
    shopper (forged, disabled, their own, a loop) still shows the page, with a message,
    and credits nobody."""
    code, target = links.parse(value) or abort(404)
    user_id = viewer_id()
    try:
        services.check_code(code, user_id)
    except services.ReferralError as exc:
        flash(str(exc))
        return redirect(links.target_url(target), 303)
    links.remember(code, target)
    scanned = {"src": POSTER_SOURCE} if request.args.get("src") == POSTER_SOURCE else {}
    return redirect(links.target_url(target, shared=value, **scanned), 303)


@bp.post("/s/<value>/opened")
@limiter.limit(BEACON_LIMIT)
def opened(value: str):
    """Posted by the page once loaded: the open is counted, a signed-in shopper bound."""
    code, target = links.parse(value) or abort(404)
    user_id = viewer_id()
    try:
        sharer = services.check_code(code, user_id)
    except services.ReferralError:
        abort(404)
    services.record_open(sharer.id, target, visitor_id(), user_id)
    if user_id is not None:
        try:
            services.bind(user_id, code, via="link")
        except services.ReferralError:
            pass  # checked above; a loop made meanwhile is simply not bound
    return "", 204


@bp.get("/share/<target>")
def share(target: str):
    """The share panel of a page (home: "home"): the short link with the sharer's code,
    copy, the phone's share sheet, and the poster. Loaded when the button is tapped."""
    target = "" if target == "home" else target
    if not links.valid_target(target):
        abort(404)
    code = current_user.referral_code if current_user.is_authenticated else None
    url = links.short_url(code, target) if code else links.page_url(target)
    has_poster = bool(code) and target[:1] in links.POSTERS
    return render("referrals/share.html", block="panel", url=url, target=target,
                  poster=url_for("referrals.poster_image", value=links.token(code, target))
                  if has_poster else None)


@bp.get("/share/poster/<value>.png")
def poster_image(value: str):
    """The poster of a share link: drawn once per content, then served from disk."""
    code, target = links.parse(value) or abort(404)
    sharer = services.sharer_of(code)
    content = links.POSTERS[target[0]](int(target[1:])) if target[:1] in links.POSTERS else None
    if sharer is None or content is None:
        abort(404)
    image, title, price = content
    caption = _("%(name)s recommends", name=sharer.nickname)
    url = links.short_url(code, target, src=POSTER_SOURCE)
    hint = _("Scan to see it")
    digest = hashlib.sha256("\x1f".join((url, title, price, caption, hint, str(image or "")))
                            .encode()).hexdigest()[:40]
    try:
        path = poster.cached_poster(digest, lambda: poster.render_poster(
            image_path=image, title=title, price=price, caption=caption, scan_hint=hint, url=url))
    except poster.PosterError as exc:
        return render_error(None, 503, str(exc))
    return send_file(path, mimetype="image/png", max_age=3600)


def _product_poster(product_id: int):
    product = catalog.get_product_for_shoppers(product_id)
    if product is None:
        return None
    cover = product.cover
    image = path_for(cover.key, max(int(w) for w in cover.widths.split(","))) if cover else None
    return image, product.tr("title"), format_minor(product.price_minor, product.currency)


def _product_titles(ids: list[int]) -> dict[int, str]:
    return {p.id: p.tr("title") for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}


def _article_titles(ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(select(Article.id, Article.title).where(Article.id.in_(ids))).all())


links.register_target("p", "catalog.product", "product_id", _product_titles)
links.register_target("a", "articles.page", "article_id", _article_titles)
links.register_poster("p", _product_poster)


# --- the distributor centre -------------------------------------------------------------


def _centre_page(status: int = 200, form: WithdrawForm | None = None, message: str | None = None):
    user_id = current_user.id
    rows = services.link_figures(user_id)
    return render("referrals/centre.html", status=status, message=message,
                  figures=services.figures(user_id), links=rows,
                  titles=links.titles([row["target"] for row in rows]),
                  standing=services.standing(user_id), may_earn=services.may_earn(user_id),
                  settings=services.settings(), form=form or WithdrawForm(),
                  withdrawals=services.withdrawals_of(user_id),
                  products=catalog.featured_products(),
                  home_link=links.short_url(current_user.referral_code))


@bp.get("/distribution")
@login_required
def centre():
    return _centre_page()


@bp.post("/distribution/withdraw")
@login_required
def withdraw():
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _centre_page(422, form)
    try:
        services.request_withdrawal(current_user.id, form.amount.data, method=form.method.data,
                                    account_text=form.account.data or "")
    except services.ReferralError as exc:
        form.amount.errors.append(str(exc))
        return _centre_page(409, form)
    flash(_("Withdrawal requested. We will tell you when it is paid."))
    return redirect(url_for("referrals.centre"), 303)


@bp.get("/distribution/team")
@login_required
def team():
    level1, level2 = services.team(current_user.id)
    return render("referrals/team.html", level1=level1, level2=level2)


@bp.get("/distribution/ledger")
@login_required
def ledger():
    return render("referrals/ledger.html", entries=services.entries(current_user.id),
                  commissions=services.commissions_of(current_user.id),
                  figures=services.figures(current_user.id))


@bp.get("/distribution/kit/<int:product_id>")
@login_required
def kit(product_id: int):
    """What a distributor needs to sell one product: its selling points, the article that
    converts best with its link, and what one sale earns."""
    product = catalog.get_product_for_shoppers(product_id) or abort(404)
    # the price and the earnings of the option the product page leads with
    lead = catalog.lead_sku([sku for sku in product.skus if sku.active])
    best = articles.best_converting(product_id)
    code = current_user.referral_code
    _clicks, visitors, buyers = services.link_reach([current_user.id], target=f"p{product_id}")[current_user.id]
    return render("referrals/kit.html", product=product, best=best,
                  reach={"visitors": visitors, "buyers": buyers,
                         "conversion_bp": services.conversion_bp(buyers, visitors)},
                  # the article's paid orders per view, bounded as a conversion is (was
                  # orders * 10000 // views in the template, above 100 % when views went unreported)
                  article_rate_bp=services.conversion_bp(best[2], best[1]) if best else None,
                  product_link=links.short_url(code, f"p{product_id}"),
                  article_link=links.short_url(code, f"a{best[0].id}") if best else None,
                  lead=lead, per_sale=services.per_sale_minor(current_user.id, lead),
                  may_earn=services.may_earn(current_user.id),
                  poster=url_for("referrals.poster_image", value=links.token(code, f"p{product_id}")))


@bp.route("/distribution/apply", methods=["GET", "POST"])
@login_required
def apply():
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            services.apply(current_user.id, real_name=form.real_name.data, phone=form.phone.data,
                           pitch=form.pitch.data)
        except services.ReferralError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Application sent. We will reply soon."))
            return redirect(url_for("referrals.centre"), 303)
    return render("referrals/apply.html", form=form, standing=services.standing(current_user.id),
                  settings=services.settings(), status=422 if request.method == "POST" else 200)


def _referrer_panel(form: CodeForm | None = None, status: int = 200, message: str | None = None):
    referrer_id = services.referrer_of(current_user.id)
    return render("referrals/_checkout_referrer.html", status=status, message=message,
                  referrer=db.session.get(User, referrer_id) if referrer_id else None,
                  form=form or CodeForm(data={"code": links.cookie_code()}),
                  open_to_codes=services.settings().binding_rule != "registration")


@bp.get("/checkout/referrer")
@login_required
def referrer():
    """Loaded by the checkout page: who referred the shopper, or a field for a code."""
    return _referrer_panel()


@bp.post("/checkout/referrer")
@login_required
def claim():
    """A referrer's code typed at checkout (shoppers who have none yet). htmx swaps the
    panel; without it, the checkout page comes back with a message."""
    form = CodeForm()
    try:
        if not form.validate_on_submit():
            raise services.ReferralError(form.code.errors[0] if form.code.errors else
                                         _("The form has expired. Reload the page and try again."))
        services.bind(current_user.id, form.code.data, via="checkout")
    except services.ReferralError as exc:
        if not htmx:
            return render_error(None, 409, str(exc))
        form.code.errors[:] = [str(exc)]
        return _referrer_panel(form, 409)
    if not htmx:
        flash(_("Thank you: your referrer is saved."))
        return redirect(url_for("orders.checkout"), 303)
    return _referrer_panel(message=_("Thank you: your referrer is saved."))
