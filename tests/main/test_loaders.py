"""One scoped loader for ids from requests: a row of another village, township or county
is the same "not found" as a row that does not exist or a malformed id."""
from __future__ import annotations

import pytest

from app.accounts.models import Person, Village
from app.loaders import in_proposal, in_scope, in_village
from app.voting.models import Poll
from tests.factories import make_county, make_proposal, make_township, make_user, make_village
from tests.voting.factories import make_poll


@pytest.mark.parametrize("raw", ["", "abc", "-1", "²", "9" * 30, None])
def test_a_malformed_id_finds_nothing_in_any_scope(db, raw):
    person = make_user()
    for scope, scope_id in (("village", person.village_id), ("township", person.village.township_id)):
        assert in_scope(Person, raw, scope, scope_id) is None


def test_a_row_is_found_in_its_own_village_township_and_county_only(db):
    county = make_county()
    ours = make_village(make_township(county=county))
    theirs = make_village(make_township(county=make_county()))
    person = make_user(["villager"], ours)
    assert in_village(Person, str(person.id), ours.id) is person
    assert in_village(Person, str(person.id), theirs.id) is None
    assert in_scope(Person, person.id, "township", ours.township_id) is person
    assert in_scope(Person, person.id, "township", theirs.township_id) is None
    assert in_scope(Person, person.id, "county", county.id) is person
    assert in_scope(Person, person.id, "county", theirs.township.county_id) is None
    assert in_scope(Village, ours.id, "county", county.id) is ours
    assert in_scope(Village, theirs.id, "county", county.id) is None
    assert in_scope(Village, ours.id, "county", None) is None


def test_a_poll_is_found_through_its_proposal_in_its_village_and_under_its_proposal(db):
    poll, _voters, _committee = make_poll("committee_deliberation")
    other = make_proposal("draft")
    assert in_village(Poll, poll.id, poll.proposal.village_id) is poll
    assert in_scope(Poll, poll.id, "township", poll.proposal.village.township_id) is poll
    assert in_proposal(Poll, poll.id, poll.proposal_id) is poll
    assert in_proposal(Poll, poll.id, other.id) is None
