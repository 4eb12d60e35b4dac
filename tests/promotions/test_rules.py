"""Property tests (hypothesis) of the promotions' arithmetic (shop.promotions.rules):
every result is bounded by the rule it implements, rounded in the shop's favour, and
never more than what is due on the lines it applies to."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shop.promotions import rules

pytestmark = pytest.mark.pages  # the promotion rules: pure functions (SQLite pass only)

MINOR = st.integers(0, 10_000_000)
BP = st.integers(1, 10_000)


@st.composite
def lines(draw, min_size=1, max_size=6):
    """Lines as a promotion sees them: what is due is the total less a discount taken
    before, never below 0."""
    made = []
    for index in range(draw(st.integers(min_size, max_size))):
        quantity = draw(st.integers(1, 50))
        unit = draw(st.integers(0, 200_000))
        due = draw(st.integers(0, unit * quantity))
        made.append(rules.Line(index + 1, draw(st.integers(1, 5)),
                               frozenset(draw(st.sets(st.integers(1, 6), max_size=2))),
                               quantity, unit, due))
    return made


def _due(some) -> int:
    return sum(line.due_minor for line in some)


# --- limited-time prices ------------------------------------------------------------------


@given(unit=MINOR, price=st.integers(1, 10_000_000))
def test_a_set_price_is_never_above_the_list_price(unit, price):
    result = rules.timed_unit("price", price, None, unit)
    assert 0 <= result <= unit
    assert result == price or (price > unit and result == unit)


@given(unit=MINOR, bp=st.integers(1, 9_999))
def test_a_percentage_off_rounds_the_saving_down(unit, bp):
    result = rules.timed_unit("percent", None, bp, unit)
    assert 0 <= result <= unit
    # the saving is at most the exact percentage, and less than one minor unit short of it
    saving = unit - result
    assert saving * 10_000 <= unit * bp < (saving + 1) * 10_000


# --- buy N get M --------------------------------------------------------------------------


@given(quantity=st.integers(0, 500), buy_n=st.integers(1, 99), get_m=st.integers(1, 99))
def test_buy_n_get_m_frees_m_for_every_full_n_plus_m(quantity, buy_n, get_m):
    free = rules.buy_get_free_units(quantity, buy_n, get_m)
    assert 0 <= free <= quantity and free % get_m == 0
    groups = free // get_m
    # every free group is paid for by N units bought with it ...
    assert groups * (buy_n + get_m) <= quantity
    # ... and no further full group fits in what is left
    assert quantity - groups * (buy_n + get_m) < buy_n + get_m
    # one unit more never frees fewer
    assert rules.buy_get_free_units(quantity + 1, buy_n, get_m) >= free


@given(data=st.data(), buy_n=st.integers(1, 9), get_m=st.integers(1, 9))
def test_the_buy_get_discount_is_the_free_units_share_of_what_is_due(data, buy_n, get_m):
    (line,) = data.draw(lines(max_size=1))
    discount = rules.buy_get_discount(line, buy_n, get_m)
    free = rules.buy_get_free_units(line.quantity, buy_n, get_m)
    assert 0 <= discount <= line.due_minor
    assert discount * line.quantity <= line.due_minor * free  # rounded down
    assert (discount + 1) * line.quantity > line.due_minor * free
    if free == 0:
        assert discount == 0
    if line.due_minor == line.unit_minor * line.quantity:  # nothing taken off before
        assert discount == line.unit_minor * free


# --- full reductions ----------------------------------------------------------------------


@st.composite
def tiers(draw):
    thresholds = draw(st.lists(st.integers(1, 500_000), min_size=1, max_size=5, unique=True))
    made = []
    for threshold in thresholds:
        off = draw(st.sampled_from(["minor", "bp", "none"]))
        made.append(rules.Tier(threshold,
                               draw(st.integers(1, 200_000)) if off == "minor" else None,
                               draw(BP) if off == "bp" else None,
                               draw(st.booleans())))
    return made


@given(data=st.data(), basis=st.sampled_from(["amount", "count"]))
def test_the_tier_reached_is_the_highest_the_lines_reach(data, basis):
    some = data.draw(lines(min_size=0))
    ladder = data.draw(tiers())
    base = _due(some) if basis == "amount" else sum(line.quantity for line in some)
    tier = rules.reached_tier(ladder, basis, some)
    reached = [t for t in ladder if t.threshold <= base]
    if not reached:
        assert tier is None
    else:
        assert tier in ladder and tier.threshold <= base
        assert all(t.threshold <= tier.threshold for t in reached)
    # the order the tiers come in does not matter
    assert rules.reached_tier(list(reversed(ladder)), basis, some) == tier


@given(data=st.data())
def test_a_tiers_discount_is_never_more_than_is_due(data):
    some = data.draw(lines(min_size=0))
    (tier,) = data.draw(tiers().map(lambda t: t[:1]))
    off, due = rules.tier_discount(tier, some), _due(some)
    assert 0 <= off <= due
    if tier.off_minor:
        assert off == min(tier.off_minor, due)
    elif tier.off_bp:
        assert off * 10_000 <= due * tier.off_bp < (off + 1) * 10_000
    else:
        assert off == 0


# --- coupons ------------------------------------------------------------------------------


@given(data=st.data(), amount=st.integers(1, 1_000_000))
def test_an_amount_coupon_takes_its_amount_at_most_what_is_due(data, amount):
    some = data.draw(lines())
    off = rules.coupon_discount("amount", amount, None, None, some)
    assert off == min(amount, _due(some)) and off >= 0


@given(data=st.data(), bp=BP, cap=st.one_of(st.none(), st.integers(1, 100_000)))
def test_a_percent_coupon_rounds_down_and_respects_its_cap(data, bp, cap):
    some = data.draw(lines())
    due = _due(some)
    off = rules.coupon_discount("percent", None, bp, cap, some)
    assert 0 <= off <= due
    assert off * 10_000 <= due * bp
    if cap is not None:
        assert off <= cap
        assert off == min(cap, due * bp // 10_000)
    else:
        assert off == due * bp // 10_000


# --- the split over the lines --------------------------------------------------------------


@given(data=st.data())
def test_a_split_sums_to_the_amount_and_stays_on_the_chosen_lines(data):
    some = data.draw(lines())
    chosen = data.draw(st.lists(st.booleans(), min_size=len(some), max_size=len(some)))
    eligible = sum(line.due_minor for line, pick in zip(some, chosen) if pick)
    amount = data.draw(st.integers(0, eligible))
    parts = rules.split(amount, some, chosen)
    assert len(parts) == len(some) and sum(parts) == amount
    for line, pick, part in zip(some, chosen, parts):
        assert 0 <= part <= line.due_minor
        if not pick:
            assert part == 0
        elif eligible:  # in proportion to what is due, within one minor unit
            assert abs(part * eligible - amount * line.due_minor) < eligible


@given(data=st.data())
def test_scope_picks_lines_by_product_or_by_category(data):
    (line,) = data.draw(lines(max_size=1))
    ids = data.draw(st.sets(st.integers(1, 6), max_size=3))
    assert rules.in_scope("all", ids, line)
    assert rules.in_scope("products", ids, line) == (line.product_id in ids)
    assert rules.in_scope("categories", ids, line) == bool(line.category_ids & ids)
    assume(ids)
    assert not rules.in_scope("products", [], line) and not rules.in_scope("categories", [], line)
