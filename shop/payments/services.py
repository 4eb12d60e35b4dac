"""Payment rules. Services flush and raise PaymentError; they never commit.

- A card payment gets a PaymentIntent when it is created; the shopper's card is attached
  and confirmed through the gateway. Whatever tells us about the intent (our own confirm
  call, the webhook, the return page, the sweeper) ends in apply_intent(), which reads
  the intent's current state and moves the payment at most once: pending -> succeeded,
  or pending -> rejected when the money is not what we asked for. Deliveries that are
  duplicated, late or out of order therefore change nothing more.
- Refunds draw on Payment.refundable_minor through shop.db.ledger_move, so concurrent
  refunds can never give back more than was paid. A card refund reaches Stripe in a job
  after the commit, with an idempotency key made of our refund key.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop import jobs
from shop.db import db, ledger_move, utcnow
from shop.money import format_minor
from shop.payments import PaymentRefused, gateway, payment_succeeded, refund_failed
from shop.payments.models import Payment, Refund, StripeEvent


class PaymentError(ValueError):
    pass


def new_key() -> str:
    return uuid.uuid4().hex


# --- creating and confirming ------------------------------------------------------------


def record_wallet_payment(*, user_id: int, order_id: int, amount_minor: int, currency: str) -> Payment:
    """A wallet payment, already taken (the caller moved the wallet in this transaction)."""
    payment = Payment(key=new_key(), user_id=user_id, purpose="order", order_id=order_id,
                      method="wallet", amount_minor=amount_minor, currency=currency,
                      status="succeeded", refundable_minor=amount_minor)
    db.session.add(payment)
    db.session.flush()
    return payment


def start_card_payment(*, user_id: int, purpose: str, amount_minor: int, currency: str,
                       description: str, order_id: int | None = None,
                       credit_minor: int | None = None) -> Payment:
    """A pending card payment with its PaymentIntent for exactly this amount."""
    if not gateway.enabled():
        raise PaymentError(_("Card payments are not available in this shop."))
    payment = Payment(key=new_key(), user_id=user_id, purpose=purpose, order_id=order_id,
                      credit_minor=credit_minor, method="card", amount_minor=amount_minor,
                      currency=currency, status="pending")
    try:
        intent = gateway.create_intent(amount_minor=amount_minor, currency=currency,
                                       key=payment.key, description=description)
    except gateway.GatewayError as exc:
        raise PaymentError(str(exc)) from None
    payment.intent_id = intent.id
    db.session.add(payment)
    db.session.flush()
    return payment


def open_card_payment(*, purpose: str, order_id: int, amount_minor: int) -> Payment | None:
    """A pending card payment for this order and amount, to reuse instead of a new one."""
    return db.session.scalar(
        select(Payment).where(Payment.purpose == purpose, Payment.order_id == order_id,
                              Payment.method == "card", Payment.status == "pending",
                              Payment.amount_minor == amount_minor)
        .order_by(Payment.id.desc()).limit(1))


def payment_of(user_id: int, payment_id: int) -> Payment | None:
    """The payment if it is this shopper's (None: shown as 404)."""
    return db.session.scalar(select(Payment).where(Payment.id == payment_id,
                                                   Payment.user_id == user_id))


class Declined(PaymentError):
    """The card was declined; `retry` is a fresh payment for the same thing."""

    def __init__(self, message: str, retry: Payment):
        super().__init__(message)
        self.retry = retry


def confirm_card(payment: Payment, payment_method: str) -> gateway.Intent:
    """Attach the shopper's card and confirm; success is applied here (the webhook then
    finds nothing to do). A declined card closes this payment, with the reason kept, and
    raises Declined with a new payment for the same amount, for another card."""
    if payment.status != "pending":
        raise PaymentError(_("This payment is already settled."))
    try:
        intent = gateway.confirm(payment.intent_id, payment_method, key=payment.key,
                                 attempt=payment_method)
    except gateway.GatewayError as exc:
        if not exc.final:
            raise PaymentError(str(exc)) from None
        _move(payment, "pending", "canceled", last_error=str(exc)[:300])
        retry = start_card_payment(user_id=payment.user_id, purpose=payment.purpose,
                                   order_id=payment.order_id, credit_minor=payment.credit_minor,
                                   amount_minor=payment.amount_minor, currency=payment.currency,
                                   description=f"{payment.purpose} retry of {payment.key}")
        jobs.enqueue(close_intent, payment.id)
        raise Declined(str(exc), retry) from None
    apply_intent(payment, intent)
    return intent


