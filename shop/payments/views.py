from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.extensions import csrf
from shop.payments import gateway, services
from shop.payments.blueprint import bp
from shop.payments.forms import CardForm
from shop.web import render


def _own(payment_id: int):
    return services.payment_of(current_user.id, payment_id) or abort(404)


def done_url(payment) -> str:
    """Where the shopper goes once the payment is settled."""
    if payment.purpose == "order":
        return url_for("orders.detail", order_id=payment.order_id)
    return url_for("wallet.view")


def _card_page(payment, *, form=None, status=200, message=None, client_secret=None):
    return render("payments/card.html", payment=payment, form=form or CardForm(),
                  status=status, message=message, client_secret=client_secret,
                  done_url=done_url(payment))


@bp.get("/payments/<int:payment_id>")
@login_required
def card(payment_id: int):
    payment = _own(payment_id)
    if payment.status != "pending":
        return redirect(url_for("payments.result", payment_id=payment.id))
    return _card_page(payment)


@bp.post("/payments/<int:payment_id>/card")
@login_required
def confirm(payment_id: int):
    payment, form = _own(payment_id), CardForm()
    if not form.validate_on_submit():
        return _card_page(payment, form=form, status=422,
                          message=_("Enter your card details again."))
    try:
        intent = services.confirm_card(payment.id, form.payment_method.data)
    except services.Declined as exc:  # a new payment for another card; this request commits it
        return _card_page(exc.retry, message=str(exc))
    except services.PaymentError as exc:
        return _card_page(payment, status=409, message=str(exc))
    if intent.status == "requires_action":  # 3-D Secure: Stripe.js takes over
        return _card_page(payment, client_secret=intent.client_secret)
    return redirect(url_for("payments.result", payment_id=payment.id))


def _result_page(payment, *, intent=None, problem=None, status=200):
    return render("payments/result.html", block="result", payment=payment, intent=intent,
                  problem=problem, done_url=done_url(payment), status=status)


@bp.get("/payments/<int:payment_id>/result")
@login_required
def result(payment_id: int):
    """The real status, read from Stripe, whatever the URL says. A GET changes nothing:
    if Stripe has the money and we have not seen it yet, the page asks (POST) to sync."""
    payment = _own(payment_id)
    intent, problem = None, None
    if payment.status == "pending" and payment.intent_id:
        try:
            intent = gateway.retrieve(payment.intent_id)
        except gateway.GatewayError as exc:
            problem = str(exc)
    return _result_page(payment, intent=intent, problem=problem)


@bp.post("/payments/<int:payment_id>/sync")
@login_required
def sync(payment_id: int):
    payment = _own(payment_id)
    try:
        services.sync(payment.id)
    except services.PaymentError as exc:
        return _result_page(payment, problem=str(exc), status=502)
    return _result_page(payment)


@bp.post("/stripe/webhook")
@csrf.exempt  # signed by Stripe instead (gateway.parse_event)
def webhook():
    try:
        event = gateway.parse_event(request.get_data(), request.headers.get("Stripe-Signature"))
    except gateway.SignatureError as exc:
        current_app.logger.warning("webhook refused: %s", exc)
        return {"error": "signature"}, 400
    try:
        taken = services.take_event(event)
    except services.PaymentError as exc:  # Stripe could not be asked: let it retry
        current_app.logger.warning("webhook %s not applied: %s", event.id, exc)
        return {"error": "retry"}, 503
    return {"received": event.id, "duplicate": not taken}, 200
