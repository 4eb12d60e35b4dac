import uuid
from datetime import timedelta

from flask import (Response, abort, current_app, flash, redirect, request, session,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadData, URLSafeTimedSerializer
from flask_login import current_user, login_required
from wtforms import SelectChoice

from shop.cart import services as cart
from shop.db import day_start, shop_zone, utcnow
from shop.money import format_minor
from shop.orders import STATUS_LABELS, TAB_LABELS, export, placement, services
from shop.orders.blueprint import bp
from shop.orders.forms import (CheckoutForm, DeclineRefundForm, OrderFilterForm,
                               PayCardForm, RefundForm, RefundRequestForm, ShipBatchConfirmForm,
                               ShipBatchForm, ShipForm)
from shop.orders.models import Order
from shop.payments import PAYMENT_METHOD_LABELS, gateway
from shop.wallet import services as wallet
from shop.web import number_arg, render, roles_required, safe_next_url
from shop.web.forms import stored


def _options(form: CheckoutForm) -> dict:
    return {"use_points": bool(form.use_points.data), "coupon": form.coupon.data or "",
            "pickup": form.picks_up(), "province": form.province_code()}


def _buy_now() -> cart.BuyNow | None:
    """With ?now=1 the checkout sells the one item chosen with "Buy now", not the cart."""
    return cart.BuyNow(session) if request.args.get("now") == "1" else None


def _checkout_page(form: CheckoutForm, status: int = 200, message: str | None = None):
    buy_now = _buy_now()
    lines, quoted = placement.cart_quote(current_user.id, _options(form), buy_now=buy_now)
    if not lines and status == 200:
        flash(_("Nothing is chosen to buy now.") if buy_now else _("Your cart is empty."))
        return redirect(url_for("cart.view"))
    now = {"now": 1} if buy_now else {}  # the page's own requests keep to the same lines
    return render("orders/checkout.html", block="breakdown", form=form, lines=lines,
                  pricing=quoted.priced, status=status, message=message,
                  here=url_for("orders.checkout", **now), action=url_for("orders.place", **now))


@bp.get("/checkout")
@login_required
def checkout():
    """The checkout page; with ?use_points=y, ?coupon=<id>|none, ?fulfilment=pickup,
    ?address=<id>|new or ?province=<code> (htmx, when a choice changes) its price
    breakdown again, with the choice applied."""
    form = CheckoutForm()
    form.use_points.data = bool(request.args.get("use_points"))
    coupon = request.args.get("coupon", "")
    form.coupon.data = coupon if coupon == "none" or (coupon.isdigit() and len(coupon) <= 10) else ""
    form.fill_address(services.default_address(current_user.id))
    if request.args.get("fulfilment") == "pickup":
        form.fulfilment.data = "pickup"
    if "address" in request.args:
        form.address.data = request.args["address"][:10]
    if "province" in request.args:
        form.province.data = request.args["province"][:2]
        form.set_division_choices()
    form.token.data = uuid.uuid4().hex  # one order per drawn form, however often it is sent
    return _checkout_page(form)


@bp.post("/checkout")
@login_required
def place():
    form = CheckoutForm()
    if not form.validate_on_submit():
        return _checkout_page(form, 422)
    buy_now = _buy_now()
    try:
        order = placement.place_from_cart(current_user.id,
                                          services.destination(current_user.id, form),
                                          form.token.data, _options(form), buy_now)
    except services.OrderError as exc:
        return _checkout_page(form, 409, str(exc))
    if buy_now:
        buy_now.clear()  # bought
    return redirect(url_for("orders.detail", order_id=order.id))


# The tabs of My orders (services.SHOPPER_TABS), as shops in China name them.
ORDER_TAB_LABELS = {
    "all": _l("All"), "unpaid": _l("Unpaid"), "unshipped": _l("To be shipped"),
    "shipped": _l("To be received"), "pickup": _l("Awaiting pickup"), "done": _l("Completed"),
    "refunds": _l("Refunds & after-sales"),
}


@bp.get("/orders")
@login_required
def index():
    """My orders, newest first, under a tab (?tab=<key>, services.SHOPPER_TABS: unpaid,
    unshipped, shipped, pickup, done, refunds; all by default), 20 a page (?page=); for
    htmx (a tab or page link) the list's block only."""
    tab = request.args.get("tab", "all")
    if tab not in services.SHOPPER_TABS:
        tab = "all"
    counts = services.shopper_tab_counts(current_user.id)
    listing = services.shopper_orders(current_user.id, tab, counts,
                                      page=number_arg("page", 1, most=10_000))
    if listing.page > listing.pages:
        abort(404)
    args = {} if tab == "all" else {"tab": tab}
    response = render("orders/list.html", block="orders", listing=listing, counts=counts,
                      tab=tab, tabs=ORDER_TAB_LABELS, args=args,
                      here=url_for("orders.index", **args, **(
                          {"page": listing.page} if listing.page > 1 else {})))
    response.cache_control.private = True
    return response


def _back_to(order_id: int) -> str:
    """Where an action of a list row or the order page returns: the page it was sent
    from (its form's `next`, a path of this site), else the order's page."""
    return safe_next_url(request.form.get("next")) or url_for("orders.detail", order_id=order_id)


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id: int):
    """The shopper cancels an unpaid order of theirs (services.cancel_by_shopper)."""
    order = services.order_of(current_user.id, order_id) or abort(404)
    try:
        services.cancel_by_shopper(order, user_id=current_user.id)
    except services.OrderError as exc:
        return _detail_page(services.order_of(current_user.id, order_id), 409, str(exc))
    flash(_("Order cancelled. What it held is yours again."))
    return redirect(_back_to(order_id), 303)


