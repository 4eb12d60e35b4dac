from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from shop.home.models import CAMPAIGN_PAGES, COLLECTION_SORTS, LINK_KINDS, MAX_RULE_LIMIT
from shop.home.services import CAMPAIGN_ENDPOINTS, CAMPAIGN_KINDS, MAX_BLOCK_ITEMS
from shop.web.fields import CountField, PlainText, ShopDateTimeField
from shop.web.picking import TOKEN, PickField

STRIP = [lambda v: v.strip() if isinstance(v, str) else v]
LINK_LABELS = {"product": _l("A product"), "article": _l("An article"),
               "collection": _l("A collection"), "category": _l("A category"),
               "campaign": _l("A campaign page")}
SORT_LABELS = {"sales": _l("Best sellers first"), "new": _l("Newest first"),
               "price_asc": _l("Price, low to high"), "price_desc": _l("Price, high to low")}


def ordered_ids(field: PickField) -> list[int]:
    """The ids a multiple picker posted, in the order the page listed them (PickField
    keeps them sorted; a collection keeps its products in the editor's order)."""
    if not field.raw_data:
        return list(field.ids)
    posted = [int(m[2]) for m in (TOKEN.match(v.strip()) for v in field.raw_data) if m]
    return [i for i in dict.fromkeys(posted) if i in field.ids]


class Window:
    """A form's starts_at/ends_at: the end after the start."""

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must come after the start."))


class BlockForm(Window, FlaskForm):
    title = StringField(_l("Title (Chinese)"), filters=STRIP,
                        validators=[Optional(), Length(max=64), PlainText()])
    title_en = StringField(_l("Title (English)"), filters=STRIP,
                           validators=[Optional(), Length(max=64), PlainText()])
    published = BooleanField(_l("Published"))
    starts_at = ShopDateTimeField(_l("Show from (empty: at once)"), validators=[Optional()])
    ends_at = ShopDateTimeField(_l("Show until (empty: no end)"), validators=[Optional()])
    campaign_kinds = SelectMultipleField(
        _l("Offers to show"), choices=[SelectChoice(k, v) for k, v in CAMPAIGN_KINDS.items()],
        default=list(CAMPAIGN_KINDS), widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput())
    limit = CountField(_l("How many"), default=6, minimum=1, maximum=MAX_BLOCK_ITEMS)
    groups = PickField(_l("Chosen group buys (none: all running)"), kind="groupbuy",
                       multiple=True, most=MAX_BLOCK_ITEMS)
    flash = PickField(_l("Chosen flash sale items (none: all running)"), kind="flashitem",
                      multiple=True, most=MAX_BLOCK_ITEMS)
    bargains = PickField(_l("Chosen bargains (none: all running)"), kind="bargain",
                         multiple=True, most=MAX_BLOCK_ITEMS)
    collection = PickField(_l("Collection"), kind="collection")
    articles = PickField(_l("Articles (none chosen: the latest)"), kind="article",
                         multiple=True, most=MAX_BLOCK_ITEMS)
    categories = PickField(_l("Categories (none chosen: the top categories)"), kind="category",
                           multiple=True, most=MAX_BLOCK_ITEMS)

    def settings_for(self, kind: str) -> dict:
        if kind == "campaigns":
            chosen = {kind: ordered_ids(getattr(self, kind)) for kind in CAMPAIGN_KINDS}
            return {"kinds": list(self.campaign_kinds.data or []), "limit": self.limit.data or 6,
                    "ids": {kind: ids for kind, ids in chosen.items() if ids}}
        if kind == "articles":
            return {"ids": ordered_ids(self.articles), "limit": self.limit.data or 4}
        if kind == "categories":
            return {"ids": ordered_ids(self.categories)}
        return {}

    @classmethod
    def data_of(cls, block) -> dict:
        settings = block.settings or {}
        return {"title": block.title, "title_en": (block.translations or {}).get("en", {}).get("title", ""),
                "published": block.published, "starts_at": block.starts_at, "ends_at": block.ends_at,
                "campaign_kinds": settings.get("kinds", list(CAMPAIGN_KINDS)),
                "limit": settings.get("limit", 6), "collection": block.collection_id,
                "articles": settings.get("ids", []) if block.kind == "articles" else [],
                "categories": settings.get("ids", []) if block.kind == "categories" else []}


