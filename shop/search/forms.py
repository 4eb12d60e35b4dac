from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import InputRequired, Length


class SynonymForm(FlaskForm):
    terms = TextAreaField(_l("Words"), validators=[InputRequired(), Length(max=1000)])
    one_way = BooleanField(_l("One way: only the first word finds the others"))


class KeywordsForm(FlaskForm):
    recommended = TextAreaField(_l("Recommended searches"), validators=[Length(max=1000)])
    hidden = TextAreaField(_l("Never shown as hot searches"), validators=[Length(max=1000)])

