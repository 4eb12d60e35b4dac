"""Stored value (会员储值): a balance per shopper that is only ever changed together with
an append-only ledger row, and that never goes below zero."""

from flask import Blueprint

bp = Blueprint("wallet", __name__)

from shop.wallet import views  # noqa: E402,F401
