from flask import Blueprint

from shop.members import GROWTH_ENTRY_LABELS

bp = Blueprint("members", __name__)
admin_bp = Blueprint("members_admin", __name__, url_prefix="/admin/members")
bp.add_app_template_global(GROWTH_ENTRY_LABELS, "GROWTH_ENTRY_LABELS")

from shop.members import admin_views, views  # noqa: E402,F401  (routes)
