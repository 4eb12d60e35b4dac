"""Content commerce (内容电商): articles that embed product cards and sell from them,
the editorial workflow, and attribution of sales to the article they started from."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("articles", __name__)
admin_bp = Blueprint("articles_admin", __name__, url_prefix="/admin/articles")

ARTICLE_STATUS_LABELS = {"draft": _l("Draft"), "review": _l("In review"),
                         "published": _l("Published")}
REVISION_ACTION_LABELS = {"saved": _l("Saved"), "restored": _l("Restored"),
                          "submitted": _l("Sent to review"), "published": _l("Published"),
                          "returned": _l("Back to draft"), "unpublished": _l("Unpublished")}
bp.add_app_template_global(ARTICLE_STATUS_LABELS, "ARTICLE_STATUS_LABELS")
bp.add_app_template_global(REVISION_ACTION_LABELS, "REVISION_ACTION_LABELS")

from shop.articles import admin_views, attribution, views  # noqa: E402,F401
