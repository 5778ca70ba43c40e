"""The township dashboard's questions: each village with its proposals by stage,
overdue items and compliance flags."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import Township, Village
from app.extensions import db
from app.records import record
from app.records.compliance import Flag, proposal_flags, representatives_by_village, village_flags


@dataclass
class ProposalItem:
    proposal: object
    flags: list[Flag]
    overdue: bool


@dataclass
class VillageRow:
    village: object
    by_stage: Counter
    overdue: list = field(default_factory=list)
    flagged: list[ProposalItem] = field(default_factory=list)
    village_flags: list[Flag] = field(default_factory=list)
    to_file: list = field(default_factory=list)
    late_objections: list = field(default_factory=list)

    @property
    def stages(self) -> list[tuple[str, int]]:
        """(stage, count) in process order."""
        from app.deliberation.models import ALL_STAGES

        return [(s, self.by_stage[s]) for s in ALL_STAGES if self.by_stage.get(s)]

    @property
    def flag_count(self) -> int:
        return len(self.village_flags) + sum(len(i.flags) for i in self.flagged)


def townships_for(user) -> list[Township]:
    if not getattr(user, "is_authenticated", False):
        return []
    q = select(Township).order_by(Township.id)
    if not user.is_admin:
        ids = user.overseen_township_ids
        if not ids:
            return []
        q = q.where(Township.id.in_(ids))
    return list(db.session.scalars(q))


SORTS = ("flags", "overdue", "to_file", "proposals", "name")


def village_rows(villages) -> list[VillageRow]:
    """One row per village with its counts, overdue items and flags, from a fixed number
    of queries whatever the number of villages and proposals (each fact is loaded for
    all of them at once, never per row)."""
    from app.deliberation import hooks
    from app.deliberation.models import NoticeFact, Proposal
    from app.records.models import Objection

    villages = list(villages)
    if not villages:
        return []
    village_ids = [v.id for v in villages]
    of_villages = select(Proposal.id).where(Proposal.village_id.in_(village_ids))
    proposals = list(db.session.scalars(
        select(Proposal).where(Proposal.village_id.in_(village_ids))
        .options(selectinload(Proposal.history), selectinload(Proposal.authorisation)).order_by(Proposal.id)))
    polls = record.poll_facts(of_villages)
    summaries = hooks.topic_summaries_written(of_villages)
    notices: dict[int, list] = {}
    for fact in db.session.scalars(select(NoticeFact).where(NoticeFact.proposal_id.in_(of_villages))
                                   .order_by(NoticeFact.id)):
        notices.setdefault(fact.proposal_id, []).append(fact)
    representatives = representatives_by_village(village_ids)
    pending = db.session.scalars(select(Objection).where(Objection.proposal_id.in_(of_villages),
                                                         Objection.answered_at.is_(None))
                                 .order_by(Objection.reply_due_at))
    rows = {v.id: VillageRow(village=v, by_stage=Counter(),
                             village_flags=village_flags(v, representatives.get(v.id, (0, 0))))
            for v in villages}
    by_id = {}
    for p in proposals:
        by_id[p.id] = p
        row = rows[p.village_id]
        row.by_stage[p.stage] += 1
        flags = proposal_flags(p, polls.get(p.id, []), p.id in summaries, notices.get(p.id, []))
        overdue = p.is_overdue()
        if overdue:
            row.overdue.append(p)
        if flags:
            row.flagged.append(ProposalItem(p, flags, overdue))
        if p.stage == "completed":
            row.to_file.append(p)
    for o in pending:
        if o.is_overdue():
            rows[by_id[o.proposal_id].village_id].late_objections.append(o)
    return [rows[v.id] for v in villages]


def sort_rows(rows: list[VillageRow], sort: str | None) -> list[VillageRow]:
    """Flags first by default; then overdue items, items waiting for filing, proposals, or
    the village's name. Ties keep the name order."""
    rows = sorted(rows, key=lambda r: r.village.name)
    if sort == "name":
        return rows
    keys = {"overdue": lambda r: len(r.overdue) + len(r.late_objections), "to_file": lambda r: len(r.to_file),
            "proposals": lambda r: sum(r.by_stage.values())}
    first = keys.get(sort, lambda r: r.flag_count)
    return sorted(rows, key=first, reverse=True)


def villages_of(township_ids) -> list:
    return list(db.session.scalars(select(Village).where(Village.township_id.in_(township_ids))
                                   .options(selectinload(Village.rule_profile)).order_by(Village.id)))


def township_rows(township) -> list[VillageRow]:
    return village_rows(villages_of([township.id]))