@bp.post("/orders/<int:order_id>/buy-again")
@login_required
def buy_again(order_id: int):
    """The order's items still on sale go into the cart (services.buy_again); the cart
    then says what could not be added and why."""
    order = services.order_of(current_user.id, order_id) or abort(404)
    done = services.buy_again(order, user_id=current_user.id)
    if done.added:
        flash(ngettext("%(num)d item added to your cart.", "%(num)d items added to your cart.",
                       len(done.added)))
    for line, units, wanted in done.added:
        if units < wanted:
            flash(_("%(title)s: only %(n)d of %(wanted)d added (no more may be had now).",
                    title=line.title, n=units, wanted=wanted))
    for line, why in done.left_out:
        flash(_("%(title)s was not added: %(why)s.", title=line.title, why=why))
    return redirect(url_for("cart.view"), 303)


def _detail_page(order, status: int = 200, message: str | None = None, refund_form=None):
    """The shopper's order page: what other domains show on it (its group, the points it
    used, its pickup) comes from their page parts, read here, not from the template."""
    response = render("orders/detail.html", order=order, status=status, message=message,
                      wallet_balance=wallet.balance(current_user.id),
                      due=services.amount_due(order), card_form=stored(PayCardForm),
                      refund_form=refund_form or stored(RefundRequestForm), cards=gateway.enabled(),
                      completes_at=services.completes_at(order), **services.page_parts(order))
    # the owner's own page (a pickup code): no cache keeps it, shared or not
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


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


@bp.post("/orders/<int:order_id>/pay/card")
@login_required
def pay_by_card(order_id: int):
    order, form = services.order_of(current_user.id, order_id) or abort(404), PayCardForm()
    if not form.validate_on_submit():
        return _detail_page(order, 422)
    try:
        payment = services.pay_by_card(order, current_user.id, use_wallet=form.use_wallet.data)
    except services.OrderError as exc:
        return _detail_page(order, 409, str(exc))
    if payment is None:
        flash(_("Paid. Thank you!"))
        return redirect(url_for("orders.detail", order_id=order.id))
    return redirect(url_for("payments.card", payment_id=payment.id))


