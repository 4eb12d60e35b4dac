from flask_login import current_user

from shop.accounts.models import BACKOFFICE_ROLES
from shop.admin import services
from shop.admin.blueprint import bp
from shop.web import render, roles_required


@bp.get("/")
@roles_required(*BACKOFFICE_ROLES)
def index():
    """The home of every member of staff: the work waiting for their role."""
    return render("admin/index.html", todos=services.todos(current_user))
