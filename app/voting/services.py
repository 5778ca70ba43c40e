"""Every change of state in voting: open a poll, cast a ballot, close and tally, run a
hybrid meeting. Services flush, never commit; the caller commits once."""
from __future__ import annotations

import hashlib
import json
import random
import secrets
from datetime import datetime
from functools import cache

from cryptography.exceptions import InvalidTag
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import LazyString
from sqlalchemy import and_, bindparam, distinct, event, func, insert, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.accounts.models import Person, RoleGrant, utcnow
from app.database import DriverStatement, dialect_insert, transaction_connection
from app.deliberation.features import stage_allows
from app.extensions import db
from app.records import binding
from app.records.audit import record_event
from app.voting import keystore
from app.voting.models import (
    CHANNELS, CHOICES, VOTING_STAGES, Attendance, Ballot, HallCount, Meeting, Participation, Poll, RosterEntry,
    random_id,
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
                rule_json=json.dumps(rule.to_dict()), opened_by_id=getattr(actor, "id", None), opened_at=now)
    db.session.add(poll)
    db.session.flush()
    if poll.secret:
        poll.key_id = keystore.new_key_id()
        keystore.get_store().create(poll.id, poll.key_id)
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


_PART_VALUES = ("poll_id", "unit_key", "cast_by_id", "channel", "entered_by_id", "receipt", "sealed",
                "sealed_key_id", "request_key")


@cache
def _participation_upsert(*, paper_stands: bool, replay_key: bool) -> DriverStatement:
    """INSERT … ON CONFLICT DO UPDATE of a unit's participation, RETURNING the whole row;
    it leaves the row as it is (and returns nothing) when a paper ballot stands there
    (paper_stands) or when the row was cast last by the same request key (replay_key).
    Compiled once per database and variant, run on the driver (app.database)."""
    t = Participation.__table__

    def build(dialect_name):
        ins = dialect_insert(dialect_name)(t).values(
            {**{n: bindparam(n, type_=t.c[n].type) for n in _PART_VALUES}, "times_cast": literal_column("1")})
        keep = []
        if paper_stands:
            keep.append(t.c.channel == literal_column("'online'"))
        if replay_key:
            keep.append(or_(t.c.request_key.is_(None), t.c.request_key != ins.excluded.request_key))
        upsert = ins.on_conflict_do_update(
            index_elements=["poll_id", "unit_key"],
            set_={**{n: ins.excluded[n] for n in _PART_VALUES if n not in ("poll_id", "unit_key")},
                  "times_cast": t.c.times_cast + literal_column("1")},
            where=and_(*keep) if keep else None)
        return upsert.returning(*t.columns)

    return DriverStatement(build)


@cache
def _ballot_upsert() -> DriverStatement:
    """An open poll's ballot of a unit: INSERT … ON CONFLICT DO UPDATE of its choice."""
    t = Ballot.__table__

    def build(dialect_name):
        ins = dialect_insert(dialect_name)(t).values(
            {n: bindparam(n, type_=t.c[n].type) for n in ("id", "poll_id", "voter_key", "choice")})
        return ins.on_conflict_do_update(index_elements=["poll_id", "voter_key"], set_={"choice": ins.excluded.choice})

    return DriverStatement(build)


