"""Every signal between domains, in one place (DESIGN §3, §10).

Two kinds, and nothing else:

- *In the transaction* of what happened: small facts another domain may add to in the
  same transaction (a newcomer's coupons when an account is made, a task done when a
  profile is complete). A receiver writes through its own services and may refuse with
  its domain error, which undoes the whole request. These are not part of the order
  lifecycle: work an order needs in its own transaction is not a signal but a
  participant, run in the declared lock order by shop.orders.lifecycle.
- *After the commit*: reactions to what has happened for good (emails, caches). They
  are sent by send_after_commit() once the transaction that made the change has
  committed, never if it rolls back; a receiver that fails is logged and does not undo
  anything (shop.db.on_commit isolates each hook), and a receiver that must not miss
  anything keeps its own record for the sweeper to pick up.
"""

from __future__ import annotations

from blinker import Namespace

from shop.db import on_commit

_signals = Namespace()

# --- in the transaction -----------------------------------------------------------------

# sender: the User just created; kwargs: invite, the referral code typed at registration
# ("" if none). A receiver may refuse with AccountError.
user_registered = _signals.signal("user-registered")
# sender: the User whose profile was just saved (a task rewards a complete profile).
profile_updated = _signals.signal("profile-updated")
# sender: the Sku just added to a cart, or chosen with "Buy now" (shop.cart.services.buy_now);
# kwargs: quantity, and `via`, the id of the article whose product card it came from (None
# elsewhere).
item_added = _signals.signal("cart-item-added")
# sender: the id of the user whose share link was just opened; kwargs: target, opener_id
# (the signed-in opener, or None). A task rewards sharing.
link_opened = _signals.signal("link-opened")
# sender: the User closing their account (shop.accounts.closure), before its own row is
# erased (once account_closure_blockers found nothing). Each domain's receiver erases or
# anonymises its rows about them; the books (orders, ledgers) stay.
account_closing = _signals.signal("account-closing")
# sender: a User who wants to close their account; kwargs: lock (True when closing: what
# is read stays locked until the transaction ends). Each domain's receiver returns a list
# of shop.accounts.closure.Blocker, what of its own still needs the person (an order on
# its way, money in the wallet...), [] if nothing; shop.accounts.closure.blockers() lists
# them all, for the close page and for the closing itself.
account_closure_blockers = _signals.signal("account-closure-blockers")

# --- after the commit -------------------------------------------------------------------

# sender: the order id. Placed (awaiting payment, or paid at once with nothing to pay).
order_placed = _signals.signal("order-placed")
# sender: the order id. Paid in full (the confirmation email).
order_paid = _signals.signal("order-paid")
# sender: the order id. Cancelled unpaid.
order_cancelled = _signals.signal("order-cancelled")
# sender: the order id; kwargs: key (the refund's). Refunded in part or in full.
order_refunded = _signals.signal("order-refunded")
# sender: the order id. Handed to the carrier.
order_shipped = _signals.signal("order-shipped")


def send_after_commit(signal, sender, **kwargs) -> None:
    """Send `signal` once the current transaction has committed (dropped if it, or the
    savepoint this is called in, rolls back)."""
    on_commit(lambda: signal.send(sender, **kwargs))
