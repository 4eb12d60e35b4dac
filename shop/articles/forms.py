from datetime import datetime, timezone

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateTimeLocalField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from shop.articles import ARTICLE_STATUS_LABELS
from shop.web.fields import CountField, PlainText

MAX_TAGS, MAX_TAG_LENGTH = 8, 32  # Tag.name is String(32)


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), filters=[lambda v: v.strip() if v else v],
                        validators=[DataRequired(), Length(max=120), PlainText()])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=300), PlainText()])
    category_id = SelectField(_l("Category"), coerce=int, default=0)
    tags = StringField(_l("Tags, separated by commas"),
                       validators=[Optional(), Length(max=200), PlainText()])
    body = TextAreaField(_l("Body (Markdown)"), validators=[Optional(), Length(max=50_000)])
    cover = FileField(_l("Cover image"))
    repromote = BooleanField(_l("Re-promote periodically"))
    repromote_days = CountField(_l("Every how many days"), default=15, minimum=1, maximum=365)
    revision = CountField(minimum=0, maximum=2**31 - 1)  # the revision the form shows

    def tag_names(self) -> list[str]:
        text = (self.tags.data or "").replace("，", ",")
        return list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))

    def validate_tags(self, field):
        names = self.tag_names()
        if len(names) > MAX_TAGS:
            raise ValidationError(_l("Give at most %(n)d tags.", n=MAX_TAGS))
        if any(len(name) > MAX_TAG_LENGTH for name in names):
            raise ValidationError(_l("A tag has at most %(n)d characters.", n=MAX_TAG_LENGTH))


class PreviewForm(FlaskForm):
    body = TextAreaField(validators=[Optional(), Length(max=50_000)])


class StatusForm(FlaskForm):
    to = SelectField(choices=[SelectChoice(s, label) for s, label in ARTICLE_STATUS_LABELS.items()],
                     validators=[InputRequired()])
    revision = CountField(minimum=0, maximum=2**31 - 1)  # the revision the person saw
    publish_at = DateTimeLocalField(_l("Publish at (leave empty for now)"),
                                    format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                    validators=[Optional()])

    def publish_at_utc(self) -> datetime | None:
        """The time typed, read in the shop's time zone, as UTC."""
        if self.publish_at.data is None:
            return None
        zone = get_timezone()  # pytz: localize() picks the right offset for that date
        return zone.localize(self.publish_at.data).astimezone(timezone.utc)


class CategoryForm(FlaskForm):
    name = StringField(_l("Name (Chinese)"), validators=[InputRequired(), Length(max=64), PlainText()])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=64), PlainText()])
    slug = StringField(_l("Slug"), validators=[
        InputRequired(), Length(max=64),
        Regexp(r"^[a-z0-9-]+$", message=_l("Use lower-case letters, digits and dashes."))])
    position = CountField(_l("Position"), default=0, minimum=0, maximum=10000,
                          validators=[InputRequired()])
    active = BooleanField(_l("Shown to shoppers"), default=True)
