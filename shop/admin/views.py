from flask_login import current_user

from shop.accounts.models import BACKOFFICE_ROLES
from shop.admin import services
from shop.admin.navigation import may_open
from shop.analytics import services as analytics
from shop.admin.blueprint import bp
from shop.web import render, roles_required


@bp.get("/")
@roles_required(*BACKOFFICE_ROLES)
def index():
    """The home of every member of staff: the work waiting for their role, and for those
    who may read the business data, today's figures beside yesterday's and the count of
    operations signals."""
    reads_data = may_open(current_user, "analytics_admin.dashboard")
    return render("admin/index.html", todos=services.todos(current_user),
                  today=analytics.today_vs_yesterday() if reads_data else None,
                  signals=analytics.signals_count() if reads_data else None)
