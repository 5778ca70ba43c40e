"""Binding the rows a decision rests on to the audit chain (记录绑定).

Every table listed in BOUND is watched: whenever the application inserts, changes or
removes one of its rows, the next audit event written in that transaction carries the
row's digest (SHA-256 of its canonical JSON, read back from the database), or null for
a removed row; a transaction that changed bound rows after its last event ends with one
`records.bound` event carrying them. Verification (app.records.integrity) reads every
bound table once, computes the same digests and compares each row with its latest one.

Binding is declared here, not in each service, so a row can never be forgotten: a new
service that changes a bound table is bound without a line of its own.

Two kinds of binding besides one digest per row:
- a roster is bound per poll (one digest over the poll's frozen roster, in id order),
  since opening a poll freezes thousands of rows at once;
- secret ballots are never bound one by one (a digest of a three-valued choice would
  reveal it). A closed poll binds its ballots as their multiset, the counts per choice,
  computed by SQL in `ballots_at_close`, so verification recounts the ballot table.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import event, func, select, tuple_
from sqlalchemy.orm import Session

from app.extensions import db

PENDING_KEY = "gongyi_audit_pending"
CHECKPOINT_DUE_KEY = "gongyi_checkpoint_due"  # the chains whose new head this transaction signs
LAST_PLACE_KEY = "gongyi_audit_last_place"  # (village_id, township_id) of the transaction's last event


@dataclass(frozen=True)
class Bound:
    table: str
    exclude: tuple[str, ...] = ()
    group_by: str | None = None  # one digest per value of this column instead of per row
    natural_key: tuple[str, ...] = ()  # unique columns that find a row written by a Core INSERT


# Every table a decision rests on (docs/record-format.md, "What the chain protects").
BOUND: dict[str, Bound] = {b.table: b for b in (
    Bound("proposal"),
    Bound("proposal_version"),
    Bound("stage_change"),
    Bound("authorisation"),
    Bound("suggestion"),
    Bound("suggestion_signature"),
    Bound("poll"),
    Bound("roster_entry", group_by="poll_id"),
    Bound("poll_participation", natural_key=("poll_id", "unit_key")),  # written by INSERT … ON CONFLICT
    Bound("poll_meeting"),
    Bound("poll_attendance"),
    Bound("poll_hall_count"),
    Bound("consultation_post"),
    Bound("stakeholder"),
    Bound("consultation_summary"),
    Bound("disagreement"),
    Bound("amendment"),
    Bound("sense_check"),
    Bound("role_grant"),
    Bound("objection"),
    Bound("report"),
    Bound("report_photo"),
    Bound("filing"),
)}

BALLOTS = "ballot"  # the key under which a closed poll's multiset of choices is bound
BULK_KEY = "gongyi_bulk_insert"
_DIGESTS = "digests"  # pending entry: {table: {id: digest}} of rows bound from RETURNING
IN_CHUNK = 5000  # ids per IN (…) list: below every database's limit on bound parameters


def _value(v):
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            v = v.astimezone(timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (bytes, memoryview)):
        return hashlib.sha256(bytes(v)).hexdigest()
    return v


def digest(values: dict) -> str:
    """SHA-256 of a row's canonical JSON: keys sorted, no spaces, UTF-8. Null columns are
    left out, so adding a nullable column to a table does not change old rows' digests."""
    body = json.dumps({k: _value(v) for k, v in values.items() if v is not None},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def table(name: str):
    return db.metadata.tables[name]


def bound_columns(spec: Bound) -> list:
    return [c for c in table(spec.table).columns if c.name not in spec.exclude]


def group_digest(rows: list[dict]) -> str:
    return digest({"rows": [digest(r) for r in rows]})


def ballots_at_close(poll_ids=None) -> dict[int, dict[str, int]]:
    """poll id → {choice: count} of the ballots of each closed poll, counted by the
    database. The one place that knows where closed ballots are kept."""
    poll, ballot = table("poll"), table("ballot")
    q = (select(ballot.c.poll_id, ballot.c.choice, func.count())
         .join(poll, poll.c.id == ballot.c.poll_id).where(poll.c.status == "closed")
         .group_by(ballot.c.poll_id, ballot.c.choice))
    if poll_ids is not None:
        q = q.where(ballot.c.poll_id.in_(list(poll_ids)))
    counts: dict[int, dict[str, int]] = {}
    for poll_id, choice, n in db.session.execute(q):
        counts.setdefault(poll_id, {})[choice] = n
    return counts


# --- Watching the session ------------------------------------------------------------

def _pending(session: Session) -> dict[str, set]:
    return session.info.setdefault(PENDING_KEY, {})


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _ctx) -> None:
    pending = None
    for obj, removed in [(o, False) for o in session.new] + [(o, False) for o in session.dirty] + \
                        [(o, True) for o in session.deleted]:
        name = getattr(getattr(obj, "__table__", None), "name", None)
        spec = BOUND.get(name)
        if spec is None:
            continue
        if not removed and obj not in session.new and not session.is_modified(obj, include_collections=False):
            continue
        key = getattr(obj, spec.group_by) if spec.group_by else obj.id
        if key is None:
            continue
        if pending is None:
            pending = _pending(session)
        pending.setdefault(name, set()).add(key)


