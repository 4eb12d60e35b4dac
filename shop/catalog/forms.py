from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, SelectChoice, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, Optional, Regexp

from shop.catalog.models import PRODUCT_STATUSES
from shop.web.fields import CountField, MoneyField

STATUS_LABELS = {"draft": _l("Draft"), "on_sale": _l("On sale"), "off_sale": _l("Off sale")}
MAX_STOCK = 1_000_000_000


class CategoryForm(FlaskForm):
    name = StringField(_l("Name (Chinese)"), validators=[InputRequired(), Length(max=64)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=64)])
    slug = StringField(
        _l("Slug"),
        validators=[InputRequired(), Length(max=64),
                    Regexp(r"^[a-z0-9-]+$", message=_l("Use lower-case letters, digits and dashes."))],
    )
    parent_id = SelectField(_l("Parent"), coerce=int, default=0)
    position = CountField(_l("Position"), default=0, minimum=0, maximum=10000,
                          validators=[InputRequired()])
    active = BooleanField(_l("Shown to shoppers"), default=True)


class SkuForm(Form):
    """One SKU row; a row left entirely blank is ignored."""

    class Meta:  # a plain Form: take WTForms' own messages in the page's language too
        def get_translations(self, form):
            return wtforms_translations

    id = HiddenField()
    code = StringField(_l("SKU code"), validators=[Optional(), Length(max=64)])
    options = StringField(_l("Option values"), validators=[Optional(), Length(max=200)])
    price = MoneyField(_l("Price"))
    cost = MoneyField(_l("Cost price"))  # optional: empty is the product's cost
    stock = CountField(_l("Stock"), minimum=0, maximum=MAX_STOCK)
    stock_seen = HiddenField(default="0")
    active = BooleanField(_l("Active"), default=True)

    def is_blank(self) -> bool:
        return not (self.id.data or self.code.data or self.options.data or self.price.raw
                    or self.cost.raw)


class ProductForm(FlaskForm):
    title = StringField(_l("Title (Chinese)"), validators=[InputRequired(), Length(max=120)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=120)])
    subtitle = StringField(_l("Subtitle (Chinese)"), validators=[Optional(), Length(max=200)])
    subtitle_en = StringField(_l("Subtitle (English)"), validators=[Optional(), Length(max=200)])
    selling_points = TextAreaField(_l("Selling points, one per line (Chinese)"), validators=[Optional(), Length(max=2000)])
    selling_points_en = TextAreaField(_l("Selling points, one per line (English)"), validators=[Optional(), Length(max=2000)])
    description = TextAreaField(_l("Description (Chinese)"), validators=[Optional(), Length(max=20000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional(), Length(max=20000)])
    category_id = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    cost_price = MoneyField(_l("Cost price"), validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=[SelectChoice(s, STATUS_LABELS[s]) for s in PRODUCT_STATUSES])
    featured = BooleanField(_l("Featured on the home page"))
    # 0: the default template; choices are set by the view (shop.shipping's templates)
    shipping_template_id = SelectField(_l("Shipping template"), coerce=int, default=0)
    purchase_limit = CountField(_l("Most units per order (optional)"), minimum=1, maximum=9999)
    pickup_enabled = BooleanField(_l("Can be picked up at a store"))
    option_names = StringField(_l("Option names, separated by commas (e.g. 颜色, 尺码)"),
                               validators=[Optional(), Length(max=200)])
    option_labels_en = TextAreaField(
        _l("English labels for options and values, one per line (颜色=Colour)"),
        validators=[Optional(), Length(max=4000)],
    )
    skus = FieldList(FormField(SkuForm), min_entries=1)


class ImageForm(FlaskForm):
    image = FileField(_l("Image"), validators=[FileRequired(message=_l("Choose an image file."))])
