"""Opening, casting, changing, closing and tallying polls; hybrid meetings."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import utcnow
from app.extensions import db
from app.records.models import AuditEvent
from app.voting import keystore, services
from app.voting.models import Ballot, Participation, Poll, RosterEntry
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
    assert committee.secret is False and committee.key_id is None
    assert villagers.secret is True and villagers.key_id


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
    poll, people, opener = make_poll(voters=2)
    services.cast_ballot(poll, people[0], "yes")
    services.cast_ballot(poll, people[0], "no")
    part = db.session.scalar(select(Participation).where(Participation.poll_id == poll.id))
    assert part.times_cast == 2
    tally = services.close_poll(poll, opener)
    assert ballots(poll) == 1
    assert (tally.yes, tally.no, tally.abstain) == (0, 1, 0)


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
    # the author has no household: a unit of one
    assert services.roster_size(poll.id) == 3
    tally = services.close_poll(poll, proposal.created_by)
    assert ballots(poll) == 2
    assert (tally.yes, tally.no, tally.abstain) == (1, 1, 0)


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


def test_a_secret_ballot_is_only_sealed_while_open_and_a_plain_unlinked_choice_after_close(db):
    poll, people, opener = make_poll(voters=3)
    key_id = poll.key_id
    for p, c in zip(people, ("yes", "no", "abstain")):
        services.cast_ballot(poll, p, c)
    assert ballots(poll) == 0
    sealed = list(db.session.scalars(select(Participation.sealed).where(Participation.poll_id == poll.id)))
    assert len(sealed) == 3 and len({len(b) for b in sealed}) == 1
    assert not any(word in b for b in sealed for word in (b"yes", b"no", b"abstain"))
    tally = services.close_poll(poll, opener)
    db.session.commit()  # the key is destroyed once the close is committed
    assert (tally.yes, tally.no, tally.abstain) == (1, 1, 1)
    assert poll.key_id is None and keystore.get_store().get(poll.id, key_id) is None
    assert set(db.session.scalars(select(Ballot.voter_key).where(Ballot.poll_id == poll.id))) == {None}
    assert set(db.session.scalars(select(Participation.sealed).where(Participation.poll_id == poll.id))) == {None}


def test_a_close_that_rolls_back_keeps_the_key(db):
    poll, people, opener = make_poll(voters=1)
    services.cast_ballot(poll, people[0], "yes")
    db.session.commit()
    services.close_poll(poll, opener)
    db.session.rollback()
    poll = db.session.get(Poll, poll.id)
    assert poll.status == "open" and keystore.get_store().get(poll.id, poll.key_id) is not None


def test_a_lost_key_mid_poll_tells_the_voters_to_vote_again_and_never_counts_anyone_twice(db):
    from app.notifications.models import Notification

    poll, people, opener = make_poll(voters=3)
    services.cast_ballot(poll, people[0], "yes")
    services.cast_ballot(poll, people[1], "no")
    db.session.commit()
    keystore.get_store().destroy(poll.id, poll.key_id)  # the key store restarted
    assert services.check_poll_keys() == 1
    told = set(db.session.scalars(select(Notification.person_id).where(Notification.kind == "ballot_entered")))
    assert told == {people[0].id, people[1].id}
    parts = {p.cast_by_id: p for p in db.session.scalars(select(Participation).where(Participation.poll_id == poll.id))}
    assert services.ballot_lost(poll, parts[people[0].id]) and services.ballot_lost(poll, parts[people[1].id])
    services.cast_ballot(poll, people[0], "no")  # people[0] votes again; people[1] does not
    services.cast_ballot(poll, people[2], "yes")
    assert db.session.scalar(select(func.count()).select_from(Participation)
                             .where(Participation.poll_id == poll.id)) == 3
    tally = services.close_poll(poll, opener)
    assert (tally.yes, tally.no, tally.abstain, tally.lost, tally.took_part) == (1, 1, 0, 1, 3)
    assert "丢失1" in tally.words_zh


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


def _open_hall_poll(voters=2):
    """An open (named) vote with a meeting: the clerk enters each hall voter's choice."""
    poll, people, opener = make_poll("member_review", voters=voters, secret=False)
    clerk = make_user(["clerk"], poll.village)
    return poll, people, opener, clerk


