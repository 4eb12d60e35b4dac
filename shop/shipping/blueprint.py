from flask import Blueprint

from shop import divisions

# Backoffice only: shoppers meet shipping in the price breakdown (the pricing step).
admin_bp = Blueprint("shipping_admin", __name__, url_prefix="/admin/shipping")


@admin_bp.app_template_filter("division_name")
def division_name(code: str) -> str:
    """A division's name by its code (shop.divisions): a region's provinces."""
    division = divisions.get(code)
    return division.name if division else code


from shop.shipping import admin_views  # noqa: E402,F401  (routes)
