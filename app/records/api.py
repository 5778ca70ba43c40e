"""What the stage engine asks the records area (through app.deliberation.hooks):
objections of the current notice period and implementation reports."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.records.models import Objection, Report


def _current_period(proposal):
    """Objections of the notice period now running: a proposal sent back and posted
    again starts a new period, and the old answers no longer decide anything."""
    conds = [Objection.proposal_id == proposal.id]
    if proposal.stage == "publicized" and proposal.stage_entered_at is not None:
        conds.append(Objection.filed_at >= proposal.stage_entered_at)
    return conds


def pending_objection_count(proposal) -> int:
    """Objections of the current notice period not yet answered by the supervision committee."""
    return db.session.scalar(select(func.count(Objection.id)).where(
        *_current_period(proposal), Objection.answered_at.is_(None))) or 0


def upheld_objection_count(proposal) -> int:
    """Objections of the current notice period the supervision committee found valid."""
    return db.session.scalar(select(func.count(Objection.id)).where(
        *_current_period(proposal), Objection.upheld.is_(True))) or 0


def report_counts(proposal) -> tuple[int, bool]:
    """(number of progress reports, whether the final result report exists)."""
    rows = db.session.execute(select(Report.kind, func.count(Report.id))
                              .where(Report.proposal_id == proposal.id).group_by(Report.kind)).all()
    counts = dict(rows)
    return int(counts.get("progress", 0)), bool(counts.get("final", 0))
