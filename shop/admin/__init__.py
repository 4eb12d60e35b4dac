"""The backoffice shell: its home page and the layout every domain's admin pages share.
Each domain owns its own admin views under /admin/<domain>/ (templates/admin/<domain>/)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from shop.admin import views  # noqa: E402,F401