def _sealing_key(poll: Poll) -> bytes:
    """The open secret poll's current key. If the key store lost it (a Redis restart),
    start a new key for the rest of the poll and tell everyone whose phone ballot was
    sealed under the lost key that it will not count unless they vote again.
    The caller holds the poll's exclusive lock or the SQLite write lock."""
    store = keystore.get_store()
    key = store.get(poll.id, poll.key_id) if poll.key_id else None
    if key is not None:
        return key
    lost_key_id = poll.key_id
    poll.key_id = keystore.new_key_id()
    key = store.create(poll.id, poll.key_id)
    db.session.flush()
    affected = list(db.session.scalars(
        select(Person).join(Participation, Participation.cast_by_id == Person.id)
        .where(Participation.poll_id == poll.id, Participation.sealed.is_not(None),
               Participation.sealed_key_id != poll.key_id)))
    record_event("poll_key_lost", actor=None, village_id=poll.village_id, obj=poll,
                 payload={"poll_id": poll.id, "lost_key_id": lost_key_id, "new_key_id": poll.key_id,
                          "ballots_to_cast_again": len(affected)})
    text = _l("Gongyi: a server fault lost your phone ballot on “%(title)s”. It will not count unless you "
              "vote again before %(until)s. Please open the vote and cast your ballot again.",
              title=poll.proposal.title, until=LazyString(clock.format_time, poll.closes_at))
    notifications.notify_many(affected, "ballot_entered", text, notifications._poll_url(poll),
                              key=f"poll-key-lost:{poll.id}:{poll.key_id}")
    return key


def ballot_lost(poll: Poll, participation: Participation | None) -> bool:
    """The voter's phone ballot was sealed under a key the store lost: it needs casting again."""
    return bool(participation is not None and poll.secret and not poll.is_closed
                and participation.sealed is not None and participation.sealed_key_id != poll.key_id)


def check_poll_keys() -> int:
    """For every open secret poll, make sure its key is still in the store (run by the
    close-due-polls command): a lost key is replaced and its voters told at once, not
    only when the next ballot is cast. Returns how many keys were replaced."""
    replaced = 0
    store = keystore.get_store()
    for poll in db.session.scalars(select(Poll).where(Poll.status == "open", Poll.secret.is_(True))):
        if poll.key_id and store.get(poll.id, poll.key_id) is not None:
            continue
        poll = _locked_poll(poll, exclusive=True)
        _sealing_key(poll)
        db.session.commit()
        replaced += 1
    return replaced


_RECEIPT_CODES = len(RECEIPT_ALPHABET) ** 8


def new_receipt() -> str:
    """Eight characters drawn uniformly from the alphabet, as one random number below
    31^8 written in base 31: one draw of the system's randomness, not eight."""
    n, base, code = secrets.randbelow(_RECEIPT_CODES), len(RECEIPT_ALPHABET), []
    for _ in range(8):
        n, digit = divmod(n, base)
        code.append(RECEIPT_ALPHABET[digit])
    return f"{''.join(code[:4])}-{''.join(code[4:])}"


def _notify_entered(poll: Poll, voter: Person, actor: Person, what) -> None:
    """Tell the voter, in the inbox and by text, that someone else acted on their ballot:
    who and when, never the choice of a secret poll."""
    notifications.notify(voter, "ballot_entered", what, notifications._poll_url(poll), key=None)


@cache
def _recheck_statement() -> DriverStatement:
    """The poll's four changing columns FOR SHARE, compiled once per database."""
    t = Poll.__table__
    return DriverStatement(lambda _dialect: select(t.c.status, t.c.opens_at, t.c.closes_at, t.c.key_id)
                           .where(t.c.id == bindparam("poll_id")).with_for_update(read=True))


def _recheck_open(poll: Poll, now: datetime | None, *, exclusive: bool) -> Poll:
    """The poll's open state again, in the write transaction, locked against closing: on
    PostgreSQL FOR SHARE (or FOR UPDATE to replace a lost key), which waits for a close
    that holds the row and makes a close wait for this cast to commit; on SQLite the
    write lock that BEGIN IMMEDIATE took.

    :raises PollNotOpen: it closed (or left its window) since it was read.
    """
    if exclusive:
        poll = _locked_poll(poll, exclusive=True)
    else:  # the four columns that can have changed, onto the loaded poll (not marked changed)
        # A read of the poll's own row: on the driver, past the session's statement hooks
        # (which watch writes to bound tables).
        (fresh,) = _recheck_statement().run(transaction_connection(db.session), {"poll_id": poll.id})
        for name, value in fresh.items():
            set_committed_value(poll, name, value)
    if not poll.accepting_ballots(now):
        raise PollNotOpen(_("This poll is not open for voting now."))
    return poll