def test_an_in_hall_ballot_needs_the_voter_signed_in_at_the_meeting(db):
    poll, people, opener, clerk = _open_hall_poll()
    with pytest.raises(services.VotingError):
        services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    meeting = services.open_meeting(poll, clerk, place="村委会议室")
    services.sign_in(meeting, people[0], clerk)
    services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    part = db.session.scalar(select(Participation).where(Participation.poll_id == poll.id))
    assert (part.channel, part.entered_by_id) == ("in_person", clerk.id)


def test_a_clerks_hall_ballot_for_someone_who_voted_by_phone_is_refused(db):
    poll, people, opener, clerk = _open_hall_poll()
    services.cast_ballot(poll, people[0], "no")
    meeting = services.open_meeting(poll, clerk)
    services.sign_in(meeting, people[0], clerk)
    with pytest.raises(services.VotingError, match="手机"):
        services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    assert ballots(poll) == 1 and services.count_ballots(poll.id) == {"yes": 0, "no": 1, "abstain": 0}
    part = db.session.scalar(select(Participation).where(Participation.poll_id == poll.id))
    assert (part.channel, part.entered_by_id, part.cast_by_id) == ("online", None, people[0].id)
    services.cast_ballot(poll, people[0], "yes")  # the voter changes it themselves
    assert services.count_ballots(poll.id)["yes"] == 1


def test_a_ballot_entered_by_someone_else_is_told_to_the_voter_without_the_choice(db, outbox):
    from app.notifications.models import Notification

    poll, people, opener, clerk = _open_hall_poll()
    meeting = services.open_meeting(poll, clerk)
    services.sign_in(meeting, people[0], clerk)
    services.cast_ballot(poll, people[0], "abstain", channel="in_person", entered_by=clerk)
    db.session.commit()
    notes = list(db.session.scalars(select(Notification).where(Notification.person_id == people[0].id,
                                                               Notification.kind == "ballot_entered")))
    assert len(notes) == 2  # signed in, and a ballot entered
    assert all(clerk.name in n.text for n in notes)
    assert any("入场" in n.text or "录入" in n.text or "entered" in n.text for n in notes)
    assert not any(w in n.text for n in notes for w in ("弃权", "abstain"))
    assert [m for m in outbox if m[0] == people[0].phone]


def test_a_secret_poll_takes_no_per_person_hall_choice(db):
    poll, people, opener = make_poll(voters=2)
    clerk = make_user(["clerk"], poll.village)
    meeting = services.open_meeting(poll, clerk)
    services.sign_in(meeting, people[0], clerk)
    with pytest.raises(services.VotingError, match="纸质表决票"):
        services.cast_ballot(poll, people[0], "yes", channel="in_person", entered_by=clerk)
    assert db.session.scalar(select(Participation.id).where(Participation.poll_id == poll.id)) is None


def test_a_paper_ballot_goes_only_to_a_signed_in_attendee_who_has_not_voted_by_phone(db):
    poll, people, opener = make_poll(voters=3)
    clerk = make_user(["clerk"], poll.village)
    meeting = services.open_meeting(poll, clerk)
    with pytest.raises(services.VotingError):
        services.issue_paper_ballot(meeting, people[0], clerk)  # not signed in
    services.cast_ballot(poll, people[1], "no")
    for p in people:
        services.sign_in(meeting, p, clerk)
    with pytest.raises(services.VotingError, match="手机"):
        services.issue_paper_ballot(meeting, people[1], clerk)
    services.issue_paper_ballot(meeting, people[0], clerk)
    with pytest.raises(services.VotingError):
        services.issue_paper_ballot(meeting, people[0], clerk)  # once
    with pytest.raises(services.VotingError, match="领取表决票"):
        services.cast_ballot(poll, people[0], "yes")  # and then no phone ballot on top
    att = next(a for a in meeting.attendance if a.person_id == people[0].id)
    assert att.ballot_issued_by_id == clerk.id and att.signed_in_by_id == clerk.id


