"""The one module that talks to Stripe. Everything else sees plain values and
GatewayError. The API address is configurable (STRIPE_API_BASE) so the default run and
the tests use localstripe on loopback; idempotency keys always come from our ids."""

from __future__ import annotations

import time
from dataclasses import dataclass

import stripe
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class GatewayError(Exception):
    """A refusal or failure at the gateway; str() is safe to show the shopper."""

    def __init__(self, message: str, *, final: bool = False):
        super().__init__(message)
        self.final = final  # refused for good (a declined card, an invalid request), not a hiccup


class SignatureError(ValueError):
    pass


@dataclass(frozen=True)
class Intent:
    id: str
    status: str            # Stripe's: requires_payment_method, requires_action, succeeded...
    amount_minor: int
    currency: str          # upper case, as we store it
    client_secret: str
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def enabled() -> bool:
    config = current_app.config
    return bool(config["STRIPE_SECRET_KEY"] and config["STRIPE_PUBLISHABLE_KEY"])


def _client() -> stripe.StripeClient:
    config = current_app.config
    client = current_app.extensions.get("shop_stripe")
    if client is None:
        addresses = {"api": config["STRIPE_API_BASE"]} if config["STRIPE_API_BASE"] else None
        client = stripe.StripeClient(config["STRIPE_SECRET_KEY"], base_addresses=addresses,
                                     max_network_retries=2)
        current_app.extensions["shop_stripe"] = client
    return client


def _intent(pi) -> Intent:
    data = pi.to_dict()
    return Intent(id=data["id"], status=data["status"], amount_minor=int(data["amount"]),
                  currency=str(data["currency"]).upper(), client_secret=data["client_secret"],
                  error=_last_error(data.get("last_payment_error")))


# What the shopper reads when the card is refused, by Stripe's decline code (the bank's
# reason) or error code: always the shop's own translated words, never Stripe's English
# message (that is logged). Lost, stolen or fraudulent cards read as a plain decline, as
# Stripe advises. https://docs.stripe.com/declines/codes
_DECLINED = _l("Your bank declined this card. Please use another card or contact your bank.")
_CARD_MESSAGES = {
    "insufficient_funds": _l("The card has insufficient funds. Please use another card."),
    "expired_card": _l("The card has expired. Please use another card."),
    "incorrect_cvc": _l("The security code (CVC) is incorrect. Please check it and try again."),
    "invalid_cvc": _l("The security code (CVC) is incorrect. Please check it and try again."),
    "incorrect_number": _l("The card number is incorrect. Please check it and try again."),
    "invalid_number": _l("The card number is incorrect. Please check it and try again."),
    "invalid_expiry_month": _l("The expiry date is incorrect. Please check it and try again."),
    "invalid_expiry_year": _l("The expiry date is incorrect. Please check it and try again."),
    "processing_error": _l("The card could not be processed. Please try again in a moment."),
    "try_again_later": _l("The card could not be processed. Please try again in a moment."),
    "card_velocity_exceeded": _l("The card has reached its limit. Please use another card."),
    "withdrawal_count_limit_exceeded": _l("The card has reached its limit. Please use another card."),
    "card_not_supported": _l("This card does not support this purchase. Please use another card."),
    "currency_not_supported": _l("This card does not support this purchase. Please use another card."),
    "authentication_required": _l("Your bank asks you to confirm this payment. Please try again "
                                  "and follow your bank's steps."),
}


def card_message(code: str | None, decline_code: str | None = None) -> str:
    """The shopper's message for a refused card: the bank's reason (decline_code) first,
    then Stripe's error code, else a plain translated decline."""
    return str(_CARD_MESSAGES.get(decline_code or "") or _CARD_MESSAGES.get(code or "") or _DECLINED)


def _last_error(error: dict | None) -> str | None:
    if not error:
        return None
    current_app.logger.info("stripe: last payment error %s/%s: %s", error.get("code"),
                               error.get("decline_code"), error.get("message"))
    return card_message(error.get("code"), error.get("decline_code"))


def _failed(exc: stripe.StripeError) -> GatewayError:
    current_app.logger.warning("stripe: %s", exc)
    if isinstance(exc, stripe.CardError):
        decline_code = (exc.error.decline_code if exc.error else None)
        return GatewayError(card_message(exc.code, decline_code), final=True)
    if isinstance(exc, stripe.InvalidRequestError):
        return GatewayError(_("The card payment service refused the request."), final=True)
    return GatewayError(_("The card payment service did not answer; please try again."))


def create_intent(*, amount_minor: int, currency: str, key: str, description: str) -> Intent:
    try:
        pi = _client().v1.payment_intents.create(
            params={"amount": amount_minor, "currency": currency.lower(),
                    "metadata": {"shop_payment": key, "for": description}},
            options={"idempotency_key": key})
    except stripe.StripeError as exc:
        raise _failed(exc) from None
    return _intent(pi)


def confirm(intent_id: str, payment_method: str, *, key: str, attempt: str) -> Intent:
    """Attach the card the shopper entered (a card id made by Stripe.js) and confirm.
    A declined card raises GatewayError(declined=True); the intent stays open for another."""
    client = _client()
    try:
        client.v1.payment_intents.update(
            intent_id, params={"payment_method": payment_method},
            options={"idempotency_key": f"attach-{key}-{attempt}"})
        pi = client.v1.payment_intents.confirm(
            intent_id, options={"idempotency_key": f"confirm-{key}-{attempt}"})
    except stripe.StripeError as exc:
        raise _failed(exc) from None
    return _intent(pi)


def cancel(intent_id: str, *, key: str) -> None:
    """Close an intent we no longer use, so it can never be paid. GatewayError(final=True)
    if Stripe refuses, e.g. because it has been paid meanwhile."""
    try:
        _client().v1.payment_intents.cancel(intent_id, options={"idempotency_key": f"cancel-{key}"})
    except stripe.StripeError as exc:
        raise _failed(exc) from None


def retrieve(intent_id: str) -> Intent:
    try:
        return _intent(_client().v1.payment_intents.retrieve(intent_id))
    except stripe.StripeError as exc:
        raise _failed(exc) from None


def refund(intent_id: str, amount_minor: int, *, key: str) -> tuple[str, str]:
    """Refund part or all of a payment: (the gateway's refund id, its status: succeeded,
    or pending while the bank works). A refund Stripe refuses or fails is final."""
    try:
        refund = _client().v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount_minor,
                    "metadata": {"shop_refund": key}},
            options={"idempotency_key": f"refund-{key}"})
    except stripe.StripeError as exc:
        raise _failed(exc) from None
    if refund.status not in ("succeeded", "pending"):
        raise GatewayError(_("The refund was not accepted (%(status)s).", status=refund.status),
                           final=True)
    return refund.id, refund.status


WEBHOOK_TOLERANCE = 300  # seconds a signature's timestamp may be off, either way


def parse_event(payload: bytes, signature: str | None) -> stripe.Event:
    """The event if the payload carries a valid signature made with our webhook secret
    and a timestamp within WEBHOOK_TOLERANCE of now, in the past or in the future (the
    Stripe library checks only the past); SignatureError otherwise, and always when no
    secret is set."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise SignatureError("no webhook secret is configured")
    if not signature:
        raise SignatureError("no Stripe-Signature header")
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise SignatureError("no single timestamp in the Stripe-Signature header")
    if int(stamps[0]) > time.time() + WEBHOOK_TOLERANCE:
        raise SignatureError("the signature's timestamp is in the future")
    try:
        return _client().construct_event(payload, signature, secret,
                                         tolerance=WEBHOOK_TOLERANCE)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise SignatureError(str(exc)) from None
