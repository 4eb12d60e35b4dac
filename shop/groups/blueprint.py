from flask import Blueprint

from shop.groups import GROUP_STATUS_LABELS, MEMBER_STATUS_LABELS

bp = Blueprint("groups", __name__)
admin_bp = Blueprint("groups_admin", __name__, url_prefix="/admin/groups")
for _name, _labels in (("GROUP_STATUS_LABELS", GROUP_STATUS_LABELS),
                       ("GROUP_MEMBER_STATUS_LABELS", MEMBER_STATUS_LABELS)):
    bp.add_app_template_global(_labels, _name)

from shop.groups import admin_views, views  # noqa: E402,F401  (routes)