@event.listens_for(Session, "do_orm_execute")
def _collect_core(state) -> None:
    """Rows changed by a statement rather than by the unit of work: an UPDATE or DELETE
    marks the rows its WHERE selects (found before it runs); an INSERT (or upsert) the
    row its natural key names."""
    stmt = state.statement
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    name = getattr(getattr(stmt, "table", None), "name", None)
    spec = BOUND.get(name)
    if spec is None:
        return
    session, t = state.session, table(name)
    pending = _pending(session)
    if state.is_insert and getattr(stmt, "select", None) is not None:
        if session.info.get(BULK_KEY) != name:
            raise RuntimeError(f"an INSERT … SELECT into the bound table {name} must run in insert_from_select()")
        return
    if state.is_insert:
        params = state.parameters
        rows = params if isinstance(params, list) else [params] if params else []
        if not rows:
            rows = [stmt.compile(dialect=session.get_bind().dialect).params]
        for row in rows:
            if spec.group_by and row.get(spec.group_by) is not None:
                pending.setdefault(name, set()).add(row[spec.group_by])
            elif row.get("id") is not None:
                pending.setdefault(name, set()).add(row["id"])
            elif spec.natural_key and all(row.get(c) is not None for c in spec.natural_key):
                pending.setdefault((name, "natural"), set()).add(tuple(row[c] for c in spec.natural_key))
            else:
                raise RuntimeError(f"an INSERT into the bound table {name} must name its id or natural key")
        return
    key_col = t.c[spec.group_by] if spec.group_by else t.c.id
    q = select(key_col)
    if stmt.whereclause is not None:
        q = q.where(stmt.whereclause)
    with session.no_autoflush:
        keys = set(session.execute(q).scalars())
    pending.setdefault(name, set()).update(keys)


def bind_row(session: Session, name: str, row) -> None:
    """Bind a row of a bound table as a write's RETURNING gave it (the whole row, as a
    mapping), without reading it back: its digest goes to the transaction's next event.
    The write must run on the transaction's connection (db.session.connection()), past
    this module's session hook, which would otherwise mark the row a second time."""
    spec = BOUND[name]
    values = {c.name: row[c.name] for c in bound_columns(spec)}
    _pending(session).setdefault(_DIGESTS, {}).setdefault(name, {})[values["id"]] = digest(values)


