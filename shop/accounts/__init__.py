from blinker import Namespace
from flask import Blueprint

bp = Blueprint("accounts", __name__)

_signals = Namespace()
# sender: the User just created, in the same transaction; kwargs: invite, the referral
# code typed at registration ("" if none). A receiver may refuse with AccountError.
user_registered = _signals.signal("user-registered")
# sender: the User whose profile was just saved, in the same transaction (a task rewards
# a complete profile).
profile_updated = _signals.signal("profile-updated")

from shop.accounts import views  # noqa: E402,F401
