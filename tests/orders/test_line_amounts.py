"""What each line paid is kept on the order, and everything earned or counted per line
reads it: commissions of both levels, points, member growth and the article's figures,
before and after a refund of one line.

The outside review's case: product A at a 20 % commission (10 % at level 2) with a 50 %
limited-time price, product B at 5 % (2 % at level 2) with none, bought together through
a distributor's share link, A from an article's card. Split by list price (the old way)
the order's 150.00 gave A and B 75.00 each: level 1 earned 18.75 instead of 15.00. The
reverse case (B discounted) underpaid: 18.75 instead of 22.50."""

import re

import pytest
from sqlalchemy import func, select

from shop.articles.services import figures as article_figures
from shop.db import db
from shop.members.services import growth
from shop.orders.models import Order, OrderAdjustment, OrderLine, OrderLineAdjustment, OrderLineRefund
from shop.points.services import balance as points_balance
from shop.referrals import links
from shop.wallet import services as wallet
from tests.conftest import ADDRESS, form_token, signed_in
from tests.factories import (ArticleFactory, BindingFactory, CommissionRateFactory,
                             ReferralSettingsFactory, TimedPriceFactory, UserFactory,
                             product_with_skus)
from tests.referrals.helpers import balances, commissions

EN = {"Accept-Language": "en"}


def _bought_through_a_link(app, *, discounted: str):
    """The shopper opens level 1's share link, adds A from the article's card and B, and
    pays from the wallet. Returns (order id, shopper, level 1, level 2, article id, {name:
    line id})."""
    ReferralSettingsFactory(binding_rule="first_visit")
    level2 = UserFactory()
    level1 = UserFactory()
    BindingFactory(user_id=level1.id, referrer_id=level2.id)
    a, (a_sku, _) = product_with_skus(skus=(("一份", 10000, 10), ("两份", 20000, 0)),
                                      cost_price_minor=1000)
    b, (b_sku, _) = product_with_skus(skus=(("一份", 10000, 10), ("两份", 20000, 0)),
                                      cost_price_minor=1000)
    CommissionRateFactory(product_id=a.id, level1_bp=2000, level2_bp=1000)
    CommissionRateFactory(product_id=b.id, level1_bp=500, level2_bp=200)
    TimedPriceFactory(product_id=(a if discounted == "A" else b).id, percent_bp=5000)
    article = ArticleFactory(body_md=f"[[product:{a.id}]]\n\n[[product:{b.id}]]")
    client, shopper = signed_in(app)
    with app.app_context():
        wallet.move(shopper.id, 100_000, reason="t", ref_type="t", ref_id="topup")
        db.session.commit()
    opened = client.get(f"/s/{links.token(level1.referral_code, f'p{b.id}')}")
    assert opened.status_code == 303
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    beacon = re.search(r'hx-post="(/s/[^"]+/opened)"', page)
    assert client.post_form(beacon.group(1)).status_code == 204  # the open binds the shopper
    for sku, via in ((a_sku, article.id), (b_sku, None)):
        data = {"sku_id": str(sku.id), "quantity": "1"} | ({"via": str(via)} if via else {})
        assert client.post_form("/cart/add", data).status_code == 302
    response = client.post_form("/checkout", dict(ADDRESS, token=form_token(client, "/checkout")))
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.post_form(f"/orders/{order_id}/pay/wallet").status_code == 302
    with app.app_context():
        lines = dict(db.session.execute(select(OrderLine.sku_id, OrderLine.id)
                                        .where(OrderLine.order_id == order_id)).all())
    return order_id, shopper, level1, level2, article.id, {"A": lines[a_sku.id], "B": lines[b_sku.id]}


def _lines(app, order_id):
    """(list price, discount, shipping, paid, refunded, article) per line, A then B."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(OrderLine.total_minor, OrderLine.discount_minor, OrderLine.shipping_minor,
                   OrderLine.paid_minor, OrderLine.refunded_minor, OrderLine.source_article_id)
            .where(OrderLine.order_id == order_id).order_by(OrderLine.id))]


def _earned(app, user_id, article_id):
    """(points, growth, the article's orders and GMV) as the shop reports them."""
    with app.app_context():
        rows = {row.Article.id: row for row in article_figures().items}
        return points_balance(user_id), growth(user_id), rows[article_id].orders, rows[article_id].gmv


def _refund_line(app, order_id, line_id, amount):
    admin, _ = signed_in(app, "admin")
    form = {"line": str(line_id), "amount": amount, "reason": "缺货",
            "token": re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', admin.get(
                f"/admin/orders/{order_id}").get_data(as_text=True)).group(1)}
    response = admin.post_form(f"/admin/orders/{order_id}/refund", form, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)[:600]


