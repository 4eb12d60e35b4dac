"""The distributor centre (issue 26): each figure in the row of its label, and one honest
conversion wherever a distributor's is shown: buyers (distinct paying customers who came
through their links) per distinct visitor of the links, in the same window, never above
100 %, "—" without visitors (the centre, the kit per product, the backoffice ranking)."""

from __future__ import annotations

import re

from sqlalchemy import update

from shop.analytics import services as analytics
from shop.db import db
from shop.referrals import services
from shop.referrals.models import OrderReferral
from tests.factories import (BindingFactory, DistributorFactory, LinkOpenFactory, ProductFactory,
                             ReferralSettingsFactory, UserFactory, product_with_skus)
from tests.payments.helpers import bought

EN = {"Accept-Language": "en"}


def _shared(app):
    """Distributor D; two visitors opened D's link to product P (three opens); buyer B,
    bound to D, paid three orders through that link; C, bound to D too, paid one order
    without any link (a binding alone). Buyers through links: 1, visitors: 2 -> 50 %
    (orders per visitor, what the centre printed, was 4 / 2 = 200 %)."""
    ReferralSettingsFactory()
    d = DistributorFactory(user_id=UserFactory(nickname="分销员D").id)
    product, (sku,) = product_with_skus(skus=(("一盒", 10000, 20),))
    target = f"p{product.id}"
    for visitor in ("a" * 32, "a" * 32, "b" * 32):
        LinkOpenFactory(sharer_id=d.user_id, target=target, visitor=visitor)
    b, c = UserFactory(), UserFactory()
    for user in (b, c):
        BindingFactory(user_id=user.id, referrer_id=d.user_id)
    with app.app_context():
        through_link = [bought(b.id, sku.id, f"b{n}").id for n in range(3)]
        bought(c.id, sku.id, "c0")
        # the link's page is kept on the order from the referral cookie at placement
        db.session.execute(update(OrderReferral).where(OrderReferral.order_id.in_(through_link))
                           .values(target=target))
        db.session.commit()
    return d, product, through_link


def _figure(body: str, testid: str) -> str:
    return body.split(f'data-testid="{testid}">', 1)[1].split("<", 1)[0]


def test_conversion_is_buyers_per_visitor_never_above_one_and_none_without_visitors():
    assert services.conversion_bp(1, 2) == 5000
    assert services.conversion_bp(2, 3) == 6666  # rounded down, never up to a higher rate
    assert services.conversion_bp(0, 5) == 0
    assert services.conversion_bp(3, 2) == 10_000  # buyers whose visit no beacon reported
    assert services.conversion_bp(0, 0) is None and services.conversion_bp(2, 0) is None


def test_the_centre_counts_buyers_through_links_per_visitor(app):
    d, _product, _orders = _shared(app)
    client = app.test_client()
    client.signin(_email(app, d.user_id))
    body = client.get("/distribution", headers=EN).get_data(as_text=True)
    assert [_figure(body, t) for t in ("clicks", "buyers", "orders")] == ["3", "1", "4"]
    assert _figure(body, "conversion") == "50%"


def test_the_centre_says_so_when_nobody_visited(app):
    ReferralSettingsFactory()
    d = DistributorFactory()
    client = app.test_client()
    client.signin(_email(app, d.user_id))
    body = client.get("/distribution", headers=EN).get_data(as_text=True)
    assert _figure(body, "conversion") == "—"


def test_team_counts_and_prices_sit_in_the_rows_of_their_labels(app):
    """Each figure is inside its row's link (one tappable row), not a sibling of the
    block link that falls under it, against the next row."""
    ReferralSettingsFactory()
    d = DistributorFactory()
    BindingFactory(user_id=UserFactory().id, referrer_id=d.user_id)
    ProductFactory(code="longjing", price_minor=16800, featured=True)
    client = app.test_client()
    client.signin(_email(app, d.user_id))
    body = client.get("/distribution", headers=EN).get_data(as_text=True)
    team = re.search(r'<a class="row" href="/distribution/team">(.*?)</a>', body, re.S)
    assert team and "My team" in team[1] and "Level 1: 1 · Level 2: 0" in team[1], body
    kit = re.search(r'<a class="row" href="/distribution/kit/\d+">(.*?)</a>', body, re.S)
    assert kit and "Product longjing" in kit[1] and "168.00" in kit[1], body


def test_the_kit_shows_the_same_conversion_for_the_product_link(app):
    d, product, _orders = _shared(app)
    client = app.test_client()
    client.signin(_email(app, d.user_id))
    body = client.get(f"/distribution/kit/{product.id}", headers=EN).get_data(as_text=True)
    assert "2 visitors, 1 buyers, conversion 50%" in _figure(body, "link-conversion")


def test_the_backoffice_ranks_distributors_with_the_same_conversion(app, admin_client):
    _d, _product, orders = _shared(app)
    with app.app_context():
        for order_id in orders:  # what the sweeper does
            analytics.count_sales(order_id)
        db.session.commit()
    body = admin_client.get("/admin/data/", headers=EN).get_data(as_text=True)
    table = body.split('id="top-distributors"', 1)[1].split("</table>", 1)[0]
    row = re.search(r"<tr><td>分销员D</td>(.*?)</tr>", table, re.S)
    assert row and row[1].endswith("<td>50%</td>"), table


def _email(app, user_id: int) -> str:
    from shop.accounts.models import User

    with app.app_context():
        return db.session.get(User, user_id).email