def _paper_ballot_stands() -> VotingError:
    return VotingError(_("A paper ballot was handed to you in the hall; that ballot counts. "
                         "It cannot be replaced by phone."))


def cast_ballot(poll: Poll, voter: Person, choice: str, *, channel: str = "online",
                entered_by: Person | None = None, now: datetime | None = None,
                request_key: str | None = None) -> str:
    """Cast or change the ballot of the voter's unit (the latest counts); returns the
    receipt code, to be shown once.

    Exactly one counted ballot per unit: the participation row is written with INSERT …
    ON CONFLICT DO UPDATE against its unique constraint, inside a transaction that took
    the lock first. A secret poll's choice is only sealed on that row (app.voting.keystore);
    an open poll's choice is a ballot row keyed by the unit.

    A phone ballot carries the request key of its form: a retried submission whose key is
    the one that last cast the unit's ballot changes nothing (the upsert's WHERE refuses
    the update, RETURNING comes back empty) and gets the same receipt.

    An in-hall ballot is entered by the clerk only in an open poll, only for a person
    signed in at the meeting and only when their unit has not voted by phone: a phone
    ballot stands unless the voter changes it themselves. In a secret poll a paper
    ballot handed in the hall cannot be replaced by phone.

    :raises PollNotOpen, NotOnRoster, VotingError:
    """
    if choice not in CHOICES or channel not in CHANNELS:
        raise VotingError(_("Please choose yes, no or abstain."))
    if channel == "in_person":
        request_key = None  # the clerk's entry is not a phone's retried submission
    entry = poll.roster_entry_for(voter)  # the cast's loader already read it: no statement then
    if entry is None:
        raise NotOnRoster(_("%(name)s is not on the roster of this poll.", name=voter.name))
    read_key_id = poll.key_id
    key = keystore.get_store().get(poll.id, read_key_id) if poll.secret and read_key_id else None
    # What needs no database is done before the write lock: the receipt, the sealed choice
    # (sealed again below in the rare case that the poll's key changed meanwhile).
    receipt = new_receipt()
    sealed = keystore.seal(key, poll.id, entry.unit_key, read_key_id, choice) if key is not None else None
    upsert = _participation_upsert(paper_stands=bool(poll.secret), replay_key=request_key is not None)
    # Replacing a lost key writes the poll row: only then does the cast need the exclusive lock.
    poll = _recheck_open(poll, now, exclusive=bool(poll.secret) and key is None)
    table = Participation.__table__
    if channel == "in_person":
        if poll.secret:
            raise VotingError(_("In a secret poll people in the hall vote on a paper ballot, which the "
                                "scrutineers count in public; nobody enters a choice for them."))
        existing = db.session.execute(select(table.c.channel).where(table.c.poll_id == poll.id,
                                                                    table.c.unit_key == entry.unit_key)).first()
        meeting = poll.meeting
        if entered_by is None or meeting is None or not meeting.attended(voter):
            raise VotingError(_("An in-hall ballot needs the clerk and the voter signed in at the meeting."))
        if existing is not None and existing.channel == "online":
            raise VotingError(_("%(name)s has already voted by phone. That ballot stands unless they "
                                "change it themselves on their phone.", name=voter.name))
    entered_by_id = entered_by.id if entered_by is not None else None
    key_id = None
    if poll.secret:
        if key is None or poll.key_id != read_key_id:  # lost, or replaced since it was read
            key = _sealing_key(poll)
            sealed = keystore.seal(key, poll.id, entry.unit_key, poll.key_id, choice)
        key_id = poll.key_id
    # On the driver, past the session's statement hooks: the row it returns is bound right
    # below (bind_row), as a hooked write would be.
    connection = transaction_connection(db.session)
    returned = upsert.run(connection, {
        "poll_id": poll.id, "unit_key": entry.unit_key, "cast_by_id": voter.id, "channel": channel,
        "entered_by_id": entered_by_id, "receipt": receipt, "sealed": sealed, "sealed_key_id": key_id,
        "request_key": request_key})
    row = returned[0] if returned else None
    if row is None:  # the row was left as it was: a retried submission, or a paper ballot
        current = db.session.execute(select(table.c.receipt, table.c.request_key).where(
            table.c.poll_id == poll.id, table.c.unit_key == entry.unit_key)).one()
        if request_key is not None and current.request_key == request_key:
            return current.receipt
        raise _paper_ballot_stands()
    binding.bind_row(db.session(), table.name, row)
    if not poll.secret:  # ballot rows are bound at the close, as the poll's multiset of choices
        _ballot_upsert().run(connection, {"id": random_id(), "poll_id": poll.id, "voter_key": entry.unit_key,
                                          "choice": choice})
    payload = {"poll_id": poll.id, "voter_id": voter.id, "channel": channel, "entered_by_id": entered_by_id}
    if not poll.secret:
        payload["choice"] = choice  # an open vote records names with choices
    record_event("ballot_cast", actor=entered_by or voter, village_id=poll.village_id, object_type="poll",
                 object_id=poll.id, payload=payload)
    if entered_by is not None and entered_by.id != voter.id:
        _notify_entered(poll, voter, entered_by, _l(
            "Gongyi: %(name)s entered a ballot for you in the hall on “%(title)s” at %(when)s. If you did not "
            "ask for this, you can still change it on your phone before the vote closes, and tell the "
            "supervision committee.", name=entered_by.name, title=poll.proposal.title,
            when=LazyString(clock.format_time, now or utcnow())))
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


