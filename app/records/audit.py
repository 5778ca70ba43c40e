"""Writing and verifying the audit chain (审计链).

One chain for the whole installation rather than one per village: a township filing,
a role change by an admin and a village's ballots all sit in one order, verification
is one pass, and removing any row breaks every later link, whichever village it
belongs to. Events still carry village_id/township_id, so each village's slice can be
read (and each link checked) on its own.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.accounts.models import utcnow
from app.extensions import db
from app.records.binding import CHECKPOINT_DUE_KEY, take_pending_bindings
from app.records.models import AuditEvent, AuditHead

GENESIS = "0" * 64
# Events after which the transaction signs a checkpoint as it commits (app.records.checkpoints).
CHECKPOINT_KINDS = frozenset({"poll_closed", "record.filed"})


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, seq: int, at: datetime, kind: str, village_id, township_id,
               actor_id, object_type, object_id, payload: str) -> str:
    body = canonical_json({
        "prev": prev_hash, "seq": seq, "at": at.isoformat(timespec="microseconds"), "kind": kind,
        "village_id": village_id, "township_id": township_id, "actor_id": actor_id,
        "object_type": object_type, "object_id": object_id, "payload": payload,
    })
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _locked_head() -> AuditHead:
    head = db.session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def record_event(kind: str, *, actor=None, village_id: int | None = None, township_id: int | None = None,
                 obj=None, object_type: str | None = None, object_id: int | None = None,
                 payload: dict | None = None) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (flushes, never commits).

    The event also carries, under "rows", the digests of the bound rows this
    transaction changed since its last event (app.records.binding).

    The payload must never hold a secret ballot's choice; callers pass only what may be
    read by an overseer years later.
    """
    db.session.flush()
    if obj is not None:
        object_type = object_type or obj.__tablename__
        if object_id is None:
            object_id = obj.id
    payload = dict(payload or {})
    if kind in CHECKPOINT_KINDS:
        db.session().info[CHECKPOINT_DUE_KEY] = True
    rows = take_pending_bindings(db.session())
    if rows:
        payload["rows"] = rows
    head = _locked_head()
    seq = head.seq + 1
    at = utcnow()
    body = canonical_json(payload)
    actor_id = actor.id if actor is not None and hasattr(actor, "id") else None
    digest = event_hash(head.hash, seq, at, kind, village_id, township_id, actor_id, object_type,
                        object_id, body)
    event = AuditEvent(seq=seq, at=at, kind=kind, village_id=village_id, township_id=township_id,
                       actor_id=actor_id, object_type=object_type, object_id=object_id,
                       payload=body, prev_hash=head.hash, hash=digest)
    db.session.add(event)
    head.seq, head.hash = seq, digest
    db.session.flush()
    return event


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None


def verify_chain() -> ChainReport:
    """Walk the whole chain in order; name the first event that does not link or hash."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for ev in rows:
        if ev.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, ev.id,
                               f"event {expected_seq} is missing (next present is {ev.seq})")
        if ev.prev_hash != prev:
            return ChainReport(False, checked, ev.seq, ev.id, "does not link to the event before it")
        digest = event_hash(ev.prev_hash, ev.seq, ev.at, ev.kind, ev.village_id, ev.township_id,
                            ev.actor_id, ev.object_type, ev.object_id, ev.payload)
        if digest != ev.hash:
            return ChainReport(False, checked, ev.seq, ev.id, "its contents do not match its hash")
        prev = ev.hash
        expected_seq += 1
        checked += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(False, checked, checked + 1, None,
                           f"the chain ends at event {checked} but its head says {head.seq}: "
                           "events were removed from the end")
    return ChainReport(True, checked)