class SlideForm(FlaskForm):
    image = FileField(_l("Picture (wide, e.g. 1200 × 500)"))
    alt = StringField(_l("What the picture shows (Chinese)"), filters=STRIP,
                      validators=[DataRequired(), Length(max=120), PlainText()])
    alt_en = StringField(_l("What the picture shows (English)"), filters=STRIP,
                         validators=[Optional(), Length(max=120), PlainText()])
    link_kind = SelectField(_l("Leads to"), choices=[SelectChoice(k, v) for k, v in LINK_LABELS.items()],
                            validators=[InputRequired()])
    product = PickField(_l("Product"), kind="product")
    article = PickField(_l("Article"), kind="article")
    collection = PickField(_l("Collection"), kind="collection")
    category = PickField(_l("Category"), kind="category")
    campaign = SelectField(_l("Campaign page"), default="groups",
                           choices=[SelectChoice(name, CAMPAIGN_ENDPOINTS[name][1])
                                    for name in CAMPAIGN_PAGES])

    def validate_link_kind(self, field):
        if field.data in ("product", "article", "collection", "category"):
            target = getattr(self, field.data)
            if not target.ids and not target.errors and not target.query:
                target.errors = [*target.errors, _l("Choose where the slide leads.")]
                raise ValidationError(_l("Choose where the slide leads."))

    def link(self) -> tuple[str, int | None, str | None]:
        kind = self.link_kind.data
        if kind == "campaign":
            return kind, None, self.campaign.data
        return kind, getattr(self, kind).data, None

    @classmethod
    def data_of(cls, slide) -> dict:
        data = {"alt": slide.alt, "alt_en": (slide.translations or {}).get("en", {}).get("alt", ""),
                "link_kind": slide.link_kind, "campaign": slide.link_page or "groups"}
        if slide.link_kind in LINK_KINDS and slide.link_kind != "campaign":
            data[slide.link_kind] = slide.link_id
        return data


class CollectionForm(FlaskForm):
    title = StringField(_l("Title (Chinese)"), filters=STRIP,
                        validators=[DataRequired(), Length(max=120), PlainText()])
    title_en = StringField(_l("Title (English)"), filters=STRIP,
                           validators=[Optional(), Length(max=120), PlainText()])
    description = TextAreaField(_l("Introduction (Chinese)"), filters=STRIP,
                                validators=[Optional(), Length(max=1000), PlainText()])
    description_en = TextAreaField(_l("Introduction (English)"), filters=STRIP,
                                   validators=[Optional(), Length(max=1000), PlainText()])
    cover = FileField(_l("Cover image"))
    published = BooleanField(_l("Published (its page is open to shoppers)"))
    mode = SelectField(_l("Products"), choices=[SelectChoice("picked", _l("Chosen one by one")),
                                                SelectChoice("rule", _l("By a rule"))], default="picked")
    products = PickField(_l("Chosen products"), kind="product", multiple=True, most=MAX_RULE_LIMIT)
    rule_category = PickField(_l("Rule: in this category"), kind="category")
    rule_keyword = StringField(_l("Rule: with this word in the title"), filters=STRIP,
                               validators=[Optional(), Length(max=32), PlainText()])
    rule_sort = SelectField(_l("Rule: order"), choices=[SelectChoice(s, SORT_LABELS[s]) for s in COLLECTION_SORTS],
                            default="sales")
    rule_limit = CountField(_l("Rule: at most"), default=12, minimum=1, maximum=MAX_RULE_LIMIT)

    @classmethod
    def data_of(cls, c) -> dict:
        en = (c.translations or {}).get("en", {})
        return {"title": c.title, "title_en": en.get("title", ""), "description": c.description,
                "description_en": en.get("description", ""), "published": c.published,
                "mode": c.mode, "products": [i.product_id for i in c.items],
                "rule_category": c.rule_category_id, "rule_keyword": c.rule_keyword,
                "rule_sort": c.rule_sort, "rule_limit": c.rule_limit}


class MoveForm(FlaskForm):
    direction = SelectField(choices=[SelectChoice("up", _l("Up")), SelectChoice("down", _l("Down"))],
                            validators=[InputRequired()])


class ConfirmForm(FlaskForm):
    """A button's POST (delete): the CSRF token only."""


class PreviewForm(FlaskForm):
    """GET /admin/home/preview?at=...: the time to preview (read-only, no CSRF)."""

    class Meta:
        csrf = False

    at = ShopDateTimeField(_l("Show the home page as at"), validators=[Optional()])
