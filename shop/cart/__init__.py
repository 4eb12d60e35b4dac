"""The cart: in the session for visitors, in the database for accounts, merged at sign-in."""

from blinker import Namespace
from flask import Blueprint

bp = Blueprint("cart", __name__)

_signals = Namespace()
# sender: the Sku just added, in the same transaction; kwargs: quantity, and `via`, the
# id of the article whose product card it was added from (None elsewhere).
item_added = _signals.signal("cart-item-added")

from shop.cart import views  # noqa: E402,F401
