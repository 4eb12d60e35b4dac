"""Payment rules. Services flush and raise PaymentError; they never commit.

- A payment is for a purpose (an order, a wallet recharge) whose owning domain registers
  it with purpose(): how to lock what the payment is for, what to do when the money
  arrives (it may refuse it: PaymentRefused, and the money goes back), and when a card
  refund fails. The payments domain imports none of them.
- LOCK ORDER (shop.orders.lifecycle): what a payment is for comes before the payment.
  Every path that changes a payment of an order (our confirm call, the webhook, the
  return page, the sweeper, the jobs that close intents and send refunds) takes locked()
  first, which has the purpose lock its row (the order) before the payment's own row.
- Keys are made of our ids (`order-<id>-pay-<n>`, `user-<id>-recharge-<n>`): the
  payment row is written with its key before Stripe is called, and the key is Stripe's
  idempotency key, so a retried request gets the same PaymentIntent back.
- Whatever tells us about an intent ends in apply_intent(), which reads the intent's
  current state and moves the payment at most once: pending -> succeeded, or to rejected
  (and refunded in full) when the money is not what we asked for or no longer wanted.
  Deliveries that are duplicated, late or out of order therefore change nothing more.
- Refunds draw on Payment.refundable_minor through shop.db.ledger_move, so concurrent
  refunds can never give back more than was paid. A card refund reaches Stripe in a job
  after the commit, with an idempotency key made of our refund key.

Stripe is called outside any row lock, except where noted at the call: creating an intent
and confirming a card happen under the order's lock, because that lock is what makes
five taps one PaymentIntent and one confirmation (the double on loopback keeps no
idempotency keys, and the card page needs the intent before the request ends).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from shop import jobs
from shop.db import db, ledger_move, utcnow
from shop.money import format_minor
from shop.payments import PaymentRefused, gateway
from shop.payments.models import Payment, Refund, StripeEvent


class PaymentError(ValueError):
    pass


# --- purposes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    lock: Callable[[Payment], None]          # lock what it is for (LOCK ORDER: before it)
    succeeded: Callable[[Payment], None]     # the money arrived; may raise PaymentRefused
    refund_failed: Callable[[Payment], None] | None = None  # a card refund came back


PURPOSES: dict[str, Purpose] = {}


def purpose(name: str, *, lock: Callable, succeeded: Callable,
            refund_failed: Callable | None = None) -> None:
    """A domain owns payments of this purpose (orders: "order", wallet: "recharge")."""
    PURPOSES[name] = Purpose(lock, succeeded, refund_failed)


def locked(payment_id: int) -> Payment | None:
    """The payment, freshly read and locked for this transaction, after what it is for
    (its order) was locked by the purpose's owner: the LOCK ORDER for every path."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        return None
    PURPOSES[payment.purpose].lock(payment)
    return db.session.get(Payment, payment_id, with_for_update=True, populate_existing=True)


# --- creating and confirming ------------------------------------------------------------


def next_key(*, order_id: int | None = None, user_id: int | None = None,
             purpose_name: str = "order") -> str:
    """The key of the next payment: `order-<id>-pay-<n>` for an order (n counts its
    payments), `user-<id>-<purpose>-<n>` otherwise. Taken under the lock of what it is
    for, so two payments never draw the same n (a unique key would refuse the second)."""
    if order_id is not None:
        n = db.session.scalar(select(func.count(Payment.id)).where(Payment.order_id == order_id))
        return f"order-{order_id}-pay-{n + 1}"
    n = db.session.scalar(select(func.count(Payment.id)).where(
        Payment.user_id == user_id, Payment.purpose == purpose_name))
    return f"user-{user_id}-{purpose_name}-{n + 1}"


def record_wallet_payment(*, user_id: int, order_id: int, amount_minor: int, currency: str) -> Payment:
    """A wallet payment, already taken (the caller moves the wallet in this transaction)."""
    payment = Payment(key=next_key(order_id=order_id), user_id=user_id, purpose="order",
                      order_id=order_id, method="wallet", amount_minor=amount_minor,
                      currency=currency, status="succeeded", refundable_minor=amount_minor)
    db.session.add(payment)
    db.session.flush()
    return payment


def start_card_payment(*, user_id: int, purpose: str, amount_minor: int, currency: str,
                       description: str, key: str, order_id: int | None = None,
                       credit_minor: int | None = None) -> Payment:
    """A pending card payment for exactly this amount: its row first, with our key, then
    its PaymentIntent (idempotency key: that key). The caller holds the lock of what it
    is for (LOCK ORDER), so this is the only open card payment of it."""
    if not gateway.enabled():
        raise PaymentError(_("Card payments are not available in this shop."))
    payment = Payment(key=key, user_id=user_id, purpose=purpose, order_id=order_id,
                      credit_minor=credit_minor, method="card", amount_minor=amount_minor,
                      currency=currency, status="pending")
    db.session.add(payment)
    db.session.flush()
    try:  # under the caller's lock: see the module's note
        intent = gateway.create_intent(amount_minor=amount_minor, currency=currency,
                                       key=payment.key, description=description)
    except gateway.GatewayError as exc:
        raise PaymentError(str(exc)) from None
    payment.intent_id = intent.id
    db.session.flush()
    return payment


def open_card_payment(order_id: int) -> Payment | None:
    """The order's open card payment (at most one: a partial unique index), if any."""
    return db.session.scalar(select(Payment).where(
        Payment.order_id == order_id, Payment.method == "card", Payment.status == "pending"))


def payment_of(user_id: int, payment_id: int) -> Payment | None:
    """The payment if it is this shopper's (None: shown as 404)."""
    return db.session.scalar(select(Payment).where(Payment.id == payment_id,
                                                   Payment.user_id == user_id))


