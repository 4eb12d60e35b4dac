from shop.accounts.models import BACKOFFICE_ROLES
from shop.admin.blueprint import bp
from shop.web import render, roles_required


@bp.get("/")
@roles_required(*BACKOFFICE_ROLES)
def index():
    return render("admin/index.html")