@bp.post("/orders/<int:order_id>/refund-request")
@login_required
def request_refund(order_id: int):
    order, form = services.order_of(current_user.id, order_id) or abort(404), RefundRequestForm()
    if not form.validate_on_submit():
        return _detail_page(order, 422, refund_form=form)
    try:
        services.request_refund(order, user_id=current_user.id, reason=form.reason.data)
    except services.OrderError as exc:
        return _detail_page(order, 409, str(exc), refund_form=form)
    flash(_("Refund requested. We will reply soon."))
    return redirect(url_for("orders.detail", order_id=order.id))


# --- backoffice -------------------------------------------------------------------------
# Every backoffice query of orders goes through the user's scope (services.order_scope):
# store staff see, count, export, ship and act on the orders collected at their stores
# only; another store's order is a 404, as if it did not exist.


def _scope() -> services.Scope:
    return services.order_scope(current_user)


def _admin_order(order_id: int) -> Order:
    return services.admin_order(_scope(), order_id) or abort(404)


def customer_url(user_id: int) -> str | None:
    """The customer's backoffice page (accounts_admin.customer), when the shop has it."""
    if "accounts_admin.customer" not in current_app.view_functions:
        return None
    return url_for("accounts_admin.customer", user_id=user_id)


def _filter_form() -> OrderFilterForm:
    form = OrderFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(key, label) for key, label in TAB_LABELS.items() if key != "all"] + [
        SelectChoice(key, label) for key, label in STATUS_LABELS.items() if key not in TAB_LABELS]
    return form


def _filters(form: OrderFilterForm) -> services.OrderFilter:
    return services.OrderFilter(
        status=form.status.data or "", q=(form.q.data or "").strip(),
        method=form.method.data or "",
        since=day_start(form.since.data) if form.since.data else None,
        until=day_start(form.until.data + timedelta(days=1)) if form.until.data else None)


def _list_args() -> dict:
    """The list's own query arguments (what tabs, pages and the export carry along)."""
    return {key: request.args[key] for key in ("status", "q", "method", "since", "until")
            if request.args.get(key)}


def _tab_links() -> list[tuple[str, str, str]]:
    """(key, label, link) of each tab, with the other filters kept (and page 1)."""
    others = {key: value for key, value in _list_args().items() if key != "status"}
    return [(key, label, url_for("orders.admin_list",
                                 **(others if key == "all" else dict(others, status=key))))
            for key, label in TAB_LABELS.items()]


@bp.get("/admin/orders")
@roles_required("staff")
def admin_list():
    """The orders, newest first, in tabs by where they are (?status=<tab>: unpaid, held, to_ship,
    shipped, awaiting_pickup, completed, refund_requested, refunded, cancelled; or one
    order status), searched (?q=: order number, customer's name, phone or email, product
    title), by payment (?method=card|wallet) and days (?since=, ?until=, YYYY-MM-DD)."""
    form = _filter_form()
    if request.args and not form.validate():
        return render("admin/orders/list.html", block="results", form=form, pagination=None,
                      rows=[], counts=None, args={}, status=422)
    scope, filters = _scope(), _filters(form)
    pagination, rows = services.admin_orders(scope, filters,
                                             page=number_arg("page", 1, most=10_000))
    return render("admin/orders/list.html", block="results", form=form, pagination=pagination,
                  rows=rows, counts=services.tab_counts(scope, filters), args=_list_args(),
                  tabs=_tab_links(), customer_url=customer_url, every_order=scope.everything)