_KEYS_TO_DESTROY = "gongyi_poll_keys_to_destroy"


def _open_secret_ballots(poll: Poll) -> tuple[dict[str, int], int]:
    """Open every sealed phone ballot with the poll key, write the plain choices as
    ballot rows in random order with random ids and no voter key, and clear the sealed
    values. Returns the counts and the number of ballots whose key was lost.

    The key itself is destroyed after the transaction commits (finish_closing)."""
    key = keystore.get_store().get(poll.id, poll.key_id) if poll.key_id else None
    parts = list(db.session.scalars(select(Participation).where(Participation.poll_id == poll.id,
                                                                Participation.sealed.is_not(None))
                                    .execution_options(populate_existing=True)))
    choices, lost = [], 0
    for part in parts:
        choice = None
        if key is not None and part.sealed_key_id == poll.key_id:
            try:
                choice = keystore.unseal(key, poll.id, part.unit_key, part.sealed_key_id, part.sealed)
            except InvalidTag:  # altered in the database: it cannot be counted as anything
                choice = None
        if choice in CHOICES:
            choices.append(choice)
        else:
            lost += 1
        part.sealed = None
        part.sealed_key_id = None
    random.SystemRandom().shuffle(choices)
    if choices:
        db.session.execute(insert(Ballot), [{"id": random_id(), "poll_id": poll.id, "voter_key": None, "choice": c}
                                            for c in choices])
    db.session.info.setdefault(_KEYS_TO_DESTROY, []).append(poll.id)
    poll.key_id = None
    counts = {c: 0 for c in CHOICES}
    for c in choices:
        counts[c] += 1
    return counts, lost


def attendance_units(poll: Poll) -> set[str]:
    """Voting units signed in at the poll's meeting."""
    if poll.meeting is None:
        return set()
    return set(db.session.scalars(
        select(RosterEntry.unit_key).join(Attendance, Attendance.person_id == RosterEntry.person_id)
        .where(RosterEntry.poll_id == poll.id, Attendance.meeting_id == poll.meeting.id)))


