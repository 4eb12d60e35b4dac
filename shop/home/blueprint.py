from flask import Blueprint

bp = Blueprint("home", __name__)
admin_bp = Blueprint("home_admin", __name__, url_prefix="/admin/home")

from shop.home import admin_views, picking, services, views  # noqa: E402,F401  (routes, pickers)

bp.add_app_template_global(services.CAMPAIGN_ENDPOINTS, "HOME_CAMPAIGN_PAGES")
bp.add_app_template_global(services.CAMPAIGN_KINDS, "HOME_CAMPAIGN_KINDS")
bp.add_app_template_global(services.BLOCK_LABELS, "HOME_BLOCK_LABELS")
