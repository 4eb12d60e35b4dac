"""Shared steps of the bargain tests: reading a bargain back, cutting through the
service, and the page's forms."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.bargains import services
from shop.bargains.models import Bargain, BargainHelp
from shop.db import db
from shop.orders.models import Order
from tests.conftest import ADDRESS, form_token
from tests.factories import UserFactory

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true", **EN}


def state(app, bargain_id: int) -> tuple:
    """(status, helps, price_minor, version, order_id), with the cuts checked against the
    price: the BargainHelp rows are its ledger."""
    with app.app_context():
        bargain = db.session.get(Bargain, bargain_id)
        cuts = db.session.execute(select(BargainHelp.seq, BargainHelp.amount_minor,
                                         BargainHelp.price_after_minor)
                                  .where(BargainHelp.bargain_id == bargain_id)
                                  .order_by(BargainHelp.seq)).all()
        assert [seq for seq, _a, _p in cuts] == list(range(1, bargain.helps + 1))
        assert [amount for _s, amount, _p in cuts] == bargain.plan[:bargain.helps]
        assert bargain.price_minor == bargain.start_price_minor - sum(a for _s, a, _p in cuts)
        if cuts:
            assert cuts[-1][2] == bargain.price_minor
        return bargain.status, bargain.helps, bargain.price_minor, bargain.version, bargain.order_id


def cut_by_new_helpers(app, bargain_id: int, n: int) -> None:
    """n new shoppers each cut once, through the service."""
    for _ in range(n):
        helper = UserFactory()
        with app.app_context():
            services.cut(bargain_id, helper.id)
            db.session.commit()


def order_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Order))


def buy_form(client, bargain_id: int) -> dict:
    """The buy form of the bargain page as its owner sends it, with a fresh token."""
    return dict(ADDRESS, token=form_token(client, f"/bargains/{bargain_id}"))
