"""Every change of state in voting: open a poll, cast a ballot, close and tally, run a
hybrid meeting. Services flush, never commit; the caller commits once."""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, distinct, func, insert, select

from app import clock
from app.accounts.models import Person, RoleGrant, utcnow
from app.deliberation.features import stage_allows
from app.extensions import db
from app.records.audit import record_event
from app.voting.models import (
    CHANNELS, CHOICES, VOTING_STAGES, Attendance, Ballot, Meeting, Participation, Poll, RosterEntry, random_id,
)
from app.voting.tally import Tally, electorate_for, evaluate, rule_for
from app.errors import Refused
from app.notifications import api as notifications

RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud without mistakes


class VotingError(Refused):
    """A voting action refused; str() is a message for the person who tried."""


class NoticeTooShort(VotingError):
    """The notice required before this poll opens has not been given."""


class PollNotOpen(VotingError):
    """The poll is closed or outside its voting window."""


class NotOnRoster(VotingError):
    """The person is not on this poll's frozen roster."""


def _engine():
    from app.deliberation import engine

    return engine


def close_errors() -> tuple[type[Exception], ...]:
    """What closing can refuse with a message for the person: ours and the engine's."""
    return (VotingError, getattr(_engine(), "InvalidTransition", VotingError))


def _roles_query(village_id: int, role: str):
    return (select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.village_id == village_id, RoleGrant.role == role, Person.active.is_(True))
            .order_by(Person.id))


def electorate_people(village, electorate: str, day) -> list[Person]:
    """Who belongs on the roster of this electorate today (DESIGN.md §3)."""
    role = {"committees": "committee_member", "party_members": "party_member",
            "representatives": "representative"}.get(electorate, "villager")
    people = list(db.session.scalars(_roles_query(village.id, role)).unique())
    if electorate in ("adult_villagers", "households"):
        people = [p for p in people if p.is_adult(day)]
    return people


def _unit_key(person: Person, electorate: str) -> str:
    if electorate == "households" and person.household_id is not None:
        return f"h{person.household_id}"
    return f"p{person.id}"


def open_poll(proposal, actor, *, closes_at: datetime, opens_at: datetime | None = None,
              secret: bool | None = None, household_mode: bool = False) -> Poll:
    """Open the poll of the proposal's current deliberation stage, freezing the roster,
    the version voted on and the rule.

    :raises NoticeTooShort: the engine reports missing notice (assembly or Party plan).
    :raises VotingError: wrong stage, a poll already open, no text to vote on, bad window.
    """
    stage = proposal.stage
    if stage not in VOTING_STAGES or not stage_allows(proposal, "vote"):
        raise VotingError(_("There is nothing to vote on in this stage."))
    now = utcnow()
    opens_at = opens_at or now
    if closes_at <= opens_at or closes_at <= now:
        raise VotingError(_("The closing time must be later than the opening time and in the future."))
    if db.session.scalar(select(Poll.id).where(Poll.proposal_id == proposal.id, Poll.stage == stage,
                                               Poll.status == "open")):
        raise VotingError(_("A poll for this stage is already open."))
    version = proposal.frozen_version if stage == "villager_resolution" else proposal.current_version
    if version is None:
        raise VotingError(_("The text to be voted on has not been frozen yet."))
    problems = _engine().notice_problems(proposal, stage, opens_at)
    if problems:
        raise NoticeTooShort(" ".join(str(p) for p in problems))
    electorate = electorate_for(stage, proposal.deciding_body, household_mode)
    if electorate == "committees":
        secret = False  # 两委初议 is an open vote: names are recorded with choices
    elif secret is None:
        secret = stage == "villager_resolution"
    village = proposal.village
    rule = rule_for(electorate, village.rule_profile, proposal.matter_category)
    people = electorate_people(village, electorate, clock.local_date(opens_at))
    if not people:
        raise VotingError(_("Nobody is registered in the body that votes in this stage."))
    poll = Poll(proposal_id=proposal.id, village_id=village.id, stage=stage, version_id=version.id,
                electorate=electorate, secret=bool(secret), opens_at=opens_at, closes_at=closes_at,
                rule_json=json.dumps(rule.to_dict()), secret_key=secrets.token_hex(32) if secret else None,
                opened_by_id=getattr(actor, "id", None), opened_at=now)
    db.session.add(poll)
    db.session.flush()
    for person in people:
        db.session.add(RosterEntry(poll_id=poll.id, person_id=person.id, household_id=person.household_id,
                                   name=person.name, gender=person.gender,
                                   unit_key=_unit_key(person, electorate)))
    db.session.flush()
    record_event("poll_opened", actor=actor, village_id=village.id, obj=poll, payload={
        "proposal_id": proposal.id, "stage": stage, "version_id": version.id, "electorate": electorate,
        "secret": poll.secret, "opens_at": clock.isoformat(opens_at), "closes_at": clock.isoformat(closes_at),
        "rule": rule.to_dict(),
        "roster": [{"person_id": p.id, "household_id": p.household_id, "gender": p.gender} for p in people],
    })
    notifications.poll_opened(poll)
    return poll


