"""The backoffice audit log: every backoffice action is recorded (who, what, with which
form, how it ended, and each row it changed before and after), and admins read and
filter the log. Recording happens at the request edge (recording.py, wired by
init_audit() from shop.create_app); what is kept, and the log's search, in services.py."""

from flask_babel import lazy_gettext as _l

# How a change in the log is named.
OP_LABELS = {"insert": _l("Added"), "update": _l("Changed"), "delete": _l("Deleted"),
             "statement": _l("Bulk statement")}
