"""Writing the audit chains (审计链): one per village, one per township, one for the
installation.

An event belongs to its village's chain when it carries a village_id, else to its
township's, else to the installation chain (`chain_key`). Appending locks only that
chain's head row, so votes in two villages never wait for each other, and each
village's record stands alone for its township: it verifies, and is checkpointed,
without anyone else's events. Events written before the chains were split stay in the
installation chain, where they were hashed (docs/record-format.md, "Upgrading").
The autoincrement id orders all events installation-wide; it is an order, not a
proof: only the links within a chain are hashed.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select

from app.accounts.models import utcnow
from app.database import DriverStatement, dialect_insert, transaction_connection
from app.extensions import db
from app.records.binding import CHECKPOINT_DUE_KEY, LAST_PLACE_KEY, take_pending_bindings
from app.records.models import AuditEvent, AuditHead

GENESIS = "0" * 64
INSTALLATION = "i"  # the installation chain's key; "v12" is village 12's, "t3" township 3's
CHAIN_RE = re.compile(r"^(i|v[1-9][0-9]*|t[1-9][0-9]*)$")
# Events after which the transaction signs a checkpoint of their chain as it commits
# (app.records.checkpoints).
CHECKPOINT_KINDS = frozenset({"poll_closed", "record.filed"})


def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def chain_key(village_id: int | None, township_id: int | None) -> str:
    """The chain an event of this village or township belongs to."""
    if village_id is not None:
        return f"v{village_id}"
    if township_id is not None:
        return f"t{township_id}"
    return INSTALLATION


def event_hash(prev_hash: str, seq: int, at: datetime, kind: str, village_id, township_id,
               actor_id, object_type, object_id, payload: str, chain: str = INSTALLATION) -> str:
    """SHA-256 of the event's canonical JSON. The body names its chain, except in the
    installation chain, whose body keeps the form of events written before there were
    chains; either way an event moved to another chain no longer matches its hash."""
    fields = {
        "prev": prev_hash, "seq": seq, "at": at.isoformat(timespec="microseconds"), "kind": kind,
        "village_id": village_id, "township_id": township_id, "actor_id": actor_id,
        "object_type": object_type, "object_id": object_id, "payload": payload,
    }
    if chain != INSTALLATION:
        fields["chain"] = chain
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def hash_of(ev) -> str:
    """The hash an event (an AuditEvent or a row with the same fields) should have."""
    return event_hash(ev.prev_hash, ev.seq, ev.at, ev.kind, ev.village_id, ev.township_id, ev.actor_id,
                      ev.object_type, ev.object_id, ev.payload, ev.chain)


@cache
def _append_statements() -> dict:
    """The append's two statements, compiled once per database and run on the driver
    (app.database.DriverStatement): every vote writes an event, under the write lock."""
    head, ev = AuditHead.__table__, AuditEvent.__table__
    return {"head": DriverStatement(lambda _dialect: select(head.c.seq, head.c.hash)
                                    .where(head.c.chain == bindparam("chain")).with_for_update()),
            # An INSERT, not the unit of work: one row whose id is all the caller needs back.
            "event": DriverStatement(lambda _dialect: insert(ev).values(
                {c: bindparam(c, type_=ev.c[c].type) for c in _EVENT_COLUMNS}).returning(ev.c.id))}


_EVENT_COLUMNS = ("chain", "seq", "at", "kind", "village_id", "township_id", "actor_id", "object_type",
                  "object_id", "payload", "prev_hash", "hash")


def _locked_head(chain: str):
    """(seq, hash) of the chain's head, its row locked until the transaction ends: one
    statement; a chain's first event also creates its head (one more)."""
    # The chain's tables are not bound rows: straight on the transaction's connection.
    rows = _append_statements()["head"].run(transaction_connection(db.session), {"chain": chain})
    if rows:
        return rows[0]["seq"], rows[0]["hash"]
    # Two first events of one chain at once: the second waits for the first's row.
    t = AuditHead.__table__
    stmt = dialect_insert(db.session.get_bind().dialect.name)(t).values(chain=chain, seq=0, hash=GENESIS)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.chain], set_={"chain": stmt.excluded.chain})
    return tuple(db.session.execute(stmt.returning(t.c.seq, t.c.hash)).one())


@dataclass(frozen=True)
class AppendedEvent:
    """An event as record_event wrote it: its row's values, id included (the event's
    row itself can be read as an AuditEvent; the append does not build one)."""

    id: int
    chain: str
    seq: int
    at: datetime
    kind: str
    village_id: int | None
    township_id: int | None
    actor_id: int | None
    object_type: str | None
    object_id: int | None
    payload: str
    prev_hash: str
    hash: str


def record_event(kind: str, *, actor=None, village_id: int | None = None, township_id: int | None = None,
                 obj=None, object_type: str | None = None, object_id: int | None = None,
                 payload: dict | None = None) -> AppendedEvent:
    """Append one event to its chain in the caller's transaction (flushes, never commits).

    Two statements on a chain whose head exists (the head's SELECT … FOR UPDATE and the
    event's INSERT, whose trigger moves the head), besides reading back the bound rows
    this transaction changed since its last event, which the event carries under
    "rows" (app.records.binding). Returns what it wrote (AppendedEvent).

    The payload must never hold a secret ballot's choice; callers pass only what may be
    read by an overseer years later.
    """
    db.session.flush()
    session = db.session()
    if obj is not None:
        object_type = object_type or obj.__tablename__
        if object_id is None:
            object_id = obj.id
    payload = dict(payload or {})
    chain = chain_key(village_id, township_id)
    if kind in CHECKPOINT_KINDS:
        session.info.setdefault(CHECKPOINT_DUE_KEY, set()).add(chain)
    rows = take_pending_bindings(session)
    if rows:
        payload["rows"] = rows
    head_seq, head_hash = _locked_head(chain)
    seq = head_seq + 1
    at = utcnow()
    body = canonical_json(payload)
    actor_id = actor.id if actor is not None and hasattr(actor, "id") else None
    digest = event_hash(head_hash, seq, at, kind, village_id, township_id, actor_id, object_type,
                        object_id, body, chain)
    values = {"chain": chain, "seq": seq, "at": at, "kind": kind, "village_id": village_id,
              "township_id": township_id, "actor_id": actor_id, "object_type": object_type,
              "object_id": object_id, "payload": body, "prev_hash": head_hash, "hash": digest}
    (event,) = _append_statements()["event"].run(transaction_connection(session), values)
    event_id = event["id"]
    session.info[LAST_PLACE_KEY] = (village_id, township_id)
    return AppendedEvent(id=event_id, **values)


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link of one chain."""

    chain: str
    seq: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        at = f" (id={self.event_id})" if self.event_id is not None else ""
        return f"chain {self.chain} event seq={self.seq}{at}: {self.problem}"


@dataclass
class ChainReport:
    ok: bool
    checked: int
    breaks: list[ChainBreak] = field(default_factory=list)  # one per broken chain, in chain order
    chains: int = 0

    @property
    def first(self) -> ChainBreak | None:
        return self.breaks[0] if self.breaks else None

    @property
    def broken_chain(self) -> str | None:
        return self.first.chain if self.first else None

    @property
    def broken_seq(self) -> int | None:
        return self.first.seq if self.first else None

    @property
    def broken_id(self) -> int | None:
        return self.first.event_id if self.first else None

    @property
    def problem(self) -> str | None:
        return self.first.problem if self.first else None


def verify_chain() -> ChainReport:
    """Walk every chain; name the first event of each that does not link or hash."""
    from app.records.integrity import walk_chains

    return walk_chains(set())[0]
