"""The price pipeline with promotions (shop.pricing + shop.promotions.services).

A property test: for random carts and random sets of promotions (limited-time prices of
both kinds, buy N get M, full reductions by amount and by count with every kind of tier,
coupons of both kinds held by the shopper, some not live), the total is never negative,
every adjustment respects its rule (recomputed here from the rules, step by step, on
what is still due), and the breakdown adds up to the total. Then examples of stacking:
which step follows which on each channel."""

from __future__ import annotations

import uuid

from flask_babel import force_locale
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shop.accounts.models import User
from shop.catalog.models import Category, Product, Sku, StockMovement
from shop.db import db, utcnow
from shop import pricing
from shop.orders import placement
from shop.orders import services as orders
from shop.orders.models import OrderLine
from shop.promotions import rules
from shop.promotions.models import FlashSession
from tests.conftest import property_examples
from tests.factories import MemberLevelFactory, UserFactory, product_with_skus
from tests.payments.helpers import saved_address
from tests.promotions import helpers as h

FEE, FREE_FROM = 1000, 9900  # the shop's shipping defaults
POSITION = {"timed_price": 50, "buy_get": 60, "member_discount": 100, "full_reduction": 200,
            "coupon": 300, "shipping": 900, "points": 950}
LIVE = st.sampled_from(["live"] * 5 + ["past", "future", "inactive"])
SOME = st.sampled_from([1, 2, 1, 2, 3, 0])  # how many of a kind: mostly some


# --- the scenario -------------------------------------------------------------------------


