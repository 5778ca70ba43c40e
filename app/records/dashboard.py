"""The oversight pages' questions: for a county, a township or one village, how many
proposals there are by stage, which are overdue, flagged or waiting for filing.

Every figure comes from a fixed number of statements whatever the number of villages
and proposals. Counts are grouped by the database; the compliance flags, which are rules
of the calendar and the stage history, are computed from plain rows (`ProposalFacts`),
never from ORM objects per proposal.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.orm import selectinload

from app.accounts.models import County, Township, Village, utcnow
from app.extensions import db
from app.records import record
from app.records.compliance import Flag, proposal_flags, representatives_by_village, village_flags

SORTS = ("flags", "overdue", "to_file", "proposals", "name")
PAGE_SIZE = 50  # villages per page of a township's table
LIST_LIMIT = 20  # items per list on a village's page; the rest are in the CSV and the village's list


class ProposalFacts:
    """What the compliance checks and the oversight pages read of one proposal, loaded
    as plain rows for many proposals at once (the checks take it where they take a Proposal)."""

    COLUMNS = ("id", "village_id", "title", "stage", "stage_deadline", "matter_category", "deciding_body",
               "assembly_announced_at", "party_plan_sent_at")
    __slots__ = COLUMNS + ("village", "authorisation", "history")

    def __init__(self, values, village, authorisation):
        (self.id, self.village_id, self.title, self.stage, self.stage_deadline, self.matter_category,
         self.deciding_body, self.assembly_announced_at, self.party_plan_sent_at) = values
        self.village, self.authorisation, self.history = village, authorisation, []

    def is_overdue(self, now: datetime | None = None) -> bool:
        from app.deliberation.models import TERMINAL

        return (self.stage not in TERMINAL and self.stage_deadline is not None
                and (now or utcnow()) > self.stage_deadline)


class Move(NamedTuple):
    """One stage move of a proposal's history, as the compliance checks read it."""
    from_stage: str | None
    to_stage: str
    at: datetime


class NoticeRow(NamedTuple):
    kind: str
    corrects_id: int | None
    paper_note: str | None

    @property
    def backdated(self) -> bool:
        return self.paper_note is not None


@dataclass
class ProposalItem:
    proposal: ProposalFacts
    flags: list[Flag]
    overdue: bool


@dataclass
class LateObjection:
    id: int
    proposal: ProposalFacts
    reply_due_at: datetime


@dataclass
class VillageDetails:
    """One village's page: its proposals by stage, overdue, flagged and to file."""
    village: Village
    by_stage: Counter
    overdue: list = field(default_factory=list)
    flagged: list[ProposalItem] = field(default_factory=list)
    village_flags: list[Flag] = field(default_factory=list)
    to_file: list = field(default_factory=list)
    late_objections: list[LateObjection] = field(default_factory=list)

    @property
    def stages(self) -> list[tuple[str, int]]:
        """(stage, count) in process order."""
        from app.deliberation.models import ALL_STAGES

        return [(s, self.by_stage[s]) for s in ALL_STAGES if self.by_stage.get(s)]

    @property
    def flag_count(self) -> int:
        return len(self.village_flags) + sum(len(i.flags) for i in self.flagged)


