"""Pickup stores (到店自提) and pickup verification (核销).

A store has a name, an address, a map link, a phone, opening hours and an active flag.
At checkout (and when opening or joining a group buy) the shopper chooses delivery to an
address or pickup at a store, nearest first when the browser shares its location,
otherwise by city. A pickup order pays no shipping; once paid it gets a pickup code,
shown with its QR only to its owner. Store staff, bound to one or more stores, scan or
type the code on a phone, see the order's lines and confirm: the code works once, only
at its own store, only for a paid order that nothing holds back, and failed look-ups
are rate-limited per staff member. The rules are in services.py.
"""

# The reason of the order event a verification writes (its label: shop.orders.REASON_LABELS).
PICKUP_REASON = "picked up"
