import pytest

from app.accounts.permissions import can_manage_people, can_view_village
from tests.factories import make_user, make_village


@pytest.mark.parametrize("roles,allowed", [
    (["villager"], False), (["representative"], False), (["party_member"], False),
    (["supervisor"], False), (["committee_member"], True), (["clerk"], True),
])
def test_can_manage_people_by_role(db, roles, allowed):
    village = make_village()
    assert can_manage_people(make_user(roles, village), village) is allowed


def test_committee_member_of_other_village_cannot_manage(db):
    village, other = make_village(), make_village()
    assert not can_manage_people(make_user(["committee_member"], other), village)


def test_overseer_sees_villages_of_own_township_only(db):
    village = make_village()
    elsewhere = make_village()
    overseer = make_user(["overseer"], township=village.township)
    assert can_view_village(overseer, village)
    assert not can_view_village(overseer, elsewhere)


def test_villager_sees_only_own_village(db):
    village, other = make_village(), make_village()
    villager = make_user(["villager"], village)
    assert can_view_village(villager, village)
    assert not can_view_village(villager, other)
