from flask import Blueprint

from shop.wallet import ENTRY_LABELS

bp = Blueprint("wallet", __name__)
bp.add_app_template_global(ENTRY_LABELS, "WALLET_ENTRY_LABELS")

from shop.wallet import views  # noqa: E402,F401  (routes)
