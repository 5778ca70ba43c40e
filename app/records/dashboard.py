"""The township dashboard's questions: each village with its proposals by stage,
overdue items and compliance flags."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from app.accounts.models import Township
from app.extensions import db
from app.records.compliance import Flag, proposal_flags, village_flags


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


def village_row(village) -> VillageRow:
    from app.deliberation.models import Proposal

    proposals = list(db.session.scalars(select(Proposal).where(Proposal.village_id == village.id)
                                        .order_by(Proposal.id)))
    row = VillageRow(village=village, by_stage=Counter(p.stage for p in proposals),
                     village_flags=village_flags(village))
    from app.records.models import Objection

    if proposals:
        pending = db.session.scalars(select(Objection).where(
            Objection.proposal_id.in_([p.id for p in proposals]), Objection.answered_at.is_(None))
            .order_by(Objection.reply_due_at))
        row.late_objections = [o for o in pending if o.is_overdue()]
    for p in proposals:
        flags = proposal_flags(p)
        overdue = p.is_overdue()
        if overdue:
            row.overdue.append(p)
        if flags:
            row.flagged.append(ProposalItem(p, flags, overdue))
        if p.stage == "completed":
            row.to_file.append(p)
    return row


def township_rows(township) -> list[VillageRow]:
    return [village_row(v) for v in township.villages]
