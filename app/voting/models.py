"""Polls (表决), their frozen rosters (应到会名单), participations, ballots, receipts and
hybrid meetings.

Secrecy (DESIGN.md §3, docs/voting-security.md): while a secret poll is open, a
voter's choice exists in the database only sealed (AES-GCM) on the participation row,
under a per-poll key that lives outside the database (app.voting.keystore). At close
the sealed choices are opened, written to `ballot` as plain choices in random order,
with random ids and no voter key, and the key is destroyed. An open (non-secret) poll
keeps its ballots in `ballot` keyed by the voting unit from the start. The ballot table
has no timestamp and no insertion order (on SQLite a WITHOUT ROWID table clustered by
the random id).
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Household, Person, utcnow
from app.extensions import db

CHOICES = ("yes", "no", "abstain")
CHANNELS = ("online", "in_person")
# Electorate kinds: who is on the roster and what one ballot stands for.
ELECTORATES = ("committees", "party_members", "adult_villagers", "households", "representatives")
VOTING_STAGES = ("committee_deliberation", "member_review", "villager_resolution")
_ROSTER_KNOWN = "gongyi_roster_known"  # flask.g: (poll id, person id) -> RosterEntry or None


def random_id() -> str:
    return secrets.token_hex(16)


class Poll(db.Model):
    """表决: one vote of one body on one exact version of a proposal."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    stage: Mapped[str] = mapped_column(db.String(40))
    version_id: Mapped[int] = mapped_column(ForeignKey("proposal_version.id"))
    electorate: Mapped[str] = mapped_column(db.String(20))
    secret: Mapped[bool] = mapped_column(default=False)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(db.String(10), default="open")
    # The rule applied, frozen at opening (tally.Rule as JSON), and its words.
    rule_json: Mapped[str] = mapped_column(db.Text)
    # Public name of the secret poll's current sealing key (the key itself is never in
    # the database: app.voting.keystore); a new one after a key store lost the key.
    key_id: Mapped[str | None] = mapped_column(db.String(16))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None]
    # The closing snapshot (tally.Tally as JSON) and its main facts as columns.
    tally_json: Mapped[str | None] = mapped_column(db.Text)
    quorum_met: Mapped[bool | None]
    passed: Mapped[bool | None]

    proposal = relationship("Proposal")
    version = relationship("ProposalVersion")
    village = relationship("Village")
    opened_by: Mapped[Person | None] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[Person | None] = relationship(foreign_keys=[closed_by_id])
    roster: Mapped[list["RosterEntry"]] = relationship(back_populates="poll", order_by="RosterEntry.id")
    meeting: Mapped["Meeting | None"] = relationship(back_populates="poll", uselist=False)
    hall_count: Mapped["HallCount | None"] = relationship(back_populates="poll", uselist=False)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_values"),
        CheckConstraint("electorate IN ('committees', 'party_members', 'adult_villagers', 'households', "
                        "'representatives')", name="electorate_values"),
        CheckConstraint("stage IN ('committee_deliberation', 'member_review', 'villager_resolution')",
                        name="stage_values"),
        CheckConstraint("closes_at > opens_at", name="window_order"),
    )

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    def accepting_ballots(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.status == "open" and self.opens_at <= now < self.closes_at

    def is_due(self, now: datetime | None = None) -> bool:
        return self.status == "open" and (now or utcnow()) >= self.closes_at

    @property
    def household_mode(self) -> bool:
        return self.electorate == "households"

    @property
    def rule(self):
        from app.voting.tally import Rule

        return Rule.from_dict(json.loads(self.rule_json))

    @property
    def tally(self):
        from app.voting.tally import Tally

        return Tally.from_dict(json.loads(self.tally_json)) if self.tally_json else None

    def roster_entry_for(self, person) -> "RosterEntry | None":
        """One indexed look-up, not the whole roster (a village may have thousands);
        none at all when this request already loaded it (remember_roster_entry)."""
        from sqlalchemy import select

        pid = getattr(person, "id", None)
        if pid is None:
            return None
        known = g.get(_ROSTER_KNOWN) if has_app_context() else None
        if known is not None and (self.id, pid) in known:
            return known[(self.id, pid)]
        return db.session.scalar(select(RosterEntry).where(RosterEntry.poll_id == self.id,
                                                           RosterEntry.person_id == pid))


def remember_roster_entry(poll_id: int, person_id: int, entry: "RosterEntry | None") -> None:
    """Keep, for the rest of this request, a roster entry (or its absence) that a query
    already loaded: the roster is frozen when the poll opens, so it cannot go stale."""
    known = g.get(_ROSTER_KNOWN)
    if known is None:
        known = {}
        setattr(g, _ROSTER_KNOWN, known)
    known[(poll_id, person_id)] = entry


class RosterEntry(db.Model):
    """One person on a poll's roster, copied when the poll opens (later changes to the
    village do not change it). In household mode several adults share one unit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    name: Mapped[str] = mapped_column(db.String(40))
    gender: Mapped[str | None] = mapped_column(db.String(1))
    # What one counted ballot stands for: "p<person id>" or "h<household id>".
    unit_key: Mapped[str] = mapped_column(db.String(24))

    poll: Mapped[Poll] = relationship(back_populates="roster")
    person: Mapped[Person] = relationship()
    household: Mapped[Household | None] = relationship()

    __table_args__ = (UniqueConstraint("poll_id", "person_id", name="uq_roster_entry_person"),)


class Participation(db.Model):
    """That a voting unit took part (not how): one row per unit, never two, by the
    unique constraint. Holds the channel, who cast it last, who entered it (clerk) and
    the receipt code (回执码) published after close."""

    __tablename__ = "poll_participation"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    unit_key: Mapped[str] = mapped_column(db.String(24))
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(db.String(10), default="online")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    receipt: Mapped[str] = mapped_column(db.String(20))
    times_cast: Mapped[int] = mapped_column(default=1)
    # Secret poll, phone ballot: the choice sealed under the poll key `sealed_key_id`
    # (nonce + AES-GCM ciphertext of a fixed-length plaintext); NULL after close, and
    # NULL for a paper ballot (channel in_person: a 表决票 was issued in the hall).
    sealed: Mapped[bytes | None] = mapped_column(db.LargeBinary(64))
    sealed_key_id: Mapped[str | None] = mapped_column(db.String(16))
    # The idempotency key of the submission that cast it last (a fresh random token on
    # every rendered vote form): a retried submission with the same key is not cast again.
    request_key: Mapped[str | None] = mapped_column(db.String(64))

    cast_by: Mapped[Person] = relationship(foreign_keys=[cast_by_id])
    entered_by: Mapped[Person | None] = relationship(foreign_keys=[entered_by_id])

    __table_args__ = (
        UniqueConstraint("poll_id", "unit_key", name="uq_poll_participation_unit"),
        CheckConstraint("channel IN ('online', 'in_person')", name="channel_values"),
    )


class Ballot(db.Model):
    """A counted choice. Open poll: one per voting unit, `voter_key` the unit key (unique
    constraint). Secret poll: written only at close, from the sealed phone ballots, with
    no voter key at all. No timestamp, no sequence: the random id is the only order.
    Paper ballots of a secret poll are not rows here: they are counted by the
    scrutineers and entered as totals (HallCount)."""

    id: Mapped[str] = mapped_column(db.String(32), primary_key=True, default=random_id)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"))
    voter_key: Mapped[str | None] = mapped_column(db.String(64))
    choice: Mapped[str] = mapped_column(db.String(8))

    __table_args__ = (
        UniqueConstraint("poll_id", "voter_key", name="uq_ballot_voter"),
        CheckConstraint("choice IN ('yes', 'no', 'abstain')", name="choice_values"),
        {"sqlite_with_rowid": False},
    )


class Meeting(db.Model):
    """A hybrid meeting (会议) for a poll: sign-in, in-hall ballots, minutes."""

    __tablename__ = "poll_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), unique=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    place: Mapped[str | None] = mapped_column(db.String(120))
    minutes: Mapped[str | None] = mapped_column(db.Text)
    minutes_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    minutes_at: Mapped[datetime | None]

    poll: Mapped[Poll] = relationship(back_populates="meeting")
    opened_by: Mapped[Person] = relationship(foreign_keys=[opened_by_id])
    attendance: Mapped[list["Attendance"]] = relationship(back_populates="meeting", order_by="Attendance.id")

    def attended(self, person) -> bool:
        return any(a.person_id == person.id for a in self.attendance)


class Attendance(db.Model):
    """签到: a roster member signed in at the meeting by the clerk."""

    __tablename__ = "poll_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("poll_meeting.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    signed_in_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    signed_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Secret poll: a paper ballot (表决票) was handed to this person, by whom and when.
    ballot_issued_at: Mapped[datetime | None]
    ballot_issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="attendance")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    signed_in_by: Mapped[Person] = relationship(foreign_keys=[signed_in_by_id])
    ballot_issued_by: Mapped[Person | None] = relationship(foreign_keys=[ballot_issued_by_id])

    __table_args__ = (UniqueConstraint("meeting_id", "person_id", name="uq_attendance_person"),)


class HallCount(db.Model):
    """唱票计票: the scrutineers' (监票人) public count of a secret poll's paper ballots,
    entered once as totals. No per-person hall choice exists for a secret poll."""

    __tablename__ = "poll_hall_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), unique=True)
    issued: Mapped[int]
    returned: Mapped[int]
    yes: Mapped[int]
    no: Mapped[int]
    abstain: Mapped[int]
    spoilt: Mapped[int]
    scrutineers: Mapped[str] = mapped_column(db.String(200))
    counter: Mapped[str] = mapped_column(db.String(40))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    poll: Mapped[Poll] = relationship(back_populates="hall_count")
    entered_by: Mapped[Person] = relationship()

    __table_args__ = (
        CheckConstraint("issued >= 0 AND returned >= 0 AND yes >= 0 AND no >= 0 AND abstain >= 0 "
                        "AND spoilt >= 0", name="non_negative"),
        CheckConstraint("returned <= issued", name="returned_le_issued"),
        CheckConstraint("yes + no + abstain + spoilt = returned", name="counts_sum"),
    )

    @property
    def valid(self) -> int:
        return self.yes + self.no + self.abstain