@contextmanager
def insert_from_select(session: Session, name: str, written):
    """Around a set-based INSERT … SELECT into a bound table, which names no ids: after
    it, the rows that `written` (a WHERE clause on that table) selects are bound like
    any other row the transaction wrote."""
    session.info[BULK_KEY] = name
    try:
        yield
    finally:
        session.info.pop(BULK_KEY, None)
    t = table(name)
    with session.no_autoflush:
        ids = session.execute(select(t.c.id).where(written)).scalars()
        _pending(session).setdefault(name, set()).update(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for key in (PENDING_KEY, CHECKPOINT_DUE_KEY, LAST_PLACE_KEY):
            session.info.pop(key, None)


@event.listens_for(Session, "after_commit")
def _done(session: Session) -> None:
    for key in (PENDING_KEY, CHECKPOINT_DUE_KEY, LAST_PLACE_KEY):
        session.info.pop(key, None)


@event.listens_for(Session, "before_commit")
def _bind_the_rest(session: Session) -> None:
    """Rows changed after the transaction's last event get one event of their own, in
    the chain of that last event (so a village's transaction never touches another
    chain's head); then, if the transaction closed a poll or filed a record, the new
    head of that event's chain is signed."""
    try:
        ours = db.session.registry.has() and db.session() is session
    except RuntimeError:  # outside an application context
        ours = False
    if not ours:
        return  # a session of its own (a migration, a script): nothing of the app's to bind
    session.flush()
    if session.info.get(PENDING_KEY):
        from app.records.audit import record_event

        village_id, township_id = session.info.get(LAST_PLACE_KEY) or (None, None)
        record_event("records.bound", village_id=village_id, township_id=township_id)
    due = session.info.pop(CHECKPOINT_DUE_KEY, None)
    if due:
        from app.records.checkpoints import sign_checkpoints

        sign_checkpoints(sorted(due))


def take_pending_bindings(session: Session) -> dict:
    """The digests of the rows changed since the last event, read back from the
    database, as an event's "rows" payload: {table: {id: digest or null}}; for a closed
    poll also {"ballot": {poll id: {choice: count}}}. Empties the list."""
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return {}
    out: dict[str, dict] = {}
    closed_polls: set[int] = set()
    returned = pending.pop(_DIGESTS, {})
    with session.no_autoflush:
        for entry in [k for k in pending if isinstance(k, tuple)]:
            name = entry[0]
            t, natural = table(name), BOUND[name].natural_key
            found_ids = session.execute(select(t.c.id).where(
                tuple_(*(t.c[c] for c in natural)).in_(sorted(pending.pop(entry))))).scalars()
            pending.setdefault(name, set()).update(found_ids)
        for name in sorted(pending):
            spec, keys = BOUND[name], sorted(pending[name])
            t = table(name)
            cols = bound_columns(spec)
            found: dict = {}
            if spec.group_by:
                col = t.c[spec.group_by]
                groups: dict = {}
                for row in session.execute(select(*cols).where(col.in_(keys)).order_by(col, t.c.id)).mappings():
                    groups.setdefault(row[spec.group_by], []).append(dict(row))
                found = {k: group_digest(v) for k, v in groups.items()}
            else:
                for i in range(0, len(keys), IN_CHUNK):  # an import binds thousands of rows at once
                    chunk = keys[i:i + IN_CHUNK]
                    for row in session.execute(select(*cols).where(t.c.id.in_(chunk))).mappings():
                        found[row["id"]] = digest(dict(row))
                        if name == "poll" and row["status"] == "closed":
                            closed_polls.add(row["id"])
            out[name] = {str(k): found.get(k) for k in keys}
        for name, digests in returned.items():  # a row also read back above keeps the later digest
            rows = out.setdefault(name, {})
            for k, d in digests.items():
                rows.setdefault(str(k), d)
        if closed_polls:
            counts = ballots_at_close(closed_polls)
            out[BALLOTS] = {str(pid): dict(sorted(counts.get(pid, {}).items())) for pid in sorted(closed_polls)}
    return out
