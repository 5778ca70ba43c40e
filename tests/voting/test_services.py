"""Opening, casting, changing, closing and tallying polls; hybrid meetings."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import utcnow
from app.extensions import db
from app.records.models import AuditEvent
from app.voting import services
from app.voting.models import Ballot, Participation, RosterEntry
from tests.factories import make_user
from tests.voting.factories import make_poll, make_voters, ready_proposal


def ballots(poll):
    return db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id))


def test_opening_freezes_the_roster_so_later_villagers_are_not_on_it(db):
    poll, people, _ = make_poll(voters=3)
    on_roster = {e.person_id for e in poll.roster}
    newcomer = make_user(["villager"], poll.village)
    assert set(p.id for p in people) <= on_roster
    assert newcomer.id not in {e.person_id for e in poll.roster}
    with pytest.raises(services.NotOnRoster):
        services.cast_ballot(poll, newcomer, "yes")


def test_villagers_under_18_are_not_on_the_roster_but_people_without_a_birth_date_are(db):
    proposal = ready_proposal()
    child = make_user(["villager"], proposal.village, birth_date=date.today().replace(year=date.today().year - 10))
    unknown = make_user(["villager"], proposal.village, birth_date=None)
    poll = services.open_poll(proposal, proposal.created_by, closes_at=utcnow() + timedelta(hours=2))
    ids = {e.person_id for e in poll.roster}
    assert child.id not in ids and unknown.id in ids


def test_the_committee_poll_is_always_open_and_the_villager_poll_secret_by_default(db):
    committee, _, _ = make_poll("committee_deliberation", secret=True)
    villagers, _, _ = make_poll("villager_resolution")
    assert committee.secret is False and committee.secret_key is None
    assert villagers.secret is True and villagers.secret_key


def test_the_villager_poll_decides_on_the_frozen_version(db):
    from app.deliberation.models import ProposalVersion

    proposal = ready_proposal()
    frozen = proposal.frozen_version
    db.session.add(ProposalVersion(proposal=proposal, number=2, title="新", body="改过的", created_by=proposal.created_by))
    db.session.flush()
    db.session.refresh(proposal)
    poll = services.open_poll(proposal, proposal.created_by, closes_at=utcnow() + timedelta(hours=2))
    assert poll.version_id == frozen.id != proposal.current_version.id


def test_opening_is_refused_when_the_assembly_was_not_announced_long_enough_before(db):
    proposal = ready_proposal()
    proposal.assembly_announced_at = utcnow() - timedelta(days=2)
    with pytest.raises(services.NoticeTooShort) as exc:
        services.open_poll(proposal, proposal.created_by, closes_at=utcnow() + timedelta(hours=2))
    assert "10" in str(exc.value)


def test_opening_a_second_poll_for_the_same_stage_is_refused(db):
    poll, _, opener = make_poll()
    with pytest.raises(services.VotingError):
        services.open_poll(poll.proposal, opener, closes_at=utcnow() + timedelta(hours=2))


def test_a_changed_ballot_replaces_the_first_and_only_the_last_choice_counts(db):
    poll, people, _ = make_poll(voters=2)
    services.cast_ballot(poll, people[0], "yes")
    services.cast_ballot(poll, people[0], "no")
    assert ballots(poll) == 1
    assert services.count_ballots(poll.id) == {"yes": 0, "no": 1, "abstain": 0}
    part = db.session.scalar(select(Participation).where(Participation.poll_id == poll.id))
    assert part.times_cast == 2


def test_each_cast_gives_a_new_receipt_code(db):
    poll, people, _ = make_poll(voters=1)
    first = services.cast_ballot(poll, people[0], "yes")
    second = services.cast_ballot(poll, people[0], "yes")
    assert first != second and len(first) == 9


def test_a_household_has_one_ballot_and_the_latest_adult_counts(db):
    proposal = ready_proposal()
    village = proposal.village
    a = make_user(["villager"], village, household="7-001")
    b = make_user(["villager"], village, household="7-001")
    c = make_user(["villager"], village, household="7-002")
    poll = services.open_poll(proposal, proposal.created_by, closes_at=utcnow() + timedelta(hours=2),
                              household_mode=True)
    assert poll.electorate == "households"
    services.cast_ballot(poll, a, "yes")
    services.cast_ballot(poll, b, "no")
    services.cast_ballot(poll, c, "yes")
    assert ballots(poll) == 2
    assert services.count_ballots(poll.id) == {"yes": 1, "no": 1, "abstain": 0}
    # the author has no household: a unit of one
    assert services.roster_size(poll.id) == 3


def test_casting_after_the_closing_time_is_refused(db):
    poll, people, _ = make_poll(voters=1)
    with pytest.raises(services.PollNotOpen):
        services.cast_ballot(poll, people[0], "yes", now=poll.closes_at)


def test_casting_after_close_is_refused(db):
    poll, people, opener = make_poll(voters=2)
    services.close_poll(poll, opener)
    with pytest.raises(services.PollNotOpen):
        services.cast_ballot(poll, people[0], "yes")


def test_closing_twice_is_refused(db):
    poll, _, opener = make_poll(voters=1)
    services.close_poll(poll, opener)
    with pytest.raises(services.PollNotOpen):
        services.close_poll(poll, opener)


def test_closing_a_secret_poll_destroys_its_secret_and_rekeys_every_ballot(db):
    poll, people, opener = make_poll(voters=3)
    for p in people:
        services.cast_ballot(poll, p, "yes")
    keys_before = set(db.session.scalars(select(Ballot.voter_key).where(Ballot.poll_id == poll.id)))
    ids_before = set(db.session.scalars(select(Ballot.id).where(Ballot.poll_id == poll.id)))
    tally = services.close_poll(poll, opener)
    assert poll.secret_key is None
    assert tally.yes == 3
    keys_after = set(db.session.scalars(select(Ballot.voter_key).where(Ballot.poll_id == poll.id)))
    ids_after = set(db.session.scalars(select(Ballot.id).where(Ballot.poll_id == poll.id)))
    assert len(keys_after) == 3 and not keys_after & keys_before and not ids_after & ids_before


def test_a_passed_villager_poll_moves_the_proposal_to_publicized(db):
    poll, people, opener = make_poll(voters=4)
    for p in people:
        services.cast_ballot(poll, p, "yes")
    services.close_poll(poll, opener)
    assert poll.proposal.stage == "publicized"


def test_a_villager_poll_without_quorum_rejects_the_proposal(db):
    poll, people, opener = make_poll(voters=4)
    services.cast_ballot(poll, people[0], "yes")
    tally = services.close_poll(poll, opener)
    assert not tally.quorum_met
    assert poll.proposal.stage == "rejected"


def test_a_failed_committee_poll_returns_the_proposal_to_draft_with_the_arithmetic(db):
    poll, people, opener = make_poll("committee_deliberation", voters=3)
    for p in people:
        services.cast_ballot(poll, p, "no")
    services.close_poll(poll, opener)
    proposal = poll.proposal
    assert proposal.stage == "draft"
    assert "took part" in (proposal.history[-1].reason or "") or "实到" in (proposal.history[-1].reason or "")


def test_the_tally_snapshot_is_written_to_the_audit_chain(db):
    poll, people, opener = make_poll(voters=2)
    services.cast_ballot(poll, people[0], "abstain")
    services.close_poll(poll, opener)
    kinds = list(db.session.scalars(select(AuditEvent.kind).where(AuditEvent.object_type == "poll",
                                                                 AuditEvent.object_id == poll.id)))
    assert {"poll_opened", "ballot_cast", "poll_closed", "poll_tallied"} <= set(kinds)


def test_close_due_polls_closes_only_polls_whose_time_has_come(db):
    due, _, _ = make_poll(voters=1)
    later, _, _ = make_poll(voters=1, hours=48)
    closed = services.close_due_polls(now=due.closes_at)
    assert due.id in closed and later.id not in closed
    db.session.refresh(due)
    db.session.refresh(later)
    assert due.is_closed and not later.is_closed
    assert services.close_due_polls(now=due.closes_at) == []


def test_an_in_hall_ballot_needs_the_voter_signed_in_at_the_meeting(db):
    poll, people, opener = make_poll(voters=2)
    clerk = make_user(["clerk"], poll.village)
    with pytest.raises(services.VotingError):
        services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    meeting = services.open_meeting(poll, clerk, place="村委会议室")
    services.sign_in(meeting, people[0], clerk)
    services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    part = db.session.scalar(select(Participation).where(Participation.poll_id == poll.id))
    assert (part.channel, part.entered_by_id) == ("in_person", clerk.id)


def test_nobody_is_counted_twice_when_voting_by_phone_and_in_the_hall(db):
    poll, people, opener = make_poll(voters=2)
    clerk = make_user(["clerk"], poll.village)
    services.cast_ballot(poll, people[0], "no")
    meeting = services.open_meeting(poll, clerk)
    services.sign_in(meeting, people[0], clerk)
    services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    assert ballots(poll) == 1
    assert services.count_ballots(poll.id)["yes"] == 1


def test_only_roster_members_can_be_signed_in(db):
    poll, _, _ = make_poll(voters=1)
    clerk = make_user(["clerk"], poll.village)
    outsider = make_user(["villager"])
    meeting = services.open_meeting(poll, clerk)
    with pytest.raises(services.NotOnRoster):
        services.sign_in(meeting, outsider, clerk)


def test_minutes_are_attached_to_the_meeting_and_audited_by_their_hash(db):
    poll, _, _ = make_poll(voters=1)
    clerk = make_user(["clerk"], poll.village)
    meeting = services.open_meeting(poll, clerk)
    services.record_minutes(meeting, "会议于上午九时开始。", clerk)
    assert meeting.minutes == "会议于上午九时开始。"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "meeting_minutes")).all()[-1]
    assert "九时" not in event.payload


def test_representatives_roster_records_gender(db):
    proposal = ready_proposal(deciding_body="representatives_assembly")
    make_voters(proposal.village, 2, "representative", gender="F")
    poll = services.open_poll(proposal, proposal.created_by, closes_at=utcnow() + timedelta(hours=2))
    assert poll.electorate == "representatives"
    assert [e.gender for e in poll.roster] == ["F", "F"]
    assert db.session.scalar(select(func.count()).select_from(RosterEntry).where(RosterEntry.poll_id == poll.id)) == 2


def test_the_close_due_polls_command_closes_a_poll_whose_time_has_passed(db, runner):
    poll, people, _ = make_poll(voters=2)
    services.cast_ballot(poll, people[0], "yes")
    poll.opens_at = utcnow() - timedelta(hours=3)
    poll.closes_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["close-due-polls"])
    assert result.exit_code == 0 and "1 poll(s) closed" in result.output
    db.session.refresh(poll)
    assert poll.is_closed and poll.tally.took_part == 1
