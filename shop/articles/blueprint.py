from flask import Blueprint

from shop.articles import ARTICLE_STATUS_LABELS, REVISION_ACTION_LABELS

bp = Blueprint("articles", __name__)
admin_bp = Blueprint("articles_admin", __name__, url_prefix="/admin/articles")
bp.add_app_template_global(ARTICLE_STATUS_LABELS, "ARTICLE_STATUS_LABELS")
bp.add_app_template_global(REVISION_ACTION_LABELS, "REVISION_ACTION_LABELS")

from shop.articles import admin_views, attribution, views  # noqa: E402,F401  (routes)