def close_poll(poll: Poll, actor=None, now: datetime | None = None) -> Tally:
    """Close the poll, tally it in the database, store the snapshot, write the audit
    events and let the process engine move the proposal on (actor None: the system).

    A secret poll's phone ballots are opened and unlinked (see _open_secret_ballots);
    its paper ballots are the scrutineers' totals, and those taking part are the units
    signed in at the meeting plus the phone voters.

    :raises PollNotOpen: the poll is already closed.
    :raises VotingError: paper ballots were handed out and their count is not entered yet.
    """
    poll = _locked_poll(poll, exclusive=True)
    if poll.is_closed:
        raise PollNotOpen(_("This poll is already closed."))
    roster = roster_size(poll.id)
    if poll.secret:
        hall = poll.hall_count
        issued = paper_ballots_issued(poll)
        if issued and hall is None:
            raise VotingError(_("%(n)d paper ballots were handed out in the hall: the scrutineers' count must "
                                "be entered before the poll is closed.", n=issued))
        counts, lost = _open_secret_ballots(poll)
        phone_units = set(db.session.scalars(select(Participation.unit_key).where(
            Participation.poll_id == poll.id, Participation.channel == "online")))
        signed_in = attendance_units(poll)
        took_part = len(phone_units | signed_in)
        hall_info = None
        spoilt = 0
        if poll.meeting is not None:
            hall_info = {"signed_in": len(signed_in), "phone_only": len(phone_units - signed_in),
                         "issued": issued, "returned": 0, "yes": 0, "no": 0, "abstain": 0, "spoilt": 0,
                         "scrutineers": "", "counter": ""}
            if hall is not None:
                hall_info.update(returned=hall.returned, yes=hall.yes, no=hall.no, abstain=hall.abstain,
                                 spoilt=hall.spoilt, scrutineers=hall.scrutineers, counter=hall.counter)
                for c in CHOICES:
                    counts[c] += getattr(hall, c)
                spoilt = hall.spoilt
        tally = evaluate(poll.rule, roster, counts["yes"], counts["no"], counts["abstain"],
                         took_part=took_part, spoilt=spoilt, lost=lost, hall=hall_info)
    else:
        counts = count_ballots(poll.id)
        tally = evaluate(poll.rule, roster, counts["yes"], counts["no"], counts["abstain"])
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


def destroy_closed_poll_keys(poll_ids=None) -> int:
    """Destroy the keys of closed polls (all of them when poll_ids is None); returns how
    many keys were destroyed. Runs after the close commits, and from close-due-polls for
    a close whose process stopped between its commit and this step."""
    store = keystore.get_store()
    stored = store.stored()
    if poll_ids is None:
        wanted = {pid for pid, _k in stored}
        closed = set(db.session.scalars(select(Poll.id).where(Poll.id.in_(wanted), Poll.status == "closed"))) \
            if wanted else set()
    else:
        closed = set(poll_ids)
    n = 0
    for poll_id, key_id in stored:
        if poll_id in closed:
            store.destroy(poll_id, key_id)
            n += 1
    return n


def _checkpoint_sqlite() -> None:
    """After a secret poll closed: move the WAL into the database file and truncate it,
    so that the WAL file keeps no frame of the voting (secure_delete zeroes freed pages)."""
    from flask import current_app

    engine = db.engine
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    import sqlite3

    conn = sqlite3.connect(engine.url.database, timeout=current_app.config["SQLITE_CHECKPOINT_TIMEOUT_MS"] / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(current_app.config['SQLITE_CHECKPOINT_TIMEOUT_MS'])}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    poll_ids = session.info.pop(_KEYS_TO_DESTROY, None)
    if poll_ids:
        destroy_closed_poll_keys(poll_ids)
        _checkpoint_sqlite()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop(_KEYS_TO_DESTROY, None)


