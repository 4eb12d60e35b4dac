"""The backoffice shell: its home page and the layout every domain's admin pages share.
Each domain owns its own admin views under /admin/<domain>/ (templates/admin/<domain>/)."""
from flask import Blueprint
from flask_login import current_user

from shop.admin.navigation import menu_for

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.app_template_global()
def backoffice_menu():
    """The signed-in member of staff's menu (templates/admin/base.html)."""
    return menu_for(current_user)


from shop.admin import views  # noqa: E402,F401  (registers the routes on bp)
from shop.admin import pickers  # noqa: E402,F401  (the pickers search fragment)