def _locked_poll(poll: Poll, *, exclusive: bool) -> Poll:
    """Re-read the poll under a row lock (PostgreSQL; SQLite already holds the write lock
    from BEGIN IMMEDIATE), so casting and closing cannot interleave."""
    stmt = select(Poll).where(Poll.id == poll.id).execution_options(populate_existing=True)
    stmt = stmt.with_for_update(read=not exclusive)
    return db.session.scalars(stmt).one()


def _upsert():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def voter_key(poll: Poll, unit_key: str) -> str:
    """The ballot's key: HMAC of the unit under the poll's secret (secret poll), else the unit."""
    if not poll.secret:
        return unit_key
    if poll.secret_key is None:
        raise PollNotOpen(_("This poll is closed."))
    return hmac.new(bytes.fromhex(poll.secret_key), unit_key.encode(), hashlib.sha256).hexdigest()


def new_receipt() -> str:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def cast_ballot(poll: Poll, voter: Person, choice: str, *, channel: str = "online",
                entered_by: Person | None = None, now: datetime | None = None) -> str:
    """Cast or change the ballot of the voter's unit (the latest counts); returns the
    receipt code, to be shown once.

    Exactly one counted ballot per unit: both rows are written with INSERT … ON CONFLICT
    DO UPDATE against unique constraints, inside a transaction that took the lock first.

    :raises PollNotOpen, NotOnRoster, VotingError:
    """
    if choice not in CHOICES or channel not in CHANNELS:
        raise VotingError(_("Please choose yes, no or abstain."))
    poll = _locked_poll(poll, exclusive=False)
    if not poll.accepting_ballots(now):
        raise PollNotOpen(_("This poll is not open for voting now."))
    entry = db.session.scalar(select(RosterEntry).where(RosterEntry.poll_id == poll.id,
                                                        RosterEntry.person_id == voter.id))
    if entry is None:
        raise NotOnRoster(_("%(name)s is not on the roster of this poll.", name=voter.name))
    if channel == "in_person":
        meeting = poll.meeting
        if entered_by is None or meeting is None or not meeting.attended(voter):
            raise VotingError(_("An in-hall ballot needs the clerk and the voter signed in at the meeting."))
    receipt = new_receipt()
    dialect_insert = _upsert()
    entered_by_id = entered_by.id if entered_by is not None else None
    part = dialect_insert(Participation).values(
        poll_id=poll.id, unit_key=entry.unit_key, cast_by_id=voter.id, channel=channel,
        entered_by_id=entered_by_id, receipt=receipt, times_cast=1)
    db.session.execute(part.on_conflict_do_update(
        index_elements=["poll_id", "unit_key"],
        set_={"cast_by_id": voter.id, "channel": channel, "entered_by_id": entered_by_id, "receipt": receipt,
              "times_cast": Participation.__table__.c.times_cast + 1}))
    ballot = dialect_insert(Ballot).values(id=random_id(), poll_id=poll.id,
                                           voter_key=voter_key(poll, entry.unit_key), choice=choice)
    db.session.execute(ballot.on_conflict_do_update(index_elements=["poll_id", "voter_key"],
                                                    set_={"choice": choice}))
    payload = {"poll_id": poll.id, "voter_id": voter.id, "channel": channel, "entered_by_id": entered_by_id}
    if not poll.secret:
        payload["choice"] = choice  # an open vote records names with choices
    record_event("ballot_cast", actor=entered_by or voter, village_id=poll.village_id, object_type="poll",
                 object_id=poll.id, payload=payload)
    return receipt


def count_ballots(poll_id: int) -> dict[str, int]:
    """Counts by choice, computed by the database."""
    rows = db.session.execute(select(Ballot.choice, func.count()).where(Ballot.poll_id == poll_id)
                              .group_by(Ballot.choice)).all()
    counts = {c: 0 for c in CHOICES}
    counts.update({choice: n for choice, n in rows})
    return counts


def roster_size(poll_id: int) -> int:
    """Voting units on the roster (people, or households in household mode)."""
    return db.session.scalar(select(func.count(distinct(RosterEntry.unit_key)))
                             .where(RosterEntry.poll_id == poll_id)) or 0


def _unlink_secret_ballots(poll: Poll) -> None:
    """Destroy the secret and rewrite the ballots in random order with new random ids and
    keys, so that no key, id, physical order or transaction id of a ballot row can be
    matched to a participation row any more."""
    choices = list(db.session.scalars(select(Ballot.choice).where(Ballot.poll_id == poll.id)))
    random.SystemRandom().shuffle(choices)
    db.session.execute(delete(Ballot).where(Ballot.poll_id == poll.id))
    if choices:
        db.session.execute(insert(Ballot), [
            {"id": random_id(), "poll_id": poll.id, "voter_key": secrets.token_hex(32), "choice": c}
            for c in choices])
    poll.secret_key = None


