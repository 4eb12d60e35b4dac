import uuid

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.orders import bp, pricing, services
from shop.orders.forms import CheckoutForm, ShippingForm
from shop.wallet import services as wallet
from shop.web import render, roles_required

ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "detail")


def _checkout_page(form: CheckoutForm, status: int = 200, message: str | None = None):
    lines, priced = services.quote(current_user.id)
    if not lines and status == 200:
        flash(_("Your cart is empty."))
        return redirect(url_for("cart.view"))
    return render("orders/checkout.html", form=form, lines=lines, pricing=priced,
                  status=status, message=message)


@bp.get("/checkout")
@login_required
def checkout():
    form = CheckoutForm()
    address = services.latest_address(current_user.id)
    if address is not None:
        for name in ADDRESS_FIELDS:
            getattr(form, name).data = getattr(address, name)
    form.token.data = uuid.uuid4().hex  # one order per drawn form, however often it is sent
    return _checkout_page(form)


@bp.post("/checkout")
@login_required
def place():
    form = CheckoutForm()
    if not form.validate_on_submit():
        return _checkout_page(form, 422)
    address = services.save_address(current_user.id, **{n: getattr(form, n).data for n in ADDRESS_FIELDS})
    try:
        order = services.place_order(current_user.id, address, form.token.data)
    except services.OrderError as exc:
        return _checkout_page(form, 409, str(exc))
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.get("/orders")
@login_required
def index():
    return render("orders/list.html", orders=services.orders_of(current_user.id))


def _detail_page(order, status: int = 200, message: str | None = None):
    return render("orders/detail.html", order=order, status=status, message=message,
                  wallet_balance=wallet.balance(current_user.id))


@bp.get("/orders/<int:order_id>")
@login_required
def detail(order_id: int):
    return _detail_page(services.order_of(current_user.id, order_id) or abort(404))


@bp.post("/orders/<int:order_id>/pay/wallet")
@login_required
def pay_with_wallet(order_id: int):
    order = services.order_of(current_user.id, order_id) or abort(404)
    try:
        services.pay_with_wallet(order, current_user.id)
    except services.OrderError as exc:
        return _detail_page(order, 409, str(exc))
    flash(_("Paid. Thank you!"))
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.route("/admin/orders/shipping", methods=["GET", "POST"])
@roles_required("admin")
def shipping_settings():
    form = ShippingForm(data={key: pricing.get_setting(key) for key in pricing.SETTINGS}
                        if request.method == "GET" else None)
    if form.validate_on_submit():
        for key in pricing.SETTINGS:
            pricing.set_setting(key, getattr(form, key).data)
        flash(_("Shipping settings saved."))
        return redirect(url_for("orders.shipping_settings"))
    return render("admin/orders/shipping.html", form=form,
                  status=422 if request.method == "POST" else 200)
