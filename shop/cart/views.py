"""Cart pages and htmx actions. Each change answers htmx with the changed part and the
tab bar's badge out of band; without JavaScript it redirects to the cart."""

from flask import abort, flash, has_request_context, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from shop.accounts import sheet
from shop.cart import services
from shop.cart.blueprint import bp
from shop.cart.forms import AddForm, QuantityForm
from shop.extensions import htmx
from shop.web import SESSION_KEYS_KEPT, redirect_to, render

SESSION_KEYS_KEPT.add(services.SESSION_KEY)  # a visitor's cart outlives signing in


def _store():
    if current_user.is_authenticated:
        return services.AccountCart(current_user.id)
    return services.SessionCart(session)


def _recount(store) -> None:
    session[services.COUNT_KEY] = services.count(store)


@user_logged_in.connect
def _merge_at_signin(app, user, **extra):
    account = services.AccountCart(user.id)
    services.merge(services.SessionCart(session), account)
    _recount(account)


@bp.app_context_processor
def _badge():
    # emails rendered by jobs have no request, hence no session and no badge
    return {"cart_count": session.get(services.COUNT_KEY, 0)} if has_request_context() else {}


def _cart_page(status: int = 200, message: str | None = None):
    store = _store()
    lines = services.lines(store)
    return render("cart/cart.html", block="lines", status=status, lines=lines,
                  subtotal=services.subtotal_minor(lines), message=message)


@bp.get("/cart")
def view():
    return _cart_page()


@bp.post("/cart/add")
def add():
    form = AddForm()
    if not form.validate_on_submit():
        message = next(iter(e for errors in form.errors.values() for e in errors))
        return render("cart/_added.html", block="added", status=422, message=message)
    store = _store()
    try:
        services.add(store, form.sku_id.data, form.quantity.data, via=form.via.data)
    except services.CartError as exc:
        return render("cart/_added.html", block="added", status=422, message=str(exc))
    _recount(store)
    if form.buy.data and not current_user.is_authenticated:
        # "Buy now" by a visitor not signed in: the item waits in their cart (it is
        # merged into the account at sign-in), the sign-in opens, then the checkout.
        return sheet.sign_in_first(url_for("orders.checkout"), "orders.checkout",
                                   _("Sign in to buy"))
    if form.buy.data:
        return redirect_to(url_for("orders.checkout"))
    if not htmx:
        flash(_("Added to your cart."))
        return redirect(url_for("cart.view"))
    return render("cart/_added.html", block="added", message=None)


@bp.post("/cart/items/<int:sku_id>")
def update(sku_id: int):
    form = QuantityForm()
    if not form.validate_on_submit():
        message = next(iter(e for errors in form.errors.values() for e in errors))
        return _cart_page(422, message)
    store = _store()
    try:
        services.set_quantity(store, sku_id, form.quantity.data)
    except services.CartError as exc:
        return _cart_page(422, str(exc))
    _recount(store)
    return _cart_page() if htmx else redirect(url_for("cart.view"))


@bp.post("/cart/items/<int:sku_id>/remove")
def remove(sku_id: int):
    store = _store()
    if sku_id not in store.quantities():
        abort(404)
    services.remove(store, sku_id)
    _recount(store)
    return _cart_page() if htmx else redirect(url_for("cart.view"))