def close_poll(poll: Poll, actor=None, now: datetime | None = None) -> Tally:
    """Close the poll, tally it in the database, store the snapshot, write the audit
    events and let the process engine move the proposal on (actor None: the system).

    :raises PollNotOpen: the poll is already closed.
    """
    poll = _locked_poll(poll, exclusive=True)
    if poll.is_closed:
        raise PollNotOpen(_("This poll is already closed."))
    counts = count_ballots(poll.id)
    tally = evaluate(poll.rule, roster_size(poll.id), counts["yes"], counts["no"], counts["abstain"])
    if poll.secret:
        _unlink_secret_ballots(poll)
    poll.status = "closed"
    poll.closed_at = now or utcnow()
    poll.closed_by_id = getattr(actor, "id", None)
    poll.tally_json = json.dumps(tally.to_dict(), ensure_ascii=False)
    poll.quorum_met, poll.passed = tally.quorum_met, tally.passed
    db.session.flush()
    record_event("poll_closed", actor=actor, village_id=poll.village_id, obj=poll,
                 payload={"proposal_id": poll.proposal_id, "stage": poll.stage, "secret_destroyed": poll.secret})
    record_event("poll_tallied", actor=actor, village_id=poll.village_id, obj=poll, payload=tally.to_dict())
    proposal = poll.proposal
    if proposal.stage == poll.stage:
        _engine().apply_poll_result(proposal, poll.stage, actor=actor)
    return tally


def due_poll_ids(now: datetime | None = None) -> list[int]:
    return list(db.session.scalars(select(Poll.id).where(Poll.status == "open", Poll.closes_at <= (now or utcnow()))
                                   .order_by(Poll.id)))


def close_due_polls(now: datetime | None = None) -> list[int]:
    """Close every poll whose closing time has passed; each in its own transaction."""
    closed = []
    for poll_id in due_poll_ids(now):
        poll = db.session.get(Poll, poll_id)
        try:
            close_poll(poll, actor=None, now=now)
        except PollNotOpen:
            db.session.rollback()
            continue
        db.session.commit()
        closed.append(poll_id)
    return closed


def close_if_due(poll: Poll) -> bool:
    """Close a poll whose time is up on first access (a GET), in a write transaction."""
    if not poll.is_due():
        return False
    from app.database import write_transaction

    poll_id = poll.id
    with write_transaction(db.session):
        fresh = db.session.get(Poll, poll_id)
        if fresh.is_due():
            close_poll(fresh, actor=None)
    return True


# Hybrid meetings (现场 + 线上)

def open_meeting(poll: Poll, clerk: Person, place: str | None = None) -> Meeting:
    if poll.meeting is not None:
        return poll.meeting
    if poll.is_closed:
        raise PollNotOpen(_("This poll is already closed."))
    meeting = Meeting(poll_id=poll.id, opened_by_id=clerk.id, place=place)
    db.session.add(meeting)
    db.session.flush()
    record_event("meeting_opened", actor=clerk, village_id=poll.village_id, obj=meeting,
                 payload={"poll_id": poll.id, "place": place})
    db.session.refresh(poll)
    return meeting


def sign_in(meeting: Meeting, person: Person, clerk: Person) -> Attendance:
    """签到: record that a roster member is present in the hall."""
    poll = meeting.poll
    if poll.roster_entry_for(person) is None:
        raise NotOnRoster(_("%(name)s is not on the roster of this poll.", name=person.name))
    existing = next((a for a in meeting.attendance if a.person_id == person.id), None)
    if existing is not None:
        return existing
    attendance = Attendance(meeting_id=meeting.id, person_id=person.id, signed_in_by_id=clerk.id)
    db.session.add(attendance)
    db.session.flush()
    record_event("meeting_sign_in", actor=clerk, village_id=poll.village_id, object_type="meeting",
                 object_id=meeting.id, payload={"poll_id": poll.id, "person_id": person.id})
    db.session.refresh(meeting)
    return attendance


def record_minutes(meeting: Meeting, minutes: str, clerk: Person) -> None:
    meeting.minutes = minutes.strip()
    meeting.minutes_by_id = clerk.id
    meeting.minutes_at = utcnow()
    record_event("meeting_minutes", actor=clerk, village_id=meeting.poll.village_id, object_type="meeting",
                 object_id=meeting.id, payload={"poll_id": meeting.poll_id,
                                                "sha256": hashlib.sha256(meeting.minutes.encode()).hexdigest()})
    db.session.flush()
