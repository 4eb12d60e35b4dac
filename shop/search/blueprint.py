from flask import Blueprint

bp = Blueprint("search", __name__)
admin_bp = Blueprint("search_admin", __name__, url_prefix="/admin/search")

from shop.search import admin_views, indexing, views  # noqa: E402,F401  (routes; the index's session hooks)
