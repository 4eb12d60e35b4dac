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
from shop.web import SESSION_KEYS_KEPT, SESSION_KEYS_KEPT_AT_SIGNIN, redirect_to, render

SESSION_KEYS_KEPT.add(services.SESSION_KEY)  # a visitor's cart outlives signing in
SESSION_KEYS_KEPT_AT_SIGNIN.add(services.BUY_NOW_KEY)  # "Buy now", then sign in: still chosen


def _store():
    if current_user.is_authenticated:
        return services.AccountCart(current_user.id)
    return services.SessionCart(session)


def _count() -> int:
    """The badge's count, recounted when this request changed the current shopper's
    cart (services.changed(), wherever the change was made: these pages, an order placed
    from the cart, the merge at sign-in); otherwise read from the session, no query."""
    changed = services.changes()
    if changed and (current_user.id if current_user.is_authenticated else None) in changed:
        session[services.COUNT_KEY] = services.count(_store())
    return session.get(services.COUNT_KEY, 0)


@bp.after_app_request
def _recount(response):
    _count()  # changes made after the page was drawn, or with no page (a redirect)
    return response


@user_logged_in.connect
def _merge_at_signin(app, user, **extra):
    services.merge(services.SessionCart(session), services.AccountCart(user.id))


@bp.app_context_processor
def _badge():
    # emails rendered by jobs have no request, hence no session and no badge
    return {"cart_count": _count()} if has_request_context() else {}


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
    try:
        if form.buy.data:  # that item only, the cart as it is
            services.buy_now(session, form.sku_id.data, form.quantity.data, via=form.via.data)
        else:
            services.add(_store(), form.sku_id.data, form.quantity.data, via=form.via.data)
    except services.CartError as exc:
        return render("cart/_added.html", block="added", status=422, message=str(exc))
    if form.buy.data and not current_user.is_authenticated:
        # "Buy now" by a visitor not signed in: the item waits in their session (kept
        # at sign-in), the sign-in opens, then the checkout of that item.
        return sheet.sign_in_first(url_for("orders.checkout", now=1), "orders.checkout",
                                   _("Sign in to buy"))
    if form.buy.data:
        return redirect_to(url_for("orders.checkout", now=1))
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
    return _cart_page() if htmx else redirect(url_for("cart.view"))


@bp.post("/cart/items/<int:sku_id>/remove")
def remove(sku_id: int):
    store = _store()
    if sku_id not in store.quantities():
        abort(404)
    services.remove(store, sku_id)
    return _cart_page() if htmx else redirect(url_for("cart.view"))
