"""Shipping rules. Services flush and raise ShippingError; they never commit.

THE PRICE STEP (900 in shop.pricing, after every discount on the goods, before
points). An order ships as one parcel:
- Orders that are not shipped pay nothing: a pickup order (options["pickup"]), and the
  channels other than SHIPPED_CHANNELS (group buys, bargains and points-mall redemptions
  ship free). Nor does an order an earlier step granted free shipping (a member level, a
  full reduction's tier: pricing.free_shipping).
- Otherwise the lines are grouped by their product's template (a product that names none
  ships by the default template). For each group, the terms are those of the template's
  first region (by position) listing the address's province (by its division code,
  options["province"]: shop.divisions), or else the template's own: a fee, and a threshold
  (None: never free). A group is free when what is still due on its lines (after the
  discounts so far, PricedLine.due_minor) reaches its threshold.
- The order pays the highest fee among the groups that are not free (one parcel, one
  carrier: the dearest terms decide), and nothing when every group is free.
- Gifts a step adds (a full reduction's) ride in the parcel and cost nothing.
The step costs two queries (three with regions) however many lines: the lines' templates
are read once and kept in pricing.context["shipping_templates"].

Until an admin saves a template, the default is the built-in one (10.00, free from
99.00), never written by reading. There is always exactly one default once one is
saved: the first saved becomes it, set_default() moves it, and the default can not be
unmarked (another one is made the default instead); a partial unique index refuses two.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop.catalog import services as catalog
from shop.catalog.models import Product, Sku
from shop import divisions
from shop.db import db, utcnow
from shop import pricing
from shop.orders import services as orders
from shop.shipping.models import ShippingRegion, ShippingTemplate

SHIPPED_CHANNELS = ("cart", "flash")
# The built-in default until an admin saves a template (the old shop settings' defaults).
DEFAULT_NAME = _l("Standard delivery")
DEFAULT_FEE_MINOR, DEFAULT_FREE_FROM_MINOR = 1000, 9900
AUTO_COMPLETE_DAYS = (1, 60)  # the range an admin may set (shop.orders: auto_complete_days)


class ShippingError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field  # the form field it is about, if any


# --- the price step ---------------------------------------------------------------------


def builtin_template() -> ShippingTemplate:
    """The default until one is saved: an object never added to the session."""
    return ShippingTemplate(name=str(DEFAULT_NAME), currency=current_app.config["SHOP_CURRENCY"],
                            fee_minor=DEFAULT_FEE_MINOR, free_from_minor=DEFAULT_FREE_FROM_MINOR,
                            is_default=True, regions=[])


def default_template() -> ShippingTemplate:
    saved = db.session.scalar(select(ShippingTemplate).where(ShippingTemplate.is_default.is_(True))
                              .options(selectinload(ShippingTemplate.regions)))
    return saved or builtin_template()


def terms(template: ShippingTemplate, province: str) -> tuple[int, int | None]:
    """(fee, free-from threshold) of the template for an address in `province` (a code)."""
    province = (province or "").strip()
    for region in template.regions:
        if region.matches(province):
            return region.fee_minor, region.free_from_minor
    return template.fee_minor, template.free_from_minor


def group_fee(template: ShippingTemplate, due_minor: int, province: str) -> int:
    fee, free_from = terms(template, province)
    return 0 if free_from is not None and due_minor >= free_from else fee


def _templates(priced: pricing.Pricing) -> dict[int, ShippingTemplate]:
    """sku id -> the template its product ships by, loaded once per pricing."""
    cached = priced.context.get("shipping_templates")
    if cached is None:
        ids = {line.sku_id for line in priced.lines}
        named = dict(db.session.execute(
            select(Sku.id, Product.shipping_template_id)
            .join(Product, Product.id == Sku.product_id).where(Sku.id.in_(ids))).all())
        wanted = {template_id for template_id in named.values() if template_id is not None}
        rows = db.session.scalars(
            select(ShippingTemplate)
            .where(or_(ShippingTemplate.id.in_(wanted), ShippingTemplate.is_default.is_(True)))
            .options(selectinload(ShippingTemplate.regions))).all()
        by_id = {template.id: template for template in rows}
        default = next((t for t in rows if t.is_default), None) or builtin_template()
        cached = {sku_id: by_id.get(named.get(sku_id)) or default for sku_id in ids}
        priced.context["shipping_templates"] = cached
    return cached


def shipping_fee(priced: pricing.Pricing) -> int:
    """The order's shipping by the rule above (the channel, pickup and granted free
    shipping aside)."""
    templates = _templates(priced)
    province = str(priced.options.get("province") or "")
    groups: dict[int | None, tuple[ShippingTemplate, int]] = {}
    for line in priced.lines:
        template = templates[line.sku_id]
        _same, due = groups.get(template.id, (template, 0))
        groups[template.id] = (template, due + max(0, line.due_minor))
    return max((group_fee(template, due, province) for template, due in groups.values()),
               default=0)


def shipping(priced: pricing.Pricing, user_id: int | None) -> pricing.Adjustment | None:
    if (priced.channel not in SHIPPED_CHANNELS or priced.options.get("pickup")
            or priced.free_shipping or not priced.lines):
        return None
    fee = shipping_fee(priced)
    return pricing.Adjustment("shipping", fee) if fee else None


pricing.register_adjuster(900, shipping)


# --- backoffice ---------------------------------------------------------------------------


def templates_listing() -> list[tuple[ShippingTemplate, int]]:
    """Every template with how many products name it; the default first, then by name."""
    used = (select(func.count(Product.id)).where(Product.shipping_template_id == ShippingTemplate.id)
            .scalar_subquery())
    rows = db.session.execute(
        select(ShippingTemplate, used).options(selectinload(ShippingTemplate.regions))
        .order_by(ShippingTemplate.is_default.desc(), ShippingTemplate.name, ShippingTemplate.id)
    ).all()
    return [(template, count) for template, count in rows]


def template_choices() -> list[tuple[int, str]]:
    """(id, name) of every template, for a product's form."""
    return [(row.id, row.name) for row in db.session.execute(
        select(ShippingTemplate.id, ShippingTemplate.name)
        .order_by(ShippingTemplate.is_default.desc(), ShippingTemplate.name, ShippingTemplate.id))]


