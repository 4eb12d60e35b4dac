"""The database keeps the rules even when a service is bypassed: ranges, growth never
below zero, no empty ledger rows, one row per business reference, unique thresholds."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.factories import GrowthEntryFactory, MemberFactory, MemberLevelFactory


@pytest.mark.parametrize("values", [
    {"discount_bp": 9001}, {"discount_bp": -1}, {"points_multiplier_bp": 9999},
    {"points_multiplier_bp": 100_001}, {"threshold": -1},
])
def test_a_level_out_of_range_is_refused_by_the_database(app, values):
    MemberLevelFactory(discount_bp=9000, points_multiplier_bp=100_000, threshold=0)  # the edges pass
    with pytest.raises(IntegrityError):
        MemberLevelFactory(**values)


def test_thresholds_and_names_are_unique(app):
    first = MemberLevelFactory(threshold=500)
    with pytest.raises(IntegrityError):
        MemberLevelFactory(threshold=500)
    with pytest.raises(IntegrityError):
        MemberLevelFactory(name=first.name)


@pytest.mark.unbalanced  # ledger rows written alone, to see the database refuse bad ones
def test_growth_and_its_ledger_keep_their_constraints(app):
    member = MemberFactory(growth=0)
    with pytest.raises(IntegrityError):
        MemberFactory(growth=-1)
    GrowthEntryFactory(user_id=member.user_id, ref_type="order", ref_id="1")
    with pytest.raises(IntegrityError):
        GrowthEntryFactory(user_id=member.user_id, ref_type="order", ref_id="1")
    with pytest.raises(IntegrityError):
        GrowthEntryFactory(user_id=member.user_id, amount=0)
