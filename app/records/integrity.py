"""Do the records area's rows still say what the audit chain says they said?

The chain proves its own events unchanged (verify_chain); each event about an
objection, report, filing or stage move carries digests of that row's texts and its
key facts. This check recomputes them from the rows, so a row edited in the database
afterwards is named, even though the chain itself is intact."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.records.models import AuditEvent, Filing, Objection, Report


@dataclass(frozen=True)
class RowProblem:
    table: str
    row_id: int
    problem: str

    def __str__(self) -> str:
        return f"{self.table} {self.row_id}: {self.problem}"


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def _events(object_type: str) -> dict[tuple[int, str], dict]:
    """(object id, kind) → payload, for the events about one kind of row."""
    rows = db.session.execute(select(AuditEvent.object_id, AuditEvent.kind, AuditEvent.payload)
                              .where(AuditEvent.object_type == object_type)).all()
    return {(oid, kind): json.loads(payload) for oid, kind, payload in rows}


def _check(problems, table, row_id, event, expected: dict):
    if event is None:
        problems.append(RowProblem(table, row_id, "no audit event records it"))
        return
    for key, value in expected.items():
        if event.get(key) != value:
            problems.append(RowProblem(table, row_id, f"{key} differs from its audit event"))


def _removed(problems, table, events: dict, seen: set[int]) -> None:
    for oid in sorted({oid for oid, _kind in events} - seen):
        problems.append(RowProblem(table, oid, "the row was removed, but its audit event remains"))


def verify_records() -> list[RowProblem]:
    """Every objection, report, photo, filing and stage move checked against its audit event."""
    problems: list[RowProblem] = []
    ev = _events("objection")
    objections = list(db.session.scalars(select(Objection).order_by(Objection.id)))
    _removed(problems, "objection", ev, {o.id for o in objections})
    for o in objections:
        _check(problems, "objection", o.id, ev.get((o.id, "objection.filed")),
               {"proposal_id": o.proposal_id, "body_sha256": _sha(o.body)})
        answered = ev.get((o.id, "objection.answered"))
        if o.answered_at is not None or answered is not None:
            _check(problems, "objection", o.id, answered if o.answered_at is not None else None,
                   {"answer_sha256": _sha(o.answer), "upheld": o.upheld})
    ev = _events("report")
    reports = list(db.session.scalars(select(Report).order_by(Report.id)))
    _removed(problems, "report", ev, {r.id for r in reports})
    for r in reports:
        _check(problems, "report", r.id, ev.get((r.id, "report.posted")),
               {"proposal_id": r.proposal_id, "report_kind": r.kind, "body_sha256": _sha(r.body),
                "photos": [p.sha256 for p in r.photos]})
        opinion = ev.get((r.id, "report.opinion"))
        if r.opinion_at is not None or opinion is not None:
            _check(problems, "report", r.id, opinion if r.opinion_at is not None else None,
                   {"opinion_sha256": _sha(r.opinion)})
    ev = _events("filing")
    filings = list(db.session.scalars(select(Filing).order_by(Filing.id)))
    _removed(problems, "filing", ev, {f.id for f in filings})
    for f in filings:
        _check(problems, "filing", f.id, ev.get((f.id, "record.filed")),
               {"proposal_id": f.proposal_id, "comment_sha256": _sha(f.comment)})
    problems += _verify_stage_changes()
    return problems


def _verify_stage_changes() -> list[RowProblem]:
    try:
        from app.deliberation.models import StageChange
    except ModuleNotFoundError:
        return []
    problems: list[RowProblem] = []
    rows = db.session.execute(select(StageChange, AuditEvent).join(
        AuditEvent, AuditEvent.id == StageChange.audit_event_id, isouter=True).order_by(StageChange.id)).all()
    for change, event in rows:
        if event is None:
            if change.from_stage is not None:  # a first entry may predate the chain's event
                problems.append(RowProblem("stage_change", change.id, "no audit event records it"))
            continue
        payload = json.loads(event.payload)
        expected = {"from": change.from_stage, "to": change.to_stage, "reason": change.reason}
        for key, value in expected.items():
            if key in payload and payload[key] != value:
                problems.append(RowProblem("stage_change", change.id, f"{key} differs from its audit event"))
        if event.object_id != change.proposal_id:
            problems.append(RowProblem("stage_change", change.id, "proposal differs from its audit event"))
    return problems
