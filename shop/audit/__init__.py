"""The backoffice audit log: every backoffice action is recorded (who, what, with which
form, how it ended, and each row it changed before and after), and admins read and
filter the log. Recording happens at the request edge (recording.py, wired by
init_audit() from shop.create_app); what is kept, and the log's search, in services.py."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

admin_bp = Blueprint("audit_admin", __name__, url_prefix="/admin/audit")

# How a change in the log is named.
OP_LABELS = {"insert": _l("Added"), "update": _l("Changed"), "delete": _l("Deleted"),
             "statement": _l("Bulk statement")}

from shop.audit import admin_views, models  # noqa: E402,F401
from shop.audit.recording import init_audit  # noqa: E402

__all__ = ["admin_bp", "admin_views", "init_audit", "models", "OP_LABELS"]
