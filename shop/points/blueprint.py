from flask import Blueprint

from shop.points import PERIOD_LABELS, REASON_LABELS, TASKS

bp = Blueprint("points", __name__)
admin_bp = Blueprint("points_admin", __name__, url_prefix="/admin/points")
for _name, _labels in (("POINTS_REASON_LABELS", REASON_LABELS),
                       ("TASK_PERIOD_LABELS", PERIOD_LABELS)):
    bp.add_app_template_global(_labels, _name)
bp.add_app_template_global(TASKS, "POINTS_TASKS")

from shop.points import admin_views, views  # noqa: E402,F401  (routes)