@st.composite
def scenarios(draw):
    n_products = draw(st.integers(1, 3))
    products = [draw(st.integers(0, 2)) for _ in range(n_products)]  # a leaf category each
    skus = [{"price": draw(st.integers(1, 30_000)), "product": draw(st.integers(0, n_products - 1)),
             "quantity": draw(st.integers(1, 6))} for _ in range(draw(st.integers(1, 4)))]
    n_skus = len(skus)
    # thresholds and minimum spends near what the cart holds, so they are sometimes reached
    subtotal = sum(s["price"] * s["quantity"] for s in skus)
    items = sum(s["quantity"] for s in skus)

    def scope():
        kind = draw(st.sampled_from(["all", "categories", "products"]))
        ids = (draw(st.sets(st.integers(0, 3), min_size=1)) if kind == "categories"
               else draw(st.sets(st.integers(0, n_products - 1), min_size=1)) if kind == "products"
               else set())
        return kind, sorted(ids)

    timed = [{"product": draw(st.integers(0, n_products - 1)),
              "sku": draw(st.one_of(st.none(), st.integers(0, n_skus - 1))),
              "kind": draw(st.sampled_from(["price", "percent"])),
              "price": draw(st.integers(1, 30_000)), "bp": draw(st.integers(1, 9_999)),
              "with_coupons": draw(st.booleans()), "live": draw(LIVE)}
             for _ in range(draw(SOME))]
    buy_gets = [{"sku": draw(st.integers(0, n_skus - 1)), "n": draw(st.integers(1, 3)),
                 "m": draw(st.integers(1, 2)), "live": draw(LIVE)}
                for _ in range(draw(SOME))]
    reductions = []
    for _ in range(draw(SOME)):
        basis = draw(st.sampled_from(["amount", "count"]))
        top = subtotal if basis == "amount" else items
        tiers = []
        for threshold in sorted({max(1, top * pct // 100) for pct in
                                 draw(st.lists(st.integers(1, 130), min_size=1, max_size=3))}):
            off = draw(st.sampled_from(["minor", "bp", "none"]))
            tiers.append({"threshold": threshold,
                          "off_minor": draw(st.integers(1, 40_000)) if off == "minor" else None,
                          "off_bp": draw(st.integers(1, 10_000)) if off == "bp" else None,
                          "free_shipping": draw(st.booleans()), "gift": draw(st.booleans())})
        kind, ids = scope()
        reductions.append({"basis": basis, "scope": kind, "ids": ids, "tiers": tiers,
                           "with_coupons": draw(st.sampled_from([True, True, False])),
                           "live": draw(LIVE)})
    coupons = []
    for _ in range(draw(SOME)):
        kind, ids = scope()
        coupons.append({"kind": draw(st.sampled_from(["amount", "percent"])),
                        "amount": draw(st.integers(1, 20_000)), "bp": draw(st.integers(1, 10_000)),
                        "cap": draw(st.one_of(st.none(), st.integers(1, 10_000))),
                        "min_spend": subtotal * draw(st.sampled_from([0, 0, 0, 30, 60, 90, 110])) // 100,
                        "scope": kind, "ids": ids, "days": draw(st.integers(1, 3)),
                        "state": draw(st.sampled_from(["live"] * 6 + ["expired", "future",
                                                                      "inactive", "usd"]))})
    # the shopper's choice: the best coupon (the default), none, or one of theirs
    choice = draw(st.sampled_from(["", "", "", "none"] + list(range(len(coupons)))))
    return {"products": products, "skus": skus, "timed": timed, "buy_gets": buy_gets,
            "reductions": reductions, "coupons": coupons, "choice": choice,
            "gift_stock": draw(st.integers(0, 2))}


def _window(live: str) -> dict:
    now = utcnow()
    if live == "past":
        return {"starts_at": now - 3 * h.DAY, "ends_at": now - h.DAY}
    if live == "future":
        return {"starts_at": now + h.HOUR, "ends_at": now + h.DAY}
    return {"starts_at": now - h.HOUR, "ends_at": now + h.DAY, "active": live != "inactive"}


def _build(sc: dict, user_id: int, categories: list[int]) -> dict:
    """The scenario's rows, flushed in the open transaction (rolled back afterwards)."""
    now, tag = utcnow(), uuid.uuid4().hex[:10]
    products = []
    for index, category in enumerate(sc["products"]):
        products.append(h._add(Product(code=f"p-{tag}-{index}", category_id=categories[category],
                                       title=f"P{index}", currency="CNY", status="on_sale")))
    skus = [h._add(Sku(product_id=products[s["product"]].id, code=f"s-{tag}-{i}",
                       price_minor=s["price"], stock=100)) for i, s in enumerate(sc["skus"])]
    gift = h._add(Sku(product_id=products[0].id, code=f"g-{tag}", price_minor=999,
                      stock=sc["gift_stock"]))

    def ids_of(scope, ids):
        return ([categories[i] for i in ids] if scope == "categories"
                else [products[i].id for i in ids] if scope == "products" else [])

    timed = [h.timed(products[t["product"]].id, kind=t["kind"],
                     price_minor=t["price"] if t["kind"] == "price" else None,
                     percent_bp=t["bp"] if t["kind"] == "percent" else None,
                     sku_id=skus[t["sku"]].id if t["sku"] is not None
                     and skus[t["sku"]].product_id == products[t["product"]].id else None,
                     with_coupons=t["with_coupons"], **_window(t["live"]))
             for t in sc["timed"]]
    buy_gets = [h.buy_get(skus[b["sku"]].id, b["n"], b["m"], **_window(b["live"]))
                for b in sc["buy_gets"]]
    reductions = [h.reduction([{k: v for k, v in t.items() if k != "gift"}
                               | {"gift_sku_id": gift.id if t["gift"] else None}
                               for t in r["tiers"]],
                              basis=r["basis"], scope=r["scope"], scope_ids=ids_of(r["scope"], r["ids"]),
                              with_coupons=r["with_coupons"], **_window(r["live"]))
                  for r in sc["reductions"]]
    held = []
    for c in sc["coupons"]:
        made = h.coupon(kind=c["kind"], amount_minor=c["amount"] if c["kind"] == "amount" else None,
                        percent_bp=c["bp"] if c["kind"] == "percent" else None,
                        cap_minor=c["cap"] if c["kind"] == "percent" else None,
                        min_spend_minor=c["min_spend"], scope=c["scope"],
                        scope_ids=ids_of(c["scope"], c["ids"]),
                        active=c["state"] != "inactive",
                        currency="USD" if c["state"] == "usd" else "CNY")
        held.append(h.hold(user_id, made,
                           expires_at=now - h.HOUR if c["state"] == "expired" else now + c["days"] * h.DAY,
                           starts_at=now + h.HOUR if c["state"] == "future" else now - h.DAY))
    return {"products": products, "skus": skus, "gift": gift, "timed": timed,
            "buy_gets": buy_gets, "reductions": reductions, "held": held}


# --- the reference: each step recomputed from the rules -----------------------------------


def _is_live(row, now) -> bool:
    return row.active and row.starts_at <= now < row.ends_at


def _rule_lines(made, quantities, due, parents) -> list[rules.Line]:
    """The cart's lines as the rules see them, with what is still due on each."""
    products = {p.id: p for p in made["products"]}
    out = []
    for sku, quantity, d in zip(made["skus"], quantities, due):
        product = products[sku.product_id]
        cats = frozenset(c for c in (product.category_id, parents.get(product.category_id)) if c)
        out.append(rules.Line(sku.id, product.id, cats, quantity, sku.price_minor, d))
    return out


def _check(priced: pricing.Pricing, sc: dict, made: dict, parents: dict) -> None:
    now = utcnow()
    skus, n = made["skus"], len(made["skus"])
    quantities = [s["quantity"] for s in sc["skus"]]
    totals = [sku.price_minor * q for sku, q in zip(skus, quantities)]
    adjustments = priced.adjustments
    kinds = [a.kind for a in adjustments]

    # the breakdown adds up, to a total that is never negative (no clamping needed)
    assert priced.subtotal_minor == sum(totals)
    raw = priced.subtotal_minor + sum(a.amount_minor for a in adjustments)
    assert raw >= 0 and raw == priced.total_minor
    assert kinds == sorted(kinds, key=POSITION.__getitem__), kinds
    assert set(kinds) <= {"timed_price", "buy_get", "full_reduction", "coupon", "shipping"}, kinds
    assert kinds.count("full_reduction") <= 1 and kinds.count("coupon") <= 1
    assert kinds.count("shipping") <= 1

    # every discount is below 0, split over the lines without taking any below 0
    due = list(totals)
    due_before = {}
    for a in adjustments:
        due_before.setdefault(a.kind, list(due))
        if a.kind == "shipping":
            assert a.amount_minor == FEE
            continue
        assert a.amount_minor < 0 and a.per_line is not None and len(a.per_line) == n
        assert sum(a.per_line) == -a.amount_minor
        assert all(0 <= part <= d for part, d in zip(a.per_line, due)), (a.kind, a.per_line, due)
        due = [d - part for d, part in zip(due, a.per_line)]
    for line, total, d in zip(priced.lines, totals, due):
        assert line.total_minor == total and 0 <= line.discount_minor <= total
        assert line.due_minor == d
    goods = sum(a.amount_minor for a in adjustments if a.kind != "shipping")
    assert sum(line.discount_minor for line in priced.lines) == -goods

    # 50: each line at its lowest live limited-time price (the first one on a tie)
    expected_timed, timed_of = {}, {}
    for i, sku in enumerate(skus):
        best, unit = None, sku.price_minor
        for offer in sorted(made["timed"], key=lambda o: o.id):
            if _is_live(offer, now) and offer.product_id == sku.product_id \
                    and offer.sku_id in (None, sku.id):
                price = rules.timed_unit(offer.kind, offer.price_minor, offer.percent_bp,
                                         sku.price_minor)
                assert 0 <= price <= sku.price_minor
                if price < unit:
                    best, unit = offer, price
        if best is not None:
            expected_timed.setdefault(best.id, [0] * n)[i] = (sku.price_minor - unit) * quantities[i]
            timed_of[i] = best
    assert {a.ref_id: a.per_line for a in adjustments if a.kind == "timed_price"} == expected_timed
    after_timed = [t - sum(parts[i] for parts in expected_timed.values())
                   for i, t in enumerate(totals)]

    # 60: buy N get M, the best live offer of each line's SKU, on what is due after 50
    expected_bg = {}
    for i, sku in enumerate(skus):
        line = rules.Line(sku.id, sku.product_id, frozenset(), quantities[i], sku.price_minor,
                          after_timed[i])
        options = [(rules.buy_get_discount(line, o.buy_n, o.get_m), -o.id, o)
                   for o in made["buy_gets"] if _is_live(o, now) and o.sku_id == sku.id]
        if options:
            off, _, offer = max(options, key=lambda item: item[:2])
            assert off <= after_timed[i]
            if off:
                expected_bg.setdefault(offer.id, [0] * n)[i] = off
    assert {a.ref_id: a.per_line for a in adjustments if a.kind == "buy_get"} == expected_bg
    after_bg = [d - sum(parts[i] for parts in expected_bg.values()) for i, d in enumerate(after_timed)]

    # 200: the live full reduction that takes the most off the goods in its scope
    lines = _rule_lines(made, quantities, after_bg, parents)
    best = None
    for promo in sorted(made["reductions"], key=lambda p: p.id):
        if not _is_live(promo, now):
            continue
        chosen = [rules.in_scope(promo.scope, promo.scope_ids, l) for l in lines]
        eligible = [l for l, pick in zip(lines, chosen) if pick]
        base = (sum(l.due_minor for l in eligible) if promo.basis == "amount"
                else sum(l.quantity for l in eligible))
        reached = [t for t in promo.tiers if t.threshold <= base]
        if not reached:
            continue
        tier = max(reached, key=lambda t: t.threshold)
        off = rules.tier_discount(rules.Tier(tier.threshold, tier.off_minor, tier.off_bp), eligible)
        due_in_scope = sum(l.due_minor for l in eligible)
        assert 0 <= off <= due_in_scope
        if tier.off_minor:
            assert off == min(tier.off_minor, due_in_scope)
        rank = (off, tier.free_shipping, tier.gift_sku_id is not None)
        if best is None or rank > best[0]:
            best = (rank, promo, tier, off, chosen)
    full = [a for a in adjustments if a.kind == "full_reduction"]
    gift_given = False
    if best is None:
        assert not full and not priced.gifts and "full_reduction" not in priced.context
    else:
        _rank, promo, tier, off, chosen = best
        assert priced.context["full_reduction"].id == promo.id
        if off:
            (adj,) = full
            assert (adj.ref_id, -adj.amount_minor) == (promo.id, off)
            assert all(part == 0 for part, pick in zip(adj.per_line, chosen) if not pick)
            assert due_before["full_reduction"] == after_bg
        else:
            assert not full
        gift_given = tier.gift_sku_id is not None and sc["gift_stock"] > 0
    assert [(g.sku_id, g.quantity, g.unit_price_minor) for g in priced.gifts] == (
        [(made["gift"].id, 1, 0)] if gift_given else [])
    after_full = [d - p for d, p in zip(after_bg, full[0].per_line)] if full else after_bg

    # 300: the shopper's coupon, or the one that takes the most off, on what is due after 200
    full_promo = best[1] if best else None
    lines = [rules.Line(l.sku_id, l.product_id, l.category_ids, l.quantity, l.unit_minor, d)
             for l, d in zip(lines, after_full)]
    offers = {}
    for held, spec in zip(made["held"], sc["coupons"]):
        coupon = held.coupon
        usable = (spec["state"] == "live" and not (full_promo is not None and not full_promo.with_coupons))
        chosen = [rules.in_scope(coupon.scope, coupon.scope_ids, l)
                  and (i not in timed_of or timed_of[i].with_coupons) for i, l in enumerate(lines)]
        eligible = [l for l, pick in zip(lines, chosen) if pick]
        due_in_scope = sum(l.due_minor for l in eligible)
        off = 0
        if usable and eligible and due_in_scope >= coupon.min_spend_minor:
            off = rules.coupon_discount(coupon.kind, coupon.amount_minor, coupon.percent_bp,
                                        coupon.cap_minor, eligible)
        offers[held.id] = (off, held, chosen, due_in_scope)
    ranked = sorted(offers.values(), key=lambda o: (-o[0], o[1].expires_at, o[1].id))
    choice = sc["choice"]
    if choice == "":
        expected = ranked[0] if ranked and ranked[0][0] > 0 else None
    elif choice == "none":
        expected = None
    else:
        wanted = offers[made["held"][choice].id]
        expected = wanted if wanted[0] > 0 else None
        assert bool(priced.refused) == (expected is None)
    if choice in ("", "none"):
        assert not priced.refused
    coupon_adj = [a for a in adjustments if a.kind == "coupon"]
    if expected is None:
        assert not coupon_adj and priced.offers.get("coupon_chosen") is None
    else:
        off, held, chosen, due_in_scope = expected
        (adj,) = coupon_adj
        coupon = held.coupon
        assert (adj.ref_id, adj.spends, -adj.amount_minor) == (coupon.id, {"coupon": held.id}, off)
        assert due_before["coupon"] == after_full
        assert 0 < off <= due_in_scope and due_in_scope >= coupon.min_spend_minor
        assert off <= (coupon.amount_minor if coupon.kind == "amount" else
                       min(coupon.cap_minor or off, due_in_scope * coupon.percent_bp // 10_000))
        assert all(part == 0 for part, pick in zip(adj.per_line, chosen) if not pick)
        assert full_promo is None or full_promo.with_coupons
        assert priced.offers["coupon_chosen"] == held.id

    # 900: shipping unless a tier made it free or what is due reaches the threshold
    goods_due = sum(totals) + goods
    free = best is not None and best[2].free_shipping
    assert kinds.count("shipping") == (0 if free or goods_due >= FREE_FROM else 1)


@settings(max_examples=property_examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sc=scenarios())
def test_any_cart_under_any_promotions_prices_by_the_rules(app, sc):
    with app.app_context():
        try:  # every row of the example in one transaction, rolled back after it
            tag = uuid.uuid4().hex[:10]
            user = h._add(User(email=f"{tag}@example.com", nickname=tag, password_hash="x"))
            parent = h._add(Category(slug=f"c-{tag}", name="P"))
            leaves = [h._add(Category(slug=f"c-{tag}-{i}", name=f"C{i}",
                                      parent_id=parent.id if i < 2 else None)) for i in range(3)]
            categories = [leaves[0].id, leaves[1].id, leaves[2].id, parent.id]  # scopes pick 0..3
            parents = {leaves[0].id: parent.id, leaves[1].id: parent.id}
            made = _build(sc, user.id, categories)
            choice = sc["choice"]
            priced = pricing.price([(sku.id, s["quantity"], sku.price_minor)
                                    for sku, s in zip(made["skus"], sc["skus"])], user.id,
                                   {"coupon": str(made["held"][choice].id)
                                    if isinstance(choice, int) else choice})
            _check(priced, sc, made, parents)
            for kind in {a.kind for a in priced.adjustments}:
                event(f"applied: {kind}")
            event(f"gift: {bool(priced.gifts)}, refused: {bool(priced.refused)}")
        finally:
            db.session.rollback()


# --- stacking, by example -----------------------------------------------------------------


def _sku(price: int = 5000, stock: int = 10):
    product, (sku, _other) = product_with_skus(skus=(("红", price, stock), ("蓝", price, 0)))
    return product, sku


def _steps(priced) -> list[tuple[str, int]]:
    return [(a.kind, a.amount_minor) for a in priced.adjustments]


def _reasons(priced) -> list[str]:
    return [offer.reason for offer in priced.offers.get("coupons", [])]


def test_a_flash_price_takes_a_coupon_or_a_full_reduction_only_if_its_session_allows(app):
    MemberLevelFactory(threshold=0, discount_bp=1000)  # a member discount that must not apply
    product, sku = _sku(5000)
    user = UserFactory()
    with app.app_context(), force_locale("en"):  # the reasons as checkout shows them in English
        h.timed(product.id, percent_bp=5000)
        h.buy_get(sku.id, 1, 1)
        h.reduction([{"threshold": 100, "off_minor": 300}])
        h.hold(user.id, h.coupon(amount_minor=200))
        session = h._add(FlashSession(name="s", starts_at=utcnow() - h.HOUR,
                                      ends_at=utcnow() + h.HOUR))

        def flash_price():
            return pricing.price([(sku.id, 2, 800)], user.id, channel="flash",
                                 context={"flash_session": session})

        # its own price and shipping; nothing else, and checkout says why not the coupon
        priced = flash_price()
        assert _steps(priced) == [("shipping", FEE)] and priced.total_minor == 2600
        assert _reasons(priced) == ["Coupons can not be used on this purchase."]
        session.with_coupons = True
        assert _steps(flash_price()) == [("coupon", -200), ("shipping", FEE)]
        session.with_full_reduction = True
        assert _steps(flash_price()) == [("full_reduction", -300), ("coupon", -200),
                                         ("shipping", FEE)]
        session.with_coupons = False
        assert _steps(flash_price()) == [("full_reduction", -300), ("shipping", FEE)]
        # the same line at checkout gets everything the flash price does not
        assert [kind for kind, _ in _steps(pricing.price([(sku.id, 2, 5000)], user.id))] == [
            "timed_price", "buy_get", "member_discount", "full_reduction", "coupon", "shipping"]


def test_a_group_price_ships_free_and_takes_only_promotions_made_for_group_buys(app):
    _product, sku = _sku(5000)
    user = UserFactory()
    with app.app_context(), force_locale("en"):  # the reasons as checkout shows them in English
        promo = h.reduction([{"threshold": 100, "off_minor": 300}], group_buys=False)
        made = h.coupon(amount_minor=200)  # group_buys off by default
        h.hold(user.id, made)

        def group_price():
            return pricing.price([(sku.id, 1, 2000)], user.id, channel="group")

        priced = group_price()
        assert _steps(priced) == [] and priced.total_minor == 2000  # below 99.00, still no fee
        assert _reasons(priced) == ["Coupons can not be used on this purchase."]
        promo.group_buys = True
        assert _steps(group_price()) == [("full_reduction", -300)]
        made.group_buys = True
        assert _steps(group_price()) == [("full_reduction", -300), ("coupon", -200)]
        assert group_price().total_minor == 1500


def test_a_full_reduction_that_says_so_keeps_coupons_off(app):
    _product, sku = _sku(5000)
    user = UserFactory()
    with app.app_context(), force_locale("en"):  # the reasons as checkout shows them in English
        promo = h.reduction([{"threshold": 3000, "off_minor": 500}], with_coupons=False)
        h.hold(user.id, h.coupon(amount_minor=200))
        priced = pricing.price([(sku.id, 1, 5000)], user.id)
        assert _steps(priced) == [("full_reduction", -500), ("shipping", FEE)]
        assert _reasons(priced) == [f"Not with the full reduction {promo.name}."]
        # asked for by the shopper, it is refused, so no order is placed with it
        held = priced.offers["coupons"][0].held
        refused = pricing.price([(sku.id, 1, 5000)], user.id, {"coupon": str(held.id)})
        assert refused.refused == [f"Not with the full reduction {promo.name}."]
        assert "coupon" not in [kind for kind, _ in _steps(refused)]
        # below its threshold it does not apply, and neither does its condition
        assert _steps(pricing.price([(sku.id, 1, 2000)], user.id)) == [("coupon", -200),
                                                                       ("shipping", FEE)]
        promo.with_coupons = True
        assert _steps(pricing.price([(sku.id, 1, 5000)], user.id)) == [
            ("full_reduction", -500), ("coupon", -200), ("shipping", FEE)]


def test_lines_at_a_limited_time_price_that_says_so_are_outside_every_coupons_scope(app):
    timed_product, timed_sku = _sku(5000)
    _product, other = _sku(3000)
    user = UserFactory()
    with app.app_context(), force_locale("en"):  # the reasons as checkout shows them in English
        offer = h.timed(timed_product.id, percent_bp=2000, with_coupons=False)  # 50.00 -> 40.00
        h.hold(user.id, h.coupon(kind="percent", percent_bp=1000, name="九折"))
        spend = h.coupon(amount_minor=100, min_spend_minor=3500, name="满35减1")
        h.hold(user.id, spend)
        lines = [(timed_sku.id, 1, 5000), (other.id, 1, 3000)]
        priced = pricing.price(lines, user.id)
        coupon = next(a for a in priced.adjustments if a.kind == "coupon")
        # 10 % of the other line's 30.00 only, not of the 70.00 due on both
        assert (coupon.detail, coupon.amount_minor, coupon.per_line) == ("九折", -300, [0, 300])
        # 30.00 counts toward the minimum spend of 35.00, though 70.00 is due in all
        assert "Spend CN¥5.00 more on the items it applies to." in _reasons(priced)
        offer.with_coupons = True
        priced = pricing.price(lines, user.id)
        coupon = next(a for a in priced.adjustments if a.kind == "coupon")
        assert (coupon.amount_minor, coupon.per_line) == (-700, [400, 300])
        assert all(o.usable for o in priced.offers["coupons"])


def test_a_tiers_gift_is_priced_at_0_and_ordered_with_its_stock_claimed(app):
    _product, sku = _sku(5000)
    _gift_product, gift = _sku(1500, stock=2)
    user = UserFactory()
    with app.app_context():
        h.reduction([{"threshold": 3000, "gift_sku_id": gift.id}])
        priced = pricing.price([(sku.id, 1, 5000)], user.id)
        assert [(g.sku_id, g.quantity, g.unit_price_minor) for g in priced.gifts] == [(gift.id, 1, 0)]
        assert priced.offers["gift"].id == gift.id
        assert _steps(priced) == [("shipping", FEE)] and priced.total_minor == 6000

        h.in_cart(user.id, sku.id)
        order = placement.place_from_cart(user.id, saved_address(user.id), uuid.uuid4().hex)
        assert sorted((l.sku_id, l.quantity, l.unit_price_minor, l.total_minor)
                      for l in order.lines) == sorted([(sku.id, 1, 5000, 5000), (gift.id, 1, 0, 0)])
        assert (order.subtotal_minor, order.total_minor) == (5000, 6000)
        assert db.session.get(Sku, gift.id).stock == 1 and db.session.get(Sku, sku.id).stock == 9
        assert db.session.scalar(select(StockMovement.delta).where(
            StockMovement.sku_id == gift.id, StockMovement.ref_type == "order",
            StockMovement.ref_id == str(order.id))) == -1
        # cancelled, the gift goes back on the shelf with the goods
        orders.cancel(order, actor_id=None, reason="test")
        assert db.session.get(Sku, gift.id).stock == 2 and db.session.get(Sku, sku.id).stock == 10


def test_a_gift_out_of_stock_is_not_given(app):
    _product, sku = _sku(5000)
    _gift_product, gift = _sku(1500, stock=0)
    user = UserFactory()
    with app.app_context():
        h.reduction([{"threshold": 3000, "gift_sku_id": gift.id}])
        h.in_cart(user.id, sku.id)
        order = placement.place_from_cart(user.id, saved_address(user.id), uuid.uuid4().hex)
        assert [(l.sku_id, l.unit_price_minor) for l in order.lines] == [(sku.id, 5000)]
        assert not db.session.scalars(select(OrderLine).where(OrderLine.sku_id == gift.id)).all()


def test_a_tiers_free_shipping_waives_the_fee_once_reached(app):
    _product, sku = _sku(2000)
    user = UserFactory()
    with app.app_context():
        h.reduction([{"threshold": 3000, "free_shipping": True}])
        below = pricing.price([(sku.id, 1, 2000)], user.id)
        assert _steps(below) == [("shipping", FEE)] and not below.free_shipping
        reached = pricing.price([(sku.id, 2, 2000)], user.id)
        assert _steps(reached) == [] and reached.free_shipping and reached.total_minor == 4000


def test_the_member_discount_still_applies_and_the_steps_after_it_see_what_is_left(app):
    MemberLevelFactory(threshold=0, discount_bp=1000)
    _product, sku = _sku(10000)
    user = UserFactory()
    with app.app_context():
        # after 10 % off 100.00, 90.00 is due: the 95.00 tier is not reached, the 90.00 one is
        h.reduction([{"threshold": 9500, "off_minor": 2000}, {"threshold": 9000, "off_minor": 500}])
        h.hold(user.id, h.coupon(kind="percent", percent_bp=1000))
        priced = pricing.price([(sku.id, 1, 10000)], user.id)
        # the coupon takes 10 % of 85.00; 76.50 is below free shipping from 99.00
        assert _steps(priced) == [("member_discount", -1000), ("full_reduction", -500),
                                  ("coupon", -850), ("shipping", FEE)]
        assert priced.total_minor == 8650