catalog.PRODUCT_CHOICES["shipping_template_id"] = template_choices


def get_template(template_id: int) -> ShippingTemplate | None:
    return db.session.get(ShippingTemplate, template_id)


def _check_amount(value: int | None, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None or value < 0:
        raise ShippingError(_("Enter an amount of zero or more."), field)


def save_template(template: ShippingTemplate | None, *, name: str, fee_minor: int,
                  free_from_minor: int | None, is_default: bool,
                  regions: list[dict]) -> ShippingTemplate:
    """Create or edit a template and its regions (dicts of provinces, fee_minor,
    free_from_minor, in order; they replace the old ones). The first template saved is
    the default whatever was asked; the default can not be unmarked. Raises
    ShippingError (with the field it is about) and changes nothing then."""
    name = (name or "").strip()
    if not name:
        raise ShippingError(_("Give the template a name."), "name")
    _check_amount(fee_minor, "fee")
    _check_amount(free_from_minor, "free_from", optional=True)
    for row in regions:
        if not row.get("provinces"):
            raise ShippingError(_("A region lists at least one province."), "regions")
        if any(divisions.get(code) is None or divisions.get(code).parent is not None
               for code in row["provinces"]):
            raise ShippingError(_("Choose a province from the list."), "regions")
        _check_amount(row.get("fee_minor"), "regions")
        _check_amount(row.get("free_from_minor"), "regions", optional=True)
    current = db.session.scalar(select(ShippingTemplate.id).where(ShippingTemplate.is_default.is_(True)))
    if template is not None and template.id == current and not is_default:
        raise ShippingError(_("There must be a default template: make another one the "
                              "default instead."), "is_default")
    taken = db.session.scalar(select(ShippingTemplate.id).where(
        ShippingTemplate.name == name,
        ShippingTemplate.id != (template.id if template is not None else 0)))
    if taken is not None:
        raise ShippingError(_("Another template has this name."), "name")
    try:
        with db.session.begin_nested():
            if template is None:
                template = ShippingTemplate(currency=current_app.config["SHOP_CURRENCY"],
                                            is_default=False)
                db.session.add(template)
            template.name, template.fee_minor, template.free_from_minor = (
                name, fee_minor, free_from_minor)
            template.updated_at = utcnow()
            # rows kept in place by position (no two rows at one position mid-flush)
            for position, row in enumerate(regions):
                if position < len(template.regions):
                    region = template.regions[position]
                else:
                    region = ShippingRegion(position=position)
                    template.regions.append(region)
                region.provinces = list(row["provinces"])
                region.fee_minor = row["fee_minor"]
                region.free_from_minor = row.get("free_from_minor")
            del template.regions[len(regions):]
            db.session.flush()
    except IntegrityError:  # the same name saved meanwhile
        raise ShippingError(_("Another template has this name."), "name") from None
    if (is_default or current is None) and current != template.id:
        set_default(template)
    return template


def set_default(template: ShippingTemplate) -> None:
    """Make `template` the default, and no other; products that name none ship by it."""
    try:
        with db.session.begin_nested():
            db.session.execute(
                update(ShippingTemplate)
                .where(ShippingTemplate.is_default.is_(True), ShippingTemplate.id != template.id)
                .values(is_default=False, updated_at=utcnow())
                .execution_options(synchronize_session="fetch"))
            db.session.execute(
                update(ShippingTemplate).where(ShippingTemplate.id == template.id)
                .values(is_default=True, updated_at=utcnow())
                .execution_options(synchronize_session="fetch"))
    except IntegrityError:  # another admin set another default at the same moment
        raise ShippingError(_("The default template has just changed; reload and try again.")) from None
    db.session.refresh(template)


def save_auto_complete_days(days: int) -> None:
    """How many days after shipping an order completes itself if the shopper does not
    confirm receipt (the sweeper: shop.orders.services.auto_complete)."""
    low, high = AUTO_COMPLETE_DAYS
    if not isinstance(days, int) or not low <= days <= high:
        raise ShippingError(_("Enter a whole number from %(min)d to %(max)d.", min=low, max=high),
                            "days")
    orders.set_setting("auto_complete_days", days)
