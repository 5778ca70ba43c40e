"""Who may vote, open, close and run the meeting, per role."""
import pytest

from app.voting import services
from app.voting.permissions import (
    can_close_poll, can_open_poll, can_run_meeting, can_see_choices, can_view_poll, can_vote,
)
from tests.factories import make_proposal, make_user
from tests.voting.factories import make_poll

ROLES = ["villager", "representative", "party_member", "committee_member", "supervisor", "clerk"]


@pytest.mark.parametrize("stage, role, allowed", [
    (stage, role, role == stage_role)
    for stage, stage_role in [("committee_deliberation", "committee_member"), ("member_review", "party_member"),
                              ("villager_resolution", "villager")]
    for role in ROLES
])
def test_only_the_body_of_the_stage_may_vote(db, stage, role, allowed):
    poll, _, _ = make_poll(stage, voters=1)
    person = make_user([role], poll.village)
    # people given the role after opening are not on the frozen roster: open a second poll
    poll2, _, _ = make_poll(stage, voters=0, village=poll.village)
    assert can_vote(person, poll2) is allowed
    assert can_vote(person, poll) is False


@pytest.mark.parametrize("role, allowed", [(r, r == "committee_member") for r in ROLES])
def test_only_committee_members_open_polls(db, role, allowed):
    proposal = make_proposal(stage="committee_deliberation")
    assert can_open_poll(make_user([role], proposal.village), proposal) is allowed


@pytest.mark.parametrize("stage, allowed", [
    ("draft", False), ("topic_consultation", False), ("committee_deliberation", True), ("member_review", True),
    ("consensus_consultation", False), ("villager_resolution", True), ("publicized", False),
    ("implementing", False), ("completed", False), ("archived", False), ("rejected", False), ("withdrawn", False),
])
def test_polls_open_only_in_the_three_deliberation_stages(db, stage, allowed):
    from app.deliberation.models import ALL_STAGES

    assert stage in ALL_STAGES
    proposal = make_proposal(stage=stage)
    assert can_open_poll(proposal.created_by, proposal) is allowed


@pytest.mark.parametrize("role, allowed", [(r, r in ("clerk", "committee_member")) for r in ROLES])
def test_the_clerk_and_committee_members_run_the_meeting(db, role, allowed):
    poll, _, _ = make_poll(voters=1)
    assert can_run_meeting(make_user([role], poll.village), poll) is allowed


def test_anonymous_and_other_villages_see_nothing(db):
    from flask_login import AnonymousUserMixin

    poll, _, _ = make_poll(voters=1)
    assert not can_view_poll(AnonymousUserMixin(), poll)
    assert not can_view_poll(make_user(["committee_member"]), poll)
    assert can_view_poll(make_user(["overseer"], township=poll.village.township), poll)


def test_nobody_may_close_early_while_someone_has_not_voted(db):
    poll, people, opener = make_poll(voters=1)
    assert not can_close_poll(opener, poll)
    services.cast_ballot(poll, people[0], "yes")
    services.cast_ballot(poll, opener, "yes")
    assert can_close_poll(opener, poll)
    assert not can_close_poll(people[0], poll)


def test_choices_are_shown_with_names_only_for_a_closed_open_vote(db):
    secret, _, opener = make_poll(voters=1)
    services.close_poll(secret, opener)
    open_vote, _, opener2 = make_poll("committee_deliberation", voters=1)
    assert not can_see_choices(opener, secret)
    assert not can_see_choices(opener2, open_vote)
    services.close_poll(open_vote, opener2)
    assert can_see_choices(opener2, open_vote)
