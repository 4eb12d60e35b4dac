"""The limited-time price on the product page (issue 26): the price of the options still in
stock ("from" only when they differ), the sold-out state when none is, and the end time.
It used to read "from" the lowest price of any option, a sold-out one included."""

from __future__ import annotations

import pytest
from flask_babel import format_datetime

from shop.db import db
from tests.factories import product_with_skus
from tests.promotions import helpers as h

EN = {"Accept-Language": "en"}


def _offer_line(app, client, skus, **timed) -> tuple[str, str]:
    """The product's offers fragment's timed-price line (tags dropped), and its end time
    as the page should print it."""
    product, _skus = product_with_skus(skus=skus)
    with app.app_context():
        offer = h.timed(product.id, **timed)  # 20 % off every option by default
        db.session.commit()
        ends_at = offer.ends_at
    html = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    line = html.split('data-testid="timed-price">', 1)[1].split("</p>", 1)[0]
    with app.test_request_context(headers=EN):
        return " ".join(line.split()), format_datetime(ends_at, "short")


@pytest.mark.parametrize("skus, shown", [
    # the cheaper option is sold out: the price of the one left, without "from"
    ((("小盒", 6000, 0), ("大盒", 8000, 5)), "Limited-time price CN¥64.00 ·"),
    # two left at different prices: "from" the lower of those
    ((("小盒", 6000, 0), ("中盒", 7000, 2), ("大盒", 8000, 5)), "Limited-time price from CN¥56.00 ·"),
    # two left at one price: that price
    ((("红", 6000, 3), ("蓝", 6000, 5)), "Limited-time price CN¥48.00 ·"),
    # none left: the price, sold out
    ((("小盒", 6000, 0), ("大盒", 8000, 0)), "Limited-time price CN¥48.00, sold out ·"),
])
def test_the_timed_price_is_that_of_the_options_in_stock(app, client, skus, shown):
    line, ends = _offer_line(app, client, skus)
    assert line.startswith(shown), line
    assert ends in line, (ends, line)  # the end time itself, beside the countdown
    assert 'class="countdown"' in line


def test_an_offer_on_a_sold_out_option_only_says_so(app, client):
    """An offer on one option, which is sold out, while another is in stock at its usual
    price: the timed price is shown sold out, never as a price one can pay."""
    product, (small, _big) = product_with_skus(skus=(("小盒", 6000, 0), ("大盒", 8000, 5)))
    with app.app_context():
        h.timed(product.id, sku_id=small.id)
        db.session.commit()
    html = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    line = " ".join(html.split('data-testid="timed-price">', 1)[1].split("</p>", 1)[0].split())
    assert line.startswith("Limited-time price CN¥48.00, sold out ·"), line