def due_poll_ids(now: datetime | None = None) -> list[int]:
    return list(db.session.scalars(select(Poll.id).where(Poll.status == "open", Poll.closes_at <= (now or utcnow()))
                                   .order_by(Poll.id)))


def close_due_polls(now: datetime | None = None) -> list[int]:
    """Close every poll whose closing time has passed; each in its own transaction. A
    secret poll whose paper ballots are not counted yet waits for the count."""
    closed = []
    for poll_id in due_poll_ids(now):
        poll = db.session.get(Poll, poll_id)
        try:
            close_poll(poll, actor=None, now=now)
        except VotingError:
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
    try:
        with write_transaction(db.session):
            fresh = db.session.get(Poll, poll_id)
            if fresh.is_due():
                close_poll(fresh, actor=None)
    except VotingError:  # paper ballots not counted yet: the poll stays open, past its window
        return False
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
    """签到: record that a roster member is present in the hall, and by whom; the person
    is told (so a sign-in for someone who was not there does not go unseen)."""
    poll = meeting.poll
    if poll.is_closed:
        raise PollNotOpen(_("This poll is already closed."))
    if poll.roster_entry_for(person) is None:
        raise NotOnRoster(_("%(name)s is not on the roster of this poll.", name=person.name))
    existing = next((a for a in meeting.attendance if a.person_id == person.id), None)
    if existing is not None:
        return existing
    attendance = Attendance(meeting_id=meeting.id, person_id=person.id, signed_in_by_id=clerk.id)
    db.session.add(attendance)
    db.session.flush()
    record_event("meeting_sign_in", actor=clerk, village_id=poll.village_id, object_type="meeting",
                 object_id=meeting.id, payload={"poll_id": poll.id, "person_id": person.id,
                                                "signed_in_by_id": clerk.id})
    if clerk.id != person.id:
        _notify_entered(poll, person, clerk, _l(
            "Gongyi: %(name)s signed you in at the meeting on “%(title)s” at %(when)s. If you were not there, "
            "tell the supervision committee.", name=clerk.name, title=poll.proposal.title,
            when=LazyString(clock.format_time, attendance.signed_in_at)))
    db.session.refresh(meeting)
    return attendance


def paper_ballots_issued(poll: Poll) -> int:
    if poll.meeting is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.meeting_id == poll.meeting.id, Attendance.ballot_issued_at.is_not(None))) or 0


def issue_paper_ballot(meeting: Meeting, person: Person, clerk: Person) -> Attendance:
    """发放表决票: a secret poll's paper ballot for a signed-in attendee whose voting unit
    has not voted by phone and has no paper ballot yet. The unit's participation row is
    written now (channel in_person, no choice), so the same unit can never also cast by
    phone: the unique constraint keeps one counted ballot per unit.

    :raises VotingError: not a secret poll, not signed in, voted by phone, already issued,
        the count already entered, or the poll closed.
    """
    poll = _locked_poll(meeting.poll, exclusive=True)
    if not poll.secret:
        raise VotingError(_("Paper ballots are for secret polls; in an open vote the clerk enters each choice."))
    if poll.is_closed or poll.hall_count is not None:
        raise PollNotOpen(_("The paper ballots of this poll have been counted; no more can be handed out."))
    attendance = next((a for a in meeting.attendance if a.person_id == person.id), None)
    if attendance is None:
        raise VotingError(_("%(name)s must be signed in at the meeting first.", name=person.name))
    entry = poll.roster_entry_for(person)
    existing = db.session.scalar(select(Participation).where(Participation.poll_id == poll.id,
                                                             Participation.unit_key == entry.unit_key))
    if existing is not None:
        if existing.channel == "online":
            raise VotingError(_("%(name)s has already voted by phone. That ballot stands unless they change it "
                                "themselves on their phone.", name=person.name))
        raise VotingError(_("A paper ballot was already handed out for %(name)s.", name=person.name))
    now = utcnow()
    db.session.execute(dialect_insert(db.session.get_bind().dialect.name)(Participation).values(
        poll_id=poll.id, unit_key=entry.unit_key, cast_by_id=person.id, channel="in_person",
        entered_by_id=clerk.id, receipt="", times_cast=1))
    attendance.ballot_issued_at = now
    attendance.ballot_issued_by_id = clerk.id
    db.session.flush()
    record_event("paper_ballot_issued", actor=clerk, village_id=poll.village_id, object_type="meeting",
                 object_id=meeting.id, payload={"poll_id": poll.id, "person_id": person.id})
    _notify_entered(poll, person, clerk, _l(
        "Gongyi: %(name)s handed you a paper ballot at the meeting on “%(title)s” at %(when)s; it is your "
        "ballot in this vote. If you did not receive it, tell the supervision committee.",
        name=clerk.name, title=poll.proposal.title, when=LazyString(clock.format_time, now)))
    return attendance