@pytest.mark.parametrize("numbers, message", [
    ({"issued": 2, "returned": 1, "yes": 1, "no": 0, "abstain": 0, "spoilt": 0}, "签到表"),
    ({"issued": 1, "returned": 2, "yes": 1, "no": 1, "abstain": 0, "spoilt": 0}, "多于发出票数"),
    ({"issued": 1, "returned": 1, "yes": 1, "no": 1, "abstain": 0, "spoilt": 0}, "相加"),
    ({"issued": 1, "returned": 1, "yes": 0, "no": 0, "abstain": 0, "spoilt": 0}, "相加"),
])
def test_hall_totals_that_do_not_add_up_are_refused(db, numbers, message):
    poll, people, opener = make_poll(voters=2)
    clerk = make_user(["clerk"], poll.village)
    meeting = services.open_meeting(poll, clerk)
    services.sign_in(meeting, people[0], clerk)
    services.issue_paper_ballot(meeting, people[0], clerk)
    with pytest.raises(services.VotingError, match=message):
        services.record_hall_count(poll, clerk, scrutineers="王一, 李二", counter="赵三", **numbers)
    assert poll.hall_count is None


def test_paper_totals_add_to_the_phone_ballots_and_attendance_counts_the_sign_ins(db):
    poll, people, opener = make_poll(voters=6)  # roster: the opener and 6 villagers
    clerk = make_user(["clerk"], poll.village)
    meeting = services.open_meeting(poll, clerk)
    services.cast_ballot(poll, people[0], "yes")
    services.cast_ballot(poll, people[1], "no")
    for p in people[1:5]:  # people[1] voted by phone and came too; people[4] leaves without a ballot
        services.sign_in(meeting, p, clerk)
    for p in people[2:4]:
        services.issue_paper_ballot(meeting, p, clerk)
    with pytest.raises(services.VotingError, match="监票人"):
        services.close_poll(poll, opener)  # refused before it writes anything
    services.record_hall_count(poll, clerk, issued=2, returned=2, yes=1, no=0, abstain=0, spoilt=1,
                               scrutineers="王一、李二", counter="赵三")
    with pytest.raises(services.VotingError, match="只能录入一次"):
        services.record_hall_count(poll, clerk, issued=2, returned=2, yes=2, no=0, abstain=0, spoilt=0,
                                   scrutineers="王一", counter="赵三")
    tally = services.close_poll(poll, opener)
    assert (tally.yes, tally.no, tally.abstain, tally.spoilt) == (2, 1, 0, 1)
    assert tally.took_part == 5  # 4 signed in + people[0] by phone only
    assert tally.hall["signed_in"] == 4 and tally.hall["phone_only"] == 1
    assert tally.hall["scrutineers"] == "王一、李二" and tally.hall["counter"] == "赵三"
    assert "废票1" in tally.words_zh
    # No per-person hall choice anywhere: the ballot rows are the phone ballots only.
    assert sorted(db.session.scalars(select(Ballot.choice).where(Ballot.poll_id == poll.id))) == ["no", "yes"]


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


def test_close_due_polls_destroys_a_closed_polls_key_left_by_a_stopped_process(db, runner):
    poll, people, opener = make_poll(voters=1)
    services.close_poll(poll, opener)
    db.session.commit()
    store = keystore.get_store()
    store.create(poll.id, "0123456789abcdef")  # as if the process stopped after the close's commit
    result = runner.invoke(args=["close-due-polls"])
    assert result.exit_code == 0 and "1 key(s) of closed polls destroyed" in result.output
    assert store.get(poll.id, "0123456789abcdef") is None


def test_a_receipt_code_is_eight_characters_of_the_alphabet_each_position_taking_every_one(monkeypatch):
    codes = [services.new_receipt() for _ in range(5000)]
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", c) for c in codes)
    chars = [c.replace("-", "") for c in codes]
    for position in range(8):  # 31 characters each way: missing one in 5,000 draws is below 1e-60
        assert {c[position] for c in chars} == set(services.RECEIPT_ALPHABET), position
    # The draw's extremes are the alphabet's first and last character everywhere.
    monkeypatch.setattr(services.secrets, "randbelow", lambda n: 0)
    assert services.new_receipt() == "AAAA-AAAA"
    monkeypatch.setattr(services.secrets, "randbelow", lambda n: n - 1)
    assert services.new_receipt() == "9999-9999"
