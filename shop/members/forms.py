from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from shop.referrals.margin import LOSS_LEADER_LABEL
from shop.members.models import MAX_DISCOUNT_BP, MAX_MULTIPLIER_BP, MAX_THRESHOLD, MIN_MULTIPLIER_BP
from shop.web.fields import CountField, PlainText, RateField


class LevelForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=32), PlainText()])
    threshold = CountField(_l("Growth needed"), validators=[InputRequired()], minimum=0,
                           maximum=MAX_THRESHOLD)
    discount_bp = RateField(_l("Discount (basis points: 100 = one per cent off)"),
                            validators=[InputRequired()], maximum=MAX_DISCOUNT_BP)
    points_multiplier_bp = RateField(_l("Points multiplier (basis points: 10000 = ×1)"),
                                     validators=[InputRequired()], minimum=MIN_MULTIPLIER_BP,
                                     maximum=MAX_MULTIPLIER_BP)
    free_shipping = BooleanField(_l("Free shipping"))
    loss_leader = BooleanField(LOSS_LEADER_LABEL)

    def values(self) -> dict:
        return {"name": self.name.data, "threshold": self.threshold.data,
                "discount_bp": self.discount_bp.data,
                "points_multiplier_bp": self.points_multiplier_bp.data,
                "free_shipping": bool(self.free_shipping.data)}