def record_hall_count(poll: Poll, actor: Person, *, issued: int, returned: int, yes: int, no: int, abstain: int,
                      spoilt: int, scrutineers: str, counter: str) -> HallCount:
    """唱票计票结果: the scrutineers' public count of the paper ballots, entered once, as
    totals. Refused where it does not add up.

    :raises VotingError: not a secret poll with a meeting, already entered, or the
        numbers do not agree with each other or with the ballots handed out.
    """
    poll = _locked_poll(poll, exclusive=True)
    if not poll.secret or poll.meeting is None:
        raise VotingError(_("Only a secret poll with a meeting has paper ballots to count."))
    if poll.is_closed:
        raise PollNotOpen(_("This poll is already closed."))
    if poll.hall_count is not None:
        raise VotingError(_("The count of the paper ballots has already been entered; it is entered once."))
    numbers = {"issued": issued, "returned": returned, "yes": yes, "no": no, "abstain": abstain, "spoilt": spoilt}
    if any(n is None or n < 0 for n in numbers.values()):
        raise VotingError(_("Every number must be zero or more."))
    handed_out = paper_ballots_issued(poll)
    if issued != handed_out:
        raise VotingError(_("%(issued)d ballots issued does not match the sign-in sheet: %(n)d paper ballots "
                            "were handed out.", issued=issued, n=handed_out))
    if returned > issued:
        raise VotingError(_("More ballots returned (%(returned)d) than issued (%(issued)d).",
                            returned=returned, issued=issued))
    if yes + no + abstain + spoilt != returned:
        raise VotingError(_("Yes, no, abstain and spoilt add up to %(sum)d, not to the %(returned)d ballots "
                            "returned.", sum=yes + no + abstain + spoilt, returned=returned))
    names = [n for n in (s.strip() for s in scrutineers.replace("，", ",").replace("、", ",").split(",")) if n]
    if not names or not counter.strip():
        raise VotingError(_("Name the scrutineers and the person who counted."))
    hall = HallCount(poll_id=poll.id, scrutineers="、".join(names), counter=counter.strip(), entered_by_id=actor.id,
                     **numbers)
    db.session.add(hall)
    db.session.flush()
    record_event("hall_count_recorded", actor=actor, village_id=poll.village_id, obj=poll,
                 payload={**numbers, "scrutineers": hall.scrutineers, "counter": hall.counter})
    db.session.refresh(poll)
    return hall


def record_minutes(meeting: Meeting, minutes: str, clerk: Person) -> None:
    meeting.minutes = minutes.strip()
    meeting.minutes_by_id = clerk.id
    meeting.minutes_at = utcnow()
    record_event("meeting_minutes", actor=clerk, village_id=meeting.poll.village_id, object_type="meeting",
                 object_id=meeting.id, payload={"poll_id": meeting.poll_id,
                                                "sha256": hashlib.sha256(meeting.minutes.encode()).hexdigest()})
    db.session.flush()