@dataclass
class Counts:
    """One row of an oversight table (a village of a township, or a township of a county)."""
    id: int
    name: str
    villages: int = 1
    proposals: int = 0
    overdue: int = 0  # overdue proposals and objections answered late
    to_file: int = 0
    flags: int = 0

    def add(self, other: "Counts") -> None:
        for name in ("villages", "proposals", "overdue", "to_file", "flags"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# Who oversees what ------------------------------------------------------------------------

def townships_for(user) -> list[Township]:
    """The townships this person may read: their own, those of their county, or all (admin)."""
    if not getattr(user, "is_authenticated", False):
        return []
    q = select(Township).order_by(Township.id)
    if not user.is_admin:
        townships, counties = user.overseen_township_ids, user.overseen_county_ids
        if not townships and not counties:
            return []
        q = q.where(Township.id.in_(townships) | Township.county_id.in_(counties))
    return list(db.session.scalars(q))


def counties_for(user) -> list[County]:
    if not getattr(user, "is_authenticated", False):
        return []
    q = select(County).order_by(County.id)
    if not user.is_admin:
        if not user.overseen_county_ids:
            return []
        q = q.where(County.id.in_(user.overseen_county_ids))
    return list(db.session.scalars(q))


def villages_of(township_ids) -> list[Village]:
    return list(db.session.scalars(select(Village).where(Village.township_id.in_(township_ids))
                                   .options(selectinload(Village.rule_profile)).order_by(Village.id)))


# Facts for many proposals at once ------------------------------------------------------------

def _of_villages(village_ids):
    from app.deliberation.models import Proposal

    return select(Proposal.id).where(Proposal.village_id.in_(village_ids))


def proposal_facts(villages) -> dict[int, ProposalFacts]:
    """proposal id → its facts, with its stage history, for every proposal of these villages."""
    from app.deliberation.models import Authorisation, Proposal, StageChange

    by_village = {v.id: v for v in villages}
    of_villages = _of_villages(list(by_village))
    authorisations = {a.id: a for a in db.session.scalars(
        select(Authorisation).where(Authorisation.id.in_(
            select(Proposal.authorisation_id).where(Proposal.village_id.in_(list(by_village))))))}
    # Plain rows straight from the connection, fetched at once: no ORM objects, no per-row loading.
    conn = db.session.connection()
    columns = [getattr(Proposal, c) for c in ProposalFacts.COLUMNS]
    facts = {}
    for row in conn.execute(select(*columns, Proposal.authorisation_id)
                            .where(Proposal.village_id.in_(list(by_village))).order_by(Proposal.id)).all():
        facts[row[0]] = ProposalFacts(row[:-1], by_village[row[1]], authorisations.get(row[-1]))
    s = StageChange
    # The moves' times come as the driver gives them and are read with fromisoformat:
    # SQLAlchemy's own parsing of SQLite's text times cost more than all the checks.
    for pid, frm, to, at in conn.execute(select(s.proposal_id, s.from_stage, s.to_stage, type_coerce(s.at, String))
                                         .where(s.proposal_id.in_(of_villages)).order_by(s.id)).all():
        facts[pid].history.append(Move(frm, to, at if isinstance(at, datetime) else datetime.fromisoformat(at)))
    return facts


def flagged_items(villages, facts: dict[int, ProposalFacts]) -> list[ProposalItem]:
    """Every flagged proposal of these villages, with its flags, in id order."""
    from app.deliberation import hooks
    from app.deliberation.models import NoticeFact

    of_villages = _of_villages([v.id for v in villages])
    polls = record.poll_facts(of_villages)
    summaries = hooks.topic_summaries_written(of_villages)
    notices: dict[int, list] = {}
    n = NoticeFact
    for pid, kind, corrects_id, paper_note in db.session.execute(
            select(n.proposal_id, n.kind, n.corrects_id, n.paper_note).where(n.proposal_id.in_(of_villages))
            .order_by(n.id)):
        notices.setdefault(pid, []).append(NoticeRow(kind, corrects_id, paper_note))
    items = []
    now = utcnow()
    for p in facts.values():
        flags = proposal_flags(p, polls.get(p.id, []), p.id in summaries, notices.get(p.id, []))
        if flags:
            items.append(ProposalItem(p, flags, p.is_overdue(now)))
    return items


def _late_objections(village_ids, now):
    """Objections past their reply time and still unanswered, with their proposal's village."""
    from app.deliberation.models import Proposal
    from app.records.models import Objection

    return (select(Objection.id, Objection.proposal_id, Objection.reply_due_at, Proposal.village_id)
            .join(Proposal, Proposal.id == Objection.proposal_id)
            .where(Proposal.village_id.in_(village_ids), Objection.answered_at.is_(None),
                   Objection.reply_due_at < now))


def _flag_counts(villages) -> Counter:
    """village id → its number of flags (its own and its proposals')."""
    counts: Counter = Counter()
    for item in flagged_items(villages, proposal_facts(villages)):
        counts[item.proposal.village_id] += len(item.flags)
    representatives = representatives_by_village([v.id for v in villages])
    for v in villages:
        counts[v.id] += len(village_flags(v, representatives.get(v.id, (0, 0))))
    return counts


def village_counts(villages) -> list[Counts]:
    """One row per village: proposals, overdue items, records to file and flags. The
    counts are grouped by the database; only the flags are computed here."""
    from app.deliberation.models import TERMINAL, Proposal

    villages = list(villages)
    if not villages:
        return []
    ids = [v.id for v in villages]
    now = utcnow()
    rows = {v.id: Counts(v.id, v.name) for v in villages}
    overdue = case((Proposal.stage.not_in(TERMINAL) & (Proposal.stage_deadline < now), 1), else_=0)
    to_file = case((Proposal.stage == "completed", 1), else_=0)
    for village_id, n, n_overdue, n_to_file in db.session.execute(
            select(Proposal.village_id, func.count(), func.sum(overdue), func.sum(to_file))
            .where(Proposal.village_id.in_(ids)).group_by(Proposal.village_id)):
        row = rows[village_id]
        row.proposals, row.overdue, row.to_file = n, int(n_overdue or 0), int(n_to_file or 0)
    late = _late_objections(ids, now).subquery()
    for village_id, n in db.session.execute(select(late.c.village_id, func.count()).group_by(late.c.village_id)):
        rows[village_id].overdue += n
    for village_id, n in _flag_counts(villages).items():
        rows[village_id].flags = n
    return [rows[v.id] for v in villages]


def township_counts(townships) -> list[Counts]:
    """One row per township: its villages' counts added up."""
    townships = list(townships)
    rows = {t.id: Counts(t.id, t.name, villages=0) for t in townships}
    villages = villages_of(list(rows))
    for village, counts in zip(villages, village_counts(villages)):
        rows[village.township_id].add(counts)
    return [rows[t.id] for t in townships]


def add_up(rows: list[Counts]) -> Counts:
    """The rows' totals (the table's last line)."""
    total = Counts(0, "", villages=0)
    for r in rows:
        total.add(r)
    return total


def sort_rows(rows: list[Counts], sort: str | None) -> list[Counts]:
    """Flags first by default; then overdue items, items waiting for filing, proposals, or
    the name. Ties keep the name order."""
    rows = sorted(rows, key=lambda r: r.name)
    if sort == "name":
        return rows
    key = {"overdue": "overdue", "to_file": "to_file", "proposals": "proposals"}.get(sort, "flags")
    return sorted(rows, key=lambda r: getattr(r, key), reverse=True)


def village_details(village: Village) -> VillageDetails:
    """One village's page, from a fixed number of statements whatever its size."""
    facts = proposal_facts([village])
    representatives = representatives_by_village([village.id])
    details = VillageDetails(village=village, by_stage=Counter(p.stage for p in facts.values()),
                             village_flags=village_flags(village, representatives.get(village.id, (0, 0))))
    now = utcnow()
    details.overdue = [p for p in facts.values() if p.is_overdue(now)]
    details.to_file = [p for p in facts.values() if p.stage == "completed"]
    details.flagged = flagged_items([village], facts)
    details.late_objections = [LateObjection(oid, facts[pid], due) for oid, pid, due, _v in db.session.execute(
        _late_objections([village.id], now).order_by("reply_due_at"))]
    return details


def township_flag_rows(township: Township):
    """(village, proposal or None, flag) for every flag of the township, for the CSV."""
    villages = villages_of([township.id])
    representatives = representatives_by_village([v.id for v in villages])
    by_village: dict[int, list[ProposalItem]] = {}
    for item in flagged_items(villages, proposal_facts(villages)):
        by_village.setdefault(item.proposal.village_id, []).append(item)
    for v in villages:
        for flag in village_flags(v, representatives.get(v.id, (0, 0))):
            yield v, None, flag
        for item in by_village.get(v.id, []):
            for flag in item.flags:
                yield v, item.proposal, flag