class Declined(PaymentError):
    """The card was declined; `retry` is a fresh payment for the same thing."""

    def __init__(self, message: str, retry: Payment):
        super().__init__(message)
        self.retry = retry


def confirm_card(payment_id: int, payment_method: str) -> gateway.Intent:
    """Attach the shopper's card and confirm; success is applied here (the webhook then
    finds nothing to do). A declined card closes this payment, with the reason kept, and
    raises Declined with a new payment for the same amount, for another card."""
    payment = locked(payment_id)
    if payment.status != "pending":
        raise PaymentError(_("This payment is already settled."))
    try:  # under the order's lock: a second tap waits and finds the payment settled
        intent = gateway.confirm(payment.intent_id, payment_method, key=payment.key,
                                 attempt=payment_method)
    except gateway.GatewayError as exc:
        if not exc.final:
            raise PaymentError(str(exc)) from None
        _move(payment, "pending", "canceled", last_error=str(exc)[:300])
        key = (next_key(order_id=payment.order_id) if payment.order_id is not None else
               next_key(user_id=payment.user_id, purpose_name=payment.purpose))
        retry = start_card_payment(user_id=payment.user_id, purpose=payment.purpose,
                                   order_id=payment.order_id, credit_minor=payment.credit_minor,
                                   amount_minor=payment.amount_minor, currency=payment.currency,
                                   description=f"{payment.purpose} retry of {payment.key}",
                                   key=key)
        jobs.enqueue(close_intent, payment.id)
        raise Declined(str(exc), retry) from None
    apply_intent(payment, intent)
    return intent


def close_open_payments(order_id: int) -> None:
    """The order is paid or cancelled: its open card payment closes here (the shopper
    sees why on a stale payment page), and its intent at Stripe after the commit. The
    caller holds the order's lock (LOCK ORDER)."""
    reason = _("This order is no longer awaiting payment.")
    for payment in db.session.scalars(select(Payment).where(
            Payment.order_id == order_id, Payment.method == "card", Payment.status == "pending")
            .order_by(Payment.id)):
        if _move(payment, "pending", "canceled", last_error=reason[:300]):
            jobs.enqueue(close_intent, payment.id)


def close_intent(payment_id: int) -> None:
    """Job: cancel the intent of a closed payment (Stripe first, no lock held). If Stripe
    refuses because the shopper paid it meanwhile, apply_intent() refunds the money,
    which is no longer wanted."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status != "canceled" or payment.intent_id is None:
        return
    try:
        gateway.cancel(payment.intent_id, key=payment.key)
    except gateway.GatewayError:
        intent = gateway.retrieve(payment.intent_id)
        apply_intent(locked(payment_id), intent)


def sync(payment_id: int) -> gateway.Intent | None:
    """Read the intent from Stripe (no lock held), then apply it under the locks (return
    page, sweeper, webhook)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.method != "card" or payment.intent_id is None:
        return None
    try:
        intent = gateway.retrieve(payment.intent_id)
    except gateway.GatewayError as exc:
        raise PaymentError(str(exc)) from None
    apply_intent(locked(payment_id), intent)
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
    """Bring the payment in line with the intent's real state, at most once. The caller
    holds locked(payment.id). Money arriving on a payment we closed (the order was paid
    another way, or cancelled) is not wanted: it is refunded in full."""
    if payment.status == "canceled" and intent.succeeded:
        _reject(payment, _("This order is no longer awaiting payment."),
                refund_minor=intent.amount_minor, from_status="canceled")
        return
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
            PURPOSES[payment.purpose].succeeded(payment)
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
                   actor_id: int | None) -> Refund:
    """Take `amount_minor` off what is refundable on this payment, with its Refund row.
    A wallet payment's refund is done here: the caller credits the wallet in the same
    transaction, after every payment it refunds (LOCK ORDER: payments, then shoppers'
    ledgers); a card payment's goes back through Stripe in a job after the commit. The
    caller holds the lock of what the payment is for (the order)."""
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
        refund.status = "succeeded"
    else:
        jobs.enqueue(send_refund, refund.id)
    db.session.flush()
    db.session.refresh(payment, ["refundable_minor"])
    return refund


def send_refund(refund_id: int) -> None:
    """Job: hand a pending card refund to Stripe (no lock held while it answers; the
    idempotency key is ours, so sending twice refunds once), then record the answer
    under the locks. Stripe may answer "pending" (the bank is working): the sweeper asks
    again later, with the same key."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != "pending":
        return
    payment = db.session.get(Payment, refund.payment_id)
    try:
        gateway_id, status = gateway.refund(payment.intent_id, refund.amount_minor, key=refund.key)
        failure = None
    except gateway.GatewayError as exc:
        if not exc.final:
            raise  # unreachable gateway: the job fails, the sweeper tries again
        gateway_id, status, failure = None, "failed", str(exc)
    payment = locked(payment.id)
    refund = db.session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
    if refund.status != "pending":
        return  # recorded meanwhile by another run
    if failure is not None:
        _refund_failed(refund, payment, failure)
        return
    refund.gateway_id = gateway_id
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
        hook = PURPOSES[payment.purpose].refund_failed
        if hook is not None:
            hook(payment, refund)


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
    Payment intent events are applied by reading the intent's current state (sync(): the
    intent is read with no lock held, then applied under the order's and the payment's
    locks, in that order)."""
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(id=event.id, type=event.type))
            db.session.flush()
    except IntegrityError:
        return False
    if event.type.startswith("payment_intent."):
        payment_id = db.session.scalar(select(Payment.id).where(
            Payment.intent_id == event.data.object.id))
        if payment_id is not None:
            sync(payment_id)
    return True