def close_open_payments(order_id: int) -> None:
    """The order is paid or cancelled: its open card payments close here (the shopper
    sees why on a stale payment page), and their intents at Stripe after the commit."""
    reason = _("This order is no longer awaiting payment.")
    for payment in db.session.scalars(select(Payment).where(
            Payment.order_id == order_id, Payment.method == "card", Payment.status == "pending")):
        if _move(payment, "pending", "canceled", last_error=reason[:300]):
            jobs.enqueue(close_intent, payment.id)


def close_intent(payment_id: int) -> None:
    """Job: cancel the intent of a closed payment. If Stripe refuses because the shopper
    paid it meanwhile, the money is not wanted any more: it is refunded in full."""
    payment = db.session.get(Payment, payment_id, with_for_update=True)
    if payment is None or payment.status != "canceled" or payment.intent_id is None:
        return
    try:
        gateway.cancel(payment.intent_id, key=payment.key)
    except gateway.GatewayError:
        intent = gateway.retrieve(payment.intent_id)
        if intent.succeeded:
            _reject(payment, _("This order is no longer awaiting payment."),
                    refund_minor=intent.amount_minor, from_status="canceled")


def sync(payment: Payment) -> gateway.Intent | None:
    """Read the intent from Stripe and apply it (return page, sweeper)."""
    if payment.method != "card" or payment.intent_id is None:
        return None
    try:
        intent = gateway.retrieve(payment.intent_id)
    except gateway.GatewayError as exc:
        raise PaymentError(str(exc)) from None
    apply_intent(payment, intent)
    return intent


def _move(payment: Payment, from_status: str, to_status: str, **values) -> bool:
    moved = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status == from_status)
        .values(status=to_status, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(payment)
    return bool(moved)


def apply_intent(payment: Payment, intent: gateway.Intent) -> None:
    """Bring the payment in line with the intent's real state, at most once."""
    if payment.status != "pending":
        return
    if intent.status == "canceled":
        _move(payment, "pending", "canceled", last_error=intent.error)
        return
    if not intent.succeeded:
        if intent.error and intent.error != payment.last_error:
            payment.last_error = intent.error[:300]
            db.session.flush()
        return
    if (intent.amount_minor, intent.currency) != (payment.amount_minor, payment.currency):
        _reject(payment, _("The amount paid (%(paid)s) is not the amount due.",
                           paid=format_minor(intent.amount_minor, intent.currency)),
                refund_minor=intent.amount_minor)
        return
    if not _move(payment, "pending", "succeeded", refundable_minor=payment.amount_minor,
                 last_error=None):
        return  # applied meanwhile by another delivery
    try:
        with db.session.begin_nested():
            payment_succeeded.send(payment)
    except PaymentRefused as exc:
        _reject(payment, str(exc), refund_minor=payment.amount_minor, from_status="succeeded")


def _reject(payment: Payment, reason: str, *, refund_minor: int, from_status: str = "pending") -> None:
    """Money came in that we do not take: give all of it back."""
    if not _move(payment, from_status, "rejected", last_error=reason[:300], refundable_minor=0):
        return
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, key=f"reject-{payment.key}",
                    amount_minor=refund_minor, refundable_after_minor=0, status="pending",
                    reason=reason[:200])
    db.session.add(refund)
    db.session.flush()
    jobs.enqueue(send_refund, refund.id)


# --- refunds ----------------------------------------------------------------------------