def test_commissions_points_growth_and_attribution_follow_what_each_line_paid(app):
    order_id, shopper, level1, level2, article_id, line = _bought_through_a_link(app, discounted="A")
    # A paid 50.00 of its 100.00 (the limited-time price is its own), B all of its 100.00
    assert _lines(app, order_id) == [(10000, 5000, 0, 5000, 0, article_id),
                                     (10000, 0, 0, 10000, 0, None)]
    with app.app_context():
        shares = db.session.execute(
            select(OrderAdjustment.kind, OrderLineAdjustment.order_line_id, OrderLineAdjustment.amount_minor)
            .join(OrderAdjustment, OrderAdjustment.id == OrderLineAdjustment.adjustment_id)
            .where(OrderAdjustment.order_id == order_id)).all()
        assert [tuple(s) for s in shares] == [("timed_price", line["A"], -5000)]
        assert db.session.get(Order, order_id).total_minor == 15000
    # level 1: 20 % of 50.00 + 5 % of 100.00 = 15.00 (not 18.75); level 2: 10 % + 2 % = 7.00
    assert commissions(app, order_id) == {1: (level1.id, 1500, 0), 2: (level2.id, 700, 0)}
    assert balances(app, level1.id) == (1500, 0) and balances(app, level2.id) == (700, 0)
    # 1 point and 1 growth a yuan paid for the goods: 50 + 100; the article sold A's 50.00
    assert _earned(app, shopper.id, article_id) == (150, 150, 1, 5000)

    _refund_line(app, order_id, line["A"], "50.00")  # A did not arrive: its own 50.00 back

    assert _lines(app, order_id) == [(10000, 5000, 0, 5000, 5000, article_id),
                                     (10000, 0, 0, 10000, 0, None)]
    with app.app_context():
        assert db.session.execute(select(OrderLineRefund.order_line_id, OrderLineRefund.amount_minor)
                                  ).all() == [(line["A"], 5000)]
        assert db.session.get(Order, order_id).status == "partly_refunded"
    # exactly A's part goes: 10.00 at level 1, 5.00 at level 2; B's 5.00 and 2.00 stay
    assert commissions(app, order_id) == {1: (level1.id, 1500, 1000), 2: (level2.id, 700, 500)}
    assert balances(app, level1.id) == (500, 0) and balances(app, level2.id) == (200, 0)
    assert _earned(app, shopper.id, article_id) == (100, 100, 1, 0)


def test_the_reverse_case_no_longer_underpays(app):
    order_id, shopper, level1, level2, article_id, line = _bought_through_a_link(app, discounted="B")
    assert _lines(app, order_id) == [(10000, 0, 0, 10000, 0, article_id),
                                     (10000, 5000, 0, 5000, 0, None)]
    # level 1: 20 % of 100.00 + 5 % of 50.00 = 22.50 (the list-price split gave 18.75)
    assert commissions(app, order_id) == {1: (level1.id, 2250, 0), 2: (level2.id, 1100, 0)}
    _refund_line(app, order_id, line["B"], "50.00")
    assert commissions(app, order_id) == {1: (level1.id, 2250, 250), 2: (level2.id, 1100, 100)}
    assert _earned(app, shopper.id, article_id) == (100, 100, 1, 10000)


@pytest.mark.parametrize("amount", ["50.01", "0"])
def test_a_line_refund_above_what_the_line_paid_is_refused_and_changes_nothing(app, amount):
    order_id, _shopper, level1, _level2, _article, line = _bought_through_a_link(app, discounted="A")
    admin, _ = signed_in(app, "admin")
    page = admin.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    response = admin.post_form(f"/admin/orders/{order_id}/refund",
                               {"line": str(line["A"]), "amount": amount, "reason": "x",
                                "token": token}, headers=EN)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert ("At most CN¥50.00 of this line can still be refunded." in text if amount != "0"
            else "The amount must be more than zero." in text)
    assert _lines(app, order_id)[0][4] == 0
    assert commissions(app, order_id)[1] == (level1.id, 1500, 0)