@bp.get("/admin/orders/export.csv")
@roles_required("staff")
def admin_export():
    """The filtered list (the same arguments as orders.admin_list) as CSV, streamed."""
    form = _filter_form()
    if request.args and not form.validate():
        return render("admin/orders/list.html", block="results", form=form, pagination=None,
                      rows=[], counts=None, args={}, status=422)
    batches = services.export_batches(_scope(), _filters(form))
    response = Response(stream_with_context(export.stream(batches, PAYMENT_METHOD_LABELS)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=orders-{utcnow().astimezone(shop_zone()):%Y%m%d-%H%M}.csv")  # shop's time
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _refund_choices(order: Order) -> list[SelectChoice]:
    """The whole order, or one of its lines by name with what it can still refund."""
    return [SelectChoice(0, _("The whole order (goods first, then shipping)"))] + [
        SelectChoice(line.id, _("%(title)s %(label)s × %(n)d: %(amount)s left of %(paid)s",
                                title=line.title, label=line.sku_label, n=line.quantity,
                                amount=format_minor(line.refundable_minor, order.currency),
                                paid=format_minor(line.paid_minor, order.currency)))
        for line in order.lines if line.refundable_minor]


def _admin_page(order: Order, ship_form: ShipForm | None = None, status: int = 200,
                message: str | None = None, refund_form: RefundForm | None = None):
    refundable = services.refundable_minor(order)
    if refund_form is None:
        refund_form = stored(RefundForm, data={"token": uuid.uuid4().hex})
    refund_form.line.choices = _refund_choices(order)
    who = services.people([order.user_id] + [e.actor_id for e in order.events])
    return render("admin/orders/detail.html", order=order, ship_form=ship_form or stored(ShipForm),
                  refund_form=refund_form, decline_form=stored(DeclineRefundForm),
                  payments=services.payments_of(order), refunds=services.refunds_of(order),
                  refundable=refundable, paid=services.paid_minor(order), status=status,
                  message=message, price=services.breakdown(order), people=who,
                  customer=who.get(order.user_id), customer_url=customer_url,
                  **services.page_parts(order))


@bp.get("/admin/orders/<int:order_id>")
@roles_required("staff")
def admin_detail(order_id: int):
    return _admin_page(_admin_order(order_id))


@bp.post("/admin/orders/<int:order_id>/ship")
@roles_required("staff")
def admin_ship(order_id: int):
    order, form = _admin_order(order_id), ShipForm()
    if not form.validate_on_submit():
        return _admin_page(order, form, 422)
    try:
        services.ship(order, carrier=form.carrier.data, tracking_number=form.tracking_number.data,
                      actor_id=current_user.id)
    except services.OrderError as exc:
        return _admin_page(order, form, 409, str(exc))
    flash(_("Marked as shipped."))
    return redirect(url_for("orders.admin_detail", order_id=order_id))


@bp.post("/admin/orders/<int:order_id>/cancel")
@roles_required("staff")
def admin_cancel(order_id: int):
    order = _admin_order(order_id)
    try:
        services.cancel(order, actor_id=current_user.id, reason="cancelled by staff")
    except services.OrderError as exc:
        return _admin_page(order, None, 409, str(exc))
    flash(_("Order cancelled; its stock is back."))
    return redirect(url_for("orders.admin_detail", order_id=order_id))


@bp.post("/admin/orders/<int:order_id>/refund")
@roles_required("admin")
def admin_refund(order_id: int):
    order, form = _admin_order(order_id), RefundForm()
    form.line.choices = _refund_choices(order)
    if not form.validate_on_submit():
        return _admin_page(order, status=422, refund_form=form)
    line = next((line for line in order.lines if line.id == form.line.data), None)
    amount = form.amount.data  # none typed: all that is left of the choice
    if amount is None:
        amount = line.refundable_minor if line is not None else services.refundable_minor(order)
    try:
        services.refund(order, amount, key=form.token.data, reason=form.reason.data,
                        actor_id=current_user.id, restock=form.restock.data,
                        line_id=form.line.data or None)
    except services.OrderError as exc:
        return _admin_page(order, status=409, message=str(exc), refund_form=form)
    flash(_("Refund recorded."))
    return redirect(url_for("orders.admin_detail", order_id=order_id))


@bp.post("/admin/orders/<int:order_id>/refund/decline")
@roles_required("admin")
def admin_decline_refund(order_id: int):
    order, form = _admin_order(order_id), DeclineRefundForm()
    if not form.validate_on_submit():
        return _admin_page(order, status=422, message=_("Say why the refund is declined."))
    try:
        services.decline_refund(order, actor_id=current_user.id, reason=form.reason.data)
    except services.OrderError as exc:
        return _admin_page(order, status=409, message=str(exc))
    flash(_("Refund request declined."))
    return redirect(url_for("orders.admin_detail", order_id=order_id))


@bp.get("/admin/orders/aftersales")
@roles_required("staff")
def admin_aftersales():
    """Refund requests waiting for an answer, the oldest first; each links to its order,
    where an admin refunds or declines it (which takes it off this list)."""
    pagination, asks = services.refund_queue(_scope(), page=number_arg("page", 1, most=10_000))
    return render("admin/orders/aftersales.html", pagination=pagination, asks=asks,
                  customer_url=customer_url)


# --- backoffice: shipping a batch from a CSV file -----------------------------------------

BATCH_SALT = "orders-ship-batch"
BATCH_MAX_AGE = 3600  # a preview left open longer is uploaded again


def _batch_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=BATCH_SALT)


def _batch_page(form: ShipBatchForm, *, rows=None, signed: str = "", done: bool = False,
                status: int = 200, message: str | None = None):
    ok = [row for row in rows or [] if row.error is None]
    return render("admin/orders/ship_batch.html", form=form, rows=rows, ok=ok,
                  confirm_form=stored(ShipBatchConfirmForm, data={"rows": signed}), done=done,
                  status=status, message=message)


@bp.route("/admin/orders/ship-batch", methods=["GET", "POST"])
@roles_required("staff")
def admin_ship_batch():
    """Upload a CSV of (order number, carrier, tracking number): a preview of every row,
    OK or why not. Nothing is shipped until the preview is confirmed."""
    form = ShipBatchForm()
    if request.method == "GET":
        return _batch_page(form)
    if not form.validate_on_submit():
        return _batch_page(form, status=422)
    data = form.file.data.read(services.SHIP_FILE_MAX_BYTES + 1)
    try:
        table = services.read_ship_file(data)
    except services.OrderError as exc:
        return _batch_page(form, status=422, message=str(exc))
    rows = services.check_ship_rows(_scope(), table)
    signed = _batch_signer().dumps({"user": current_user.id, "rows": table})
    return _batch_page(form, rows=rows, signed=signed)


@bp.post("/admin/orders/ship-batch/confirm")
@roles_required("staff")
def admin_ship_batch_confirm():
    """Ship the rows of a preview that can ship, every row checked again now."""
    form, confirm_form = stored(ShipBatchForm), ShipBatchConfirmForm()
    if not confirm_form.validate_on_submit():
        return _batch_page(form, status=422, message=_("Upload the file again."))
    try:
        payload = _batch_signer().loads(confirm_form.rows.data, max_age=BATCH_MAX_AGE)
    except BadData:
        return _batch_page(form, status=400, message=_(
            "This preview is too old or was changed; upload the file again."))
    payload = payload if isinstance(payload, dict) else {}
    table = payload.get("rows")
    if payload.get("user") != current_user.id or not isinstance(table, list) or not all(
            isinstance(row, list) and all(isinstance(c, str) for c in row) for row in table):
        return _batch_page(form, status=400, message=_(
            "This preview is too old or was changed; upload the file again."))
    rows = services.ship_rows(_scope(), table, actor_id=current_user.id)
    shipped = [row for row in rows if row.error is None]
    if not shipped:
        return _batch_page(form, rows=rows, done=True, status=409,
                           message=_("No order was shipped: no row can ship."))
    flash(ngettext("%(num)d order shipped.", "%(num)d orders shipped.", len(shipped)))
    return _batch_page(form, rows=rows, done=True)


# --- receipt ------------------------------------------------------------------------------


@bp.post("/orders/<int:order_id>/receive")
@login_required
def confirm_receipt(order_id: int):
    order = services.order_of(current_user.id, order_id) or abort(404)
    try:
        services.confirm_receipt(order, user_id=current_user.id)
    except services.OrderError as exc:
        return _detail_page(order, 409, str(exc))
    flash(_("Thank you! Your order is complete."))
    return redirect(url_for("orders.detail", order_id=order.id))
