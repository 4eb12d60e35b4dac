"""Backoffice forms of shipping: a template with a fixed number of region rows, and the
days before a shipped order completes itself. Amounts in the shop's currency
(MoneyField); a region row left empty is no region."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import BooleanField, FieldList, Form, FormField, SelectMultipleField, StringField
from wtforms.utils import unset_value
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from shop import divisions
from shop.shipping.services import AUTO_COMPLETE_DAYS
from shop.web.fields import CountField, MoneyField, PlainText
from shop.web.forms import stored

MAX_REGIONS = 5


class RegionForm(Form):
    """One region of a template; a row left empty is no region."""

    class Meta:  # a plain Form: WTForms' own messages in the page's language too
        def get_translations(self, form):
            return wtforms_translations

    # picked from China's provinces (shop.divisions), kept as their codes
    provinces = SelectMultipleField(_l("Provinces"), widget=ListWidget(prefix_label=False),
                                    option_widget=CheckboxInput())
    fee = MoneyField(_l("Fee"))
    free_from = MoneyField(_l("Free from (empty: never free)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.provinces.choices = [(p.code, p.name) for p in divisions.provinces()]

    def empty(self) -> bool:
        return not (self.provinces.data or getattr(self.fee, "raw", "")
                    or getattr(self.free_from, "raw", ""))


class RowList(FieldList):
    """The rows as posted, then empty ones up to min_entries. WTForms numbers the posted
    rows 0, 1, ... again (regions-2 alone becomes row 0), so a padding row must not read
    the form data: it would read a posted row a second time."""

    def _add_entry(self, formdata=None, data=unset_value, index=None):
        return super()._add_entry(formdata if index is not None else None, data, index)


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=64), PlainText()])
    fee = MoneyField(_l("Shipping fee"), validators=[InputRequired()])
    free_from = MoneyField(_l("Free shipping from (empty: never free)"))
    is_default = BooleanField(_l("The default template (for products that name none)"))
    regions = RowList(FormField(RegionForm), min_entries=MAX_REGIONS, max_entries=MAX_REGIONS)

    region_values: list[dict]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.region_values, seen = [], set()
        for row in (entry.form for entry in self.regions):
            if row.empty():
                continue
            provinces = list(dict.fromkeys(row.provinces.data or ()))
            if not provinces:
                row.provinces.errors.append(_("List at least one province."))
            if row.fee.data is None and not row.fee.errors:
                row.fee.errors.append(_("Give the region's fee."))
            again = [code for code in provinces if code in seen]
            if again:
                row.provinces.errors.append(_("An earlier region lists %(names)s already.", names="、".join(
                    division.name for division in map(divisions.get, again) if division)))
            seen.update(provinces)
            if any(f.errors for f in row):
                valid = False
                continue
            self.region_values.append({"provinces": provinces, "fee_minor": row.fee.data,
                                       "free_from_minor": row.free_from.data})
        return bool(valid)

    @classmethod
    def of(cls, template):
        return stored(cls, data={
            "name": template.name, "fee": template.fee_minor, "free_from": template.free_from_minor,
            "is_default": template.is_default,
            "regions": [{"provinces": list(r.provinces), "fee": r.fee_minor,
                         "free_from": r.free_from_minor} for r in template.regions]})

    def values(self) -> dict:
        return {"name": self.name.data, "fee_minor": self.fee.data,
                "free_from_minor": self.free_from.data, "is_default": self.is_default.data,
                "regions": self.region_values}


class AutoCompleteForm(FlaskForm):
    days = CountField(_l("Days after shipping when an order completes itself"),
                      minimum=AUTO_COMPLETE_DAYS[0], maximum=AUTO_COMPLETE_DAYS[1],
                      validators=[InputRequired()])