def test_an_amount_refund_gives_back_the_goods_first_in_proportion_to_each_line(app):
    order_id, shopper, level1, level2, article_id, _line = _bought_through_a_link(app, discounted="A")
    admin, _ = signed_in(app, "admin")
    page = admin.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    response = admin.post_form(f"/admin/orders/{order_id}/refund",
                               {"line": "0", "amount": "30.00", "reason": "x", "token": token})
    assert response.status_code == 302
    # 30.00 of the goods' 150.00: A 10.00 (of 50.00), B 20.00 (of 100.00)
    assert [row[4] for row in _lines(app, order_id)] == [1000, 2000]
    # each line's part of each commission in its share: 1/5 of 10.00 + 1/5 of 5.00
    assert commissions(app, order_id) == {1: (level1.id, 1500, 300), 2: (level2.id, 700, 140)}
    assert _earned(app, shopper.id, article_id) == (120, 120, 1, 4000)


def test_the_migration_backfills_what_each_line_paid_for_orders_placed_before(app):
    """An order placed, paid and partly refunded as before the columns existed: after the
    migration down and up again, its lines hold what the placing stored (a coupon over
    both lines is split in proportion to what is due on each, shipping over the goods,
    the refund goods first), and so do its commissions and points, line by line."""
    from flask_migrate import downgrade, upgrade

    from shop.cart.models import CartItem
    from shop.orders import placement
    from shop.orders import services as orders
    from shop.points.models import LinePoints
    from shop.referrals.models import CommissionLine
    from tests.payments.helpers import saved_address
    from tests.promotions import helpers as promo

    ReferralSettingsFactory()
    sharer = UserFactory()
    buyer = UserFactory()
    BindingFactory(user_id=buyer.id, referrer_id=sharer.id)
    _a, (a_sku, _) = product_with_skus(skus=(("一份", 3333, 10), ("两份", 6666, 0)))
    _b, (b_sku, _) = product_with_skus(skus=(("一份", 4444, 10), ("两份", 8888, 0)))
    admin = UserFactory(role="admin")
    with app.app_context():
        held = promo.hold(buyer.id, promo.coupon(amount_minor=1001))
        for sku in (a_sku, b_sku):
            db.session.add(CartItem(user_id=buyer.id, sku_id=sku.id, quantity=1))
        order = placement.place_from_cart(buyer.id, saved_address(buyer.id), "k1",
                                          {"coupon": str(held.id)})
        wallet.move(buyer.id, order.total_minor, reason="t", ref_type="t", ref_id="topup")
        orders.pay_with_wallet(order, buyer.id)
        orders.refund(order, 2345, key="r1", reason="x", actor_id=admin.id, restock=False)
        db.session.commit()
        order_id = order.id

    def snapshot():
        lines = db.session.execute(select(OrderLine.id, OrderLine.discount_minor, OrderLine.shipping_minor,
                                          OrderLine.paid_minor, OrderLine.refunded_minor)
                                   .where(OrderLine.order_id == order_id).order_by(OrderLine.id)).all()
        shares = db.session.execute(
            select(OrderAdjustment.kind, OrderLineAdjustment.order_line_id, OrderLineAdjustment.amount_minor)
            .join(OrderAdjustment, OrderAdjustment.id == OrderLineAdjustment.adjustment_id)
            .order_by(OrderAdjustment.position, OrderLineAdjustment.order_line_id)).all()
        refunded = db.session.execute(select(OrderLineRefund.order_line_id, OrderLineRefund.amount_minor)
                                      .order_by(OrderLineRefund.order_line_id)).all()
        commission = db.session.execute(select(CommissionLine.order_line_id, CommissionLine.amount_minor)
                                        .order_by(CommissionLine.order_line_id)).all()
        points = db.session.execute(select(LinePoints.order_line_id, LinePoints.points)
                                    .order_by(LinePoints.order_line_id)).all()
        return [[tuple(row) for row in rows] for rows in (lines, shares, refunded, commission, points)]

    with app.app_context():
        placed = snapshot()
        lines, shares, refunded, commission, points = placed
        # coupon 10.01 by what is due (33.33, 44.44); shipping 10.00 by the goods (29.04, 38.72)
        assert [row[1:] for row in lines] == [(429, 429, 3333, 1005), (572, 571, 4443, 1340)]
        assert {kind for kind, *_rest in shares} == {"coupon", "shipping"}
        assert sum(amount for _l, amount in refunded) == 2345 and len(commission) == len(points) == 2
        db.session.rollback()
        downgrade(revision="6d2b3cbc9c50")  # before a7c3e91d5b20, what each line paid
        upgrade()
        assert snapshot() == [placed[0], placed[1], [(line, amount) for line, amount in refunded],
                              placed[3], placed[4]]
        keys = db.session.scalars(select(OrderLineRefund.key)).all()
        assert keys == ["backfill", "backfill"]
        db.session.rollback()