def refund_payment(payment: Payment, amount_minor: int, *, key: str, reason: str,
                   actor_id: int | None, to_wallet) -> Refund:
    """Take `amount_minor` off what is refundable on this payment, with its Refund row.
    Wallet payments go back to the wallet here (to_wallet(refund) moves it); card
    payments go back through Stripe in a job after the commit."""
    if amount_minor <= 0:
        raise PaymentError(_("The amount must be more than zero."))
    refund = None

    def entry(refundable_after: int) -> Refund:
        nonlocal refund
        refund = Refund(payment_id=payment.id, order_id=payment.order_id, key=key,
                        amount_minor=amount_minor, refundable_after_minor=refundable_after,
                        status="pending", reason=reason[:200], actor_id=actor_id)
        return refund

    ledger_move(Payment.refundable_minor, [Payment.id == payment.id, Payment.status == "succeeded"],
                -amount_minor, entry, error=PaymentError,
                refused=_("That is more than can still be refunded."),
                duplicate=_("This refund was already made."))
    if payment.method == "wallet":
        to_wallet(refund)
        refund.status = "succeeded"
    else:
        jobs.enqueue(send_refund, refund.id)
    db.session.flush()
    db.session.refresh(payment, ["refundable_minor"])
    return refund


def send_refund(refund_id: int) -> None:
    """Job: hand a pending card refund to Stripe. Safe to repeat: the idempotency key is
    ours and a refund that is no longer pending is left alone. Stripe may answer
    "pending" (the bank is working): the sweeper asks again later, with the same key."""
    refund = db.session.get(Refund, refund_id, with_for_update=True)
    if refund is None or refund.status != "pending":
        return
    payment = db.session.get(Payment, refund.payment_id)
    try:
        refund.gateway_id, status = gateway.refund(payment.intent_id, refund.amount_minor, key=refund.key)
    except gateway.GatewayError as exc:
        if not exc.final:
            raise  # unreachable gateway: the job fails, the sweeper tries again
        _refund_failed(refund, payment, str(exc))
        return
    if status == "succeeded":
        refund.status = "succeeded"
    db.session.flush()


def _refund_failed(refund: Refund, payment: Payment, reason: str) -> None:
    """Stripe will not make this refund: mark it failed and make the amount refundable
    again, with a reversal row in the same ledger; then tell the purpose's owner."""
    refund.status = "failed"
    refund.reason = (refund.reason + " · " + reason)[:200]
    db.session.flush()
    if payment.status == "succeeded":
        ledger_move(Payment.refundable_minor, [Payment.id == payment.id, Payment.status == "succeeded"],
                    refund.amount_minor,
                    lambda after: Refund(payment_id=payment.id, order_id=payment.order_id,
                                         key=f"reversal-{refund.key}", amount_minor=-refund.amount_minor,
                                         refundable_after_minor=after, status="succeeded",
                                         reason="a card refund failed"),
                    error=PaymentError, refused=_("That is more than can still be refunded."),
                    duplicate=_("This refund was already made."))
        refund_failed.send(payment)


def pending_refund_ids(older_than) -> list[int]:
    return list(db.session.scalars(select(Refund.id).where(
        Refund.status == "pending", Refund.updated_at < older_than).order_by(Refund.id)))


def pending_card_payment_ids(older_than, order_id: int | None = None) -> list[int]:
    query = select(Payment.id).where(
        Payment.status == "pending", Payment.method == "card", Payment.intent_id.is_not(None),
        Payment.created_at < older_than)
    if order_id is not None:
        query = query.where(Payment.order_id == order_id)
    return list(db.session.scalars(query.order_by(Payment.id)))


# --- webhook ----------------------------------------------------------------------------


def take_event(event) -> bool:
    """Record a verified event once; False if it was taken before (a redelivery).
    Payment intent events are applied by reading the intent's current state."""
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(id=event.id, type=event.type))
            db.session.flush()
    except IntegrityError:
        return False
    if event.type.startswith("payment_intent."):
        obj = event.data.object
        payment = db.session.scalar(select(Payment).where(Payment.intent_id == obj.id)
                                    .with_for_update())
        if payment is not None:
            sync(payment)
    return True
