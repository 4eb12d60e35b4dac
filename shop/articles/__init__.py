"""Content commerce (内容电商): articles that embed product cards and sell from them,
the editorial workflow, and attribution of sales to the article they started from."""

from flask_babel import lazy_gettext as _l

ARTICLE_STATUS_LABELS = {"draft": _l("Draft"), "review": _l("In review"),
                         "published": _l("Published")}
REVISION_ACTION_LABELS = {"saved": _l("Saved"), "restored": _l("Restored"),
                          "submitted": _l("Sent to review"), "published": _l("Published"),
                          "returned": _l("Back to draft"), "unpublished": _l("Unpublished")}