def _admin_refund(app, order_id, form):
    admin, _ = signed_in(app, "admin")
    page = admin.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    return admin.post_form(f"/admin/orders/{order_id}/refund", {"reason": "x", "token": token, **form},
                           headers=EN)


def _stock(app, *skus):
    from shop.catalog.models import Sku

    with app.app_context():
        return [db.session.get(Sku, sku_id).stock for sku_id in skus]


def test_a_line_refunded_with_its_stock_returns_that_lines_units_only(app):
    order_id, _shopper, _l1, _l2, _article, line = _bought_through_a_link(app, discounted="A")
    with app.app_context():
        skus = dict(db.session.execute(select(OrderLine.id, OrderLine.sku_id)
                                       .where(OrderLine.order_id == order_id)).all())
    a_sku, b_sku = skus[line["A"]], skus[line["B"]]
    assert _stock(app, a_sku, b_sku) == [9, 9]
    # A's line, amount left empty: all A paid, and A's unit back on the shelf; B's stays sold
    response = _admin_refund(app, order_id, {"line": str(line["A"]), "restock": "y"})
    assert response.status_code == 302
    assert _lines(app, order_id)[0][4] == 5000 and _stock(app, a_sku, b_sku) == [10, 9]
    # then the rest, with the stock: B's unit comes back, A's is not returned twice
    response = _admin_refund(app, order_id, {"line": "0", "restock": "y"})
    assert response.status_code == 302
    assert [row[4] for row in _lines(app, order_id)] == [5000, 10000]
    assert _stock(app, a_sku, b_sku) == [10, 10]


def test_a_refused_refund_changes_nothing_and_the_page_shows_the_order_as_it_is(app):
    """The group participant refuses a refund while its group is open, after the payment
    and the line were refunded in the same request: every step is undone, and the 409
    page shows the order as it is (paid, nothing refunded), not half refunded."""
    from shop.groups.models import GroupMember
    from shop.payments.models import Refund
    from tests.groups.helpers import campaign, open_paid_group

    campaign_id, sku_id = campaign(size=2)
    _leader, _lead_user, group_id = open_paid_group(app, campaign_id, sku_id)
    with app.app_context():
        order_id = db.session.scalar(select(GroupMember.order_id).where(GroupMember.group_id == group_id))
    response = _admin_refund(app, order_id, {"line": "0"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "it can be refunded once the group is settled" in text
    status = re.search(r'data-testid="status">([^<]*)<', text).group(1)
    assert status == "Paid" and 'data-testid="refunds"' not in text
    lines = re.search(r'data-testid="lines">(.*?)</table>', text, re.S).group(1)
    assert "Refunded" in lines and lines.count("CN¥") == 3  # unit, list price, paid: nothing refunded
    with app.app_context():
        assert db.session.get(Order, order_id).status == "paid"
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
        assert db.session.scalar(select(OrderLine.refunded_minor).where(OrderLine.order_id == order_id)) == 0


def test_the_shopper_sees_what_each_line_had_back(app):
    order_id, shopper, _l1, _l2, _article, line = _bought_through_a_link(app, discounted="A")
    assert _admin_refund(app, order_id, {"line": str(line["A"]), "amount": "20.00"}).status_code == 302
    client, _ = signed_in(app)  # another shopper: not theirs
    assert client.get(f"/orders/{order_id}").status_code == 404
    page = _shopper_client(app, shopper).get(f"/orders/{order_id}", headers=EN).get_data(as_text=True)
    assert re.findall(r'data-testid="line-refunded">([^<]*)<', page) == ["Refunded: CN¥20.00"]


def _shopper_client(app, shopper):
    client = app.test_client()
    client.signin(shopper.email)
    return client


def test_an_order_number_too_long_for_an_id_finds_nothing(app):
    order_id, *_rest = _bought_through_a_link(app, discounted="A")
    admin, _ = signed_in(app, "admin")
    response = admin.get("/admin/orders?q=2026120799999999999999999999", headers=EN)
    assert response.status_code == 200 and "No orders match." in response.get_data(as_text=True)
    found = admin.get(f"/admin/orders?q=20261207{order_id:06d}", headers=EN).get_data(as_text=True)
    assert "No orders match." not in found
