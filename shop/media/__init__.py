"""Uploaded and generated images: checked, re-encoded to WebP at a few widths, stored
under random names, served with long cache lifetimes (names never change)."""

from flask import Blueprint

bp = Blueprint("media", __name__)

from shop.media import views  # noqa: E402,F401
