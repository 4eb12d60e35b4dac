"""The cuts drawn when a bargain starts: positive, exactly `helpers` of them, adding up
to start - floor, the largest first."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shop.bargains.services import plan_cuts

pytestmark = pytest.mark.pages  # the cuts' plan: a pure function (SQLite pass only)


@given(st.integers(min_value=1, max_value=100).flatmap(
    lambda helpers: st.tuples(st.just(helpers), st.integers(min_value=helpers, max_value=10**9),
                              st.integers(min_value=0, max_value=2**32))))
@settings(max_examples=300, deadline=None)
def test_the_plan_adds_up_with_no_zero_cut(case):
    helpers, total, seed = case
    cuts = plan_cuts(total, helpers, random.Random(seed))
    assert len(cuts) == helpers
    assert sum(cuts) == total
    assert all(isinstance(c, int) and c > 0 for c in cuts)
    assert cuts == sorted(cuts, reverse=True)  # the first friends cut most


def test_the_tightest_plan_is_one_fen_each_and_one_helper_takes_it_all():
    assert plan_cuts(5, 5) == [1, 1, 1, 1, 1]
    assert plan_cuts(9000, 1) == [9000]


def test_plans_differ_between_bargains():
    assert len({tuple(plan_cuts(9000, 5)) for _ in range(20)}) > 1  # drawn, not fixed


@pytest.mark.parametrize("total,helpers", [(4, 5), (0, 1), (10, 0)])
def test_a_plan_without_room_for_every_cut_is_refused(total, helpers):
    with pytest.raises(ValueError):
        plan_cuts(total, helpers)
