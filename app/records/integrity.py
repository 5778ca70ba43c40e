"""Do the rows a decision rests on still say what the audit chain says they said?

One pass: every chain is read once in order (checking every hash and link, and keeping
for each bound row the digest its latest event, installation-wide, gave it), then every bound table is
read once in id order and each row compared with that digest. Derived state is checked
against the events and rows already read: a proposal's stage is its last stage move,
the current roles are the grants minus the revocations, and a closed poll's ballots
recount to the multiset bound at close and to the stored tally. The number of queries
is fixed (one per bound table and a few more), whatever the number of rows.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.records.audit import GENESIS, INSTALLATION, ChainBreak, ChainReport, chain_key, hash_of
from app.records.binding import BALLOTS, BOUND, ballots_at_close, bound_columns, digest, group_digest, table
from app.records.models import AuditEvent, AuditHead


@dataclass(frozen=True)
class RowProblem:
    """A row that no longer matches the chain. `problem` is said in the language of
    whoever reads it (a lazy text: the check's page in theirs, the command in English)."""

    table: str
    row_id: int | str
    problem: str
    seq: int | None = None  # the audit event the row should match: its seq in its chain…
    chain: str | None = None  # …and its chain

    @property
    def event(self) -> str:
        return f"{self.chain}:{self.seq}" if self.seq else ""

    def __str__(self) -> str:
        """The row as an overseer reads it: what it is and its number, the problem, and
        the event it should match (the command names the table instead)."""
        what = TABLE_LABELS.get(self.table, self.table)
        if self.seq:
            return str(_l("%(what)s %(id)s: %(problem)s (audit event %(event)s)", what=what,
                          id=self.row_id, problem=self.problem, event=self.event))
        return str(_l("%(what)s %(id)s: %(problem)s", what=what, id=self.row_id, problem=self.problem))


# What each bound table holds, in words, for the check's page.
TABLE_LABELS = {
    "proposal": _l("Proposal"), "proposal_version": _l("Proposal text version"),
    "stage_change": _l("Stage move"), "authorisation": _l("Authorisation"), "suggestion": _l("Suggestion"),
    "suggestion_signature": _l("Signature under a suggestion"), "poll": _l("Poll"),
    "roster_entry": _l("Voter roster of poll"), "poll_participation": _l("Vote taken part in"),
    "poll_meeting": _l("Meeting"), "poll_attendance": _l("Meeting sign-in"),
    "poll_hall_count": _l("Scrutineers' paper count"), "consultation_post": _l("Consultation opinion"),
    "stakeholder": _l("Person concerned"), "consultation_summary": _l("Consultation summary"),
    "disagreement": _l("Disagreement"), "amendment": _l("Amendment"), "sense_check": _l("Sense check"),
    "role_grant": _l("Role"), "objection": _l("Objection"), "report": _l("Implementation report"),
    "report_photo": _l("Report photo"), "filing": _l("Filing with the township"), "ballot": _l("Ballots"),
}


@dataclass
class Verification:
    chain: ChainReport
    rows: list[RowProblem] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.rows and not self.checkpoints


@dataclass
class _Walk:
    latest: dict = field(default_factory=dict)  # (table, key) → (digest or None, event id, chain, seq)
    roles: set = field(default_factory=set)  # (person, role, village, township) granted and not revoked
    hashes: dict = field(default_factory=dict)  # (chain, seq) → hash, for those asked about
    last_seqs: dict = field(default_factory=dict)  # chain → its last seq


class _Chain:
    """Where the walk stands in one chain."""

    def __init__(self, key: str):
        self.key, self.prev, self.expected, self.broken = key, GENESIS, 1, False


def walk_chains(want: set[tuple[str, int]]) -> tuple[ChainReport, _Walk]:
    """One pass over every chain (one query, ordered by chain and seq) and one over the
    heads: the first broken link of each chain, and what the bound rows should be."""
    walk = _Walk()
    breaks: list[ChainBreak] = []
    roles: list[tuple] = []  # role events in installation order, applied after the walk
    state: _Chain | None = None
    checked = 0
    ev = AuditEvent
    stmt = select(ev.id, ev.chain, ev.seq, ev.at, ev.kind, ev.village_id, ev.township_id, ev.actor_id,
                  ev.object_type, ev.object_id, ev.payload, ev.prev_hash, ev.hash).order_by(ev.chain, ev.seq)
    for row in db.session.execute(stmt.execution_options(yield_per=5000)):
        if state is None or state.key != row.chain:
            if state is not None:
                walk.last_seqs[state.key] = state.expected - 1
            state = _Chain(row.chain)
        if state.broken:
            continue
        problem = None
        if row.seq != state.expected:
            problem = (state.expected, _l("event %(seq)s is missing (next present is %(next)s)",
                                          seq=state.expected, next=row.seq))
        elif row.prev_hash != state.prev:
            problem = (row.seq, _l("does not link to the event before it"))
        elif hash_of(row) != row.hash:
            problem = (row.seq, _l("its contents (or its chain) do not match its hash"))
        elif row.chain != INSTALLATION and row.chain != chain_key(row.village_id, row.township_id):
            problem = (row.seq, _l("its village or township belongs to another chain"))
        if problem is not None:
            breaks.append(ChainBreak(row.chain, problem[0], row.id, problem[1]))
            state.broken = True
            continue
        if (row.chain, row.seq) in want:
            walk.hashes[(row.chain, row.seq)] = row.hash
        payload, kind = row.payload, row.kind
        if '"rows"' in payload or kind.startswith("role.") or kind == "people.imported":
            data = json.loads(payload)
            for name, bound in (data.get("rows") or {}).items():
                for key, value in bound.items():
                    known = walk.latest.get((name, key))
                    if known is None or known[1] < row.id:
                        walk.latest[(name, key)] = (value, row.id, row.chain, row.seq)
            if kind in ("role.granted", "role.revoked", "people.imported"):
                roles.append((row.id, kind, row.object_id, row.village_id, row.township_id, data))
        state.prev = row.hash
        state.expected += 1
        checked += 1
    if state is not None:
        walk.last_seqs[state.key] = state.expected - 1
    heads = {c: (s, h) for c, s, h in db.session.execute(select(AuditHead.chain, AuditHead.seq, AuditHead.hash))}
    walked = {b.chain for b in breaks}
    for chain, last in sorted(walk.last_seqs.items()):
        if chain in walked:
            continue
        if chain not in heads:
            breaks.append(ChainBreak(chain, last, None, _l("the chain has no head row: it was removed")))
        elif heads[chain][0] != last:
            breaks.append(ChainBreak(chain, last + 1, None, _l(
                "the chain ends at event %(last)s but its head says %(head)s: events were removed from the end",
                last=last, head=heads[chain][0])))
    for chain, (seq, _hash) in sorted(heads.items()):
        if chain not in walk.last_seqs and seq > 0:
            breaks.append(ChainBreak(chain, 1, None, _l(
                "the chain has no events but its head says %(head)s: every event was removed", head=seq)))
            walk.last_seqs[chain] = 0
    for _id, kind, object_id, village_id, township_id, data in sorted(roles, key=lambda r: r[0]):
        if kind == "role.granted":
            walk.roles.add((object_id, data.get("role"), village_id, township_id))
        elif kind == "people.imported":  # a CSV import grants its roles in one event
            walk.roles.update((pid, role, village_id, None) for pid, role in data.get("grants") or ())
        else:
            walk.roles = {g for g in walk.roles
                          if not (g[0] == object_id and g[1] == data.get("role") and g[2] == village_id)}
    breaks.sort(key=lambda b: b.chain)
    report = ChainReport(not breaks, checked, breaks, len(set(walk.last_seqs) | set(heads)))
    return report, walk


def _compare(problems: list, name: str, key, actual: str | None, walk: _Walk) -> None:
    bound = walk.latest.pop((name, str(key)), None)
    if bound is None:
        if actual is not None:
            problems.append(RowProblem(name, key, UNBOUND))
        return
    expected, _id, chain, seq = bound
    if expected == actual:
        return
    if actual is None:
        problem = _l("the row was removed, but its audit event records it")
    elif expected is None:
        problem = _l("the row is present, but its audit event records it as removed")
    else:
        problem = _l("its contents differ from its audit event")
    problems.append(RowProblem(name, key, problem, seq, chain))


def _file_sha256(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None


def _check_rows(walk: _Walk) -> list[RowProblem]:
    problems: list[RowProblem] = []
    kept: dict[str, list[dict]] = {}  # rows the derived checks need
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    for name, spec in BOUND.items():
        t = table(name)
        cols = bound_columns(spec)
        order = (t.c[spec.group_by], t.c.id) if spec.group_by else (t.c.id,)
        rows = [dict(r) for r in db.session.execute(select(*cols).order_by(*order)).mappings()]
        if spec.group_by:
            groups: dict = {}
            for r in rows:
                groups.setdefault(r[spec.group_by], []).append(r)
            for key, members in groups.items():
                _compare(problems, name, key, group_digest(members), walk)
        else:
            for r in rows:
                _compare(problems, name, r["id"], digest(r), walk)
        if name in ("proposal", "stage_change", "role_grant", "poll"):
            kept[name] = rows
        if name == "report_photo":
            for r in rows:
                if _file_sha256(upload_dir / r["stored_name"]) != r["sha256"]:
                    problems.append(RowProblem(name, r["id"], _l("the photo file on disk differs from its "
                                                                 "recorded SHA-256 (replaced or missing)")))
    # Bound rows that are gone from their tables.
    for (name, key), (expected, _id, chain, seq) in sorted(walk.latest.items(), key=lambda kv: kv[1][1]):
        if name != BALLOTS and expected is not None:
            problems.append(RowProblem(name, int(key) if key.isdigit() else key,
                                       _l("the row was removed, but its audit event records it"), seq, chain))
    problems += _check_derived(kept, walk)
    return problems


def _check_derived(kept: dict[str, list[dict]], walk: _Walk) -> list[RowProblem]:
    problems: list[RowProblem] = []
    last_move: dict[int, dict] = {}
    for change in kept["stage_change"]:
        last_move[change["proposal_id"]] = change
    for p in kept["proposal"]:
        move = last_move.get(p["id"])
        if move is not None and move["to_stage"] != p["stage"]:
            problems.append(RowProblem("proposal", p["id"], _l(
                "its stage “%(stage)s” is not where its last stage move (stage_change %(move)s) led",
                stage=p["stage"], move=move["id"])))
    granted = {(g["person_id"], g["role"], g["village_id"], g["township_id"]): g["id"] for g in kept["role_grant"]}
    for key in sorted(set(granted) - walk.roles, key=str):
        problems.append(RowProblem("role_grant", granted[key], _l("no role.granted event gives this role")))
    for person_id, role, village_id, township_id in sorted(walk.roles - set(granted), key=str):
        problems.append(RowProblem("role_grant", _l("person %(id)s", id=person_id), _l(
            "the role “%(role)s” was granted and not revoked, but the grant is missing", role=role)))
    recount = ballots_at_close()
    for poll in kept["poll"]:
        if poll["status"] != "closed":
            continue
        counted = {c: n for c, n in recount.get(poll["id"], {}).items() if n}
        bound = walk.latest.get((BALLOTS, str(poll["id"])))
        if bound is None:
            problems.append(RowProblem("ballot", _l("poll %(id)s", id=poll["id"]),
                                       _l("no audit event records the ballots at close")))
        elif {c: n for c, n in (bound[0] or {}).items() if n} != counted:
            problems.append(RowProblem("ballot", _l("poll %(id)s", id=poll["id"]),
                                       _l("the ballots do not recount to the choices recorded at close"),
                                       bound[3], bound[2]))
        tally = json.loads(poll["tally_json"]) if poll.get("tally_json") else {}
        # A secret poll's paper ballots are counted by the scrutineers as totals (tally
        # "hall", bound with poll_hall_count); the ballot table holds the phone ballots.
        hall = tally.get("hall") or {}
        stored = {c: tally.get(c, 0) - (hall.get(c) or 0) for c in ("yes", "no", "abstain")}
        stored = {c: n for c, n in stored.items() if n}
        if stored != counted:
            problems.append(RowProblem("poll", poll["id"],
                                       _l("its stored tally does not equal the count of its ballots")))
    return problems


def verify_everything(checkpoints=()) -> Verification:
    """Every chain, every bound row, derived state and the given checkpoints (Claims:
    chain, seq, hash), plus every stored checkpoint's signature."""
    from app.records.checkpoints import check_checkpoints, stored_checkpoints

    stored = stored_checkpoints()
    want = {(c.chain, c.seq) for c in checkpoints} | {(c.chain, c.seq) for c in stored}
    report, walk = walk_chains(want)
    result = Verification(report)
    result.checkpoints, result.checkpoints_checked = check_checkpoints(list(checkpoints), stored, walk.hashes,
                                                                       walk.last_seqs if report.ok else None)
    if report.ok:
        result.rows = _check_rows(walk)
    return result


UNBOUND = _l("no audit event records it")


def bind_unbound_rows() -> int:
    """Bind every row no event records yet, in one `records.adopted` event (flushes,
    never commits): for an installation whose rows predate the binding. Rows whose
    digest differs are left alone, so a changed row stays visible. Returns the count.

    :raises ValueError: the chain itself is broken.
    """
    from app.records.audit import record_event
    from app.records.binding import PENDING_KEY

    report, walk = walk_chains(set())
    if not report.ok:
        raise ValueError(report.problem)
    problems = [p for p in _check_rows(walk) if p.problem is UNBOUND and isinstance(p.row_id, int)]
    rows = [p for p in problems if p.table in BOUND]
    if not rows:
        return 0
    session = db.session()
    pending = session.info.setdefault(PENDING_KEY, {})
    for p in rows:
        pending.setdefault(p.table, set()).add(p.row_id)
    record_event("records.adopted", payload={"count": len(rows)})
    return len(rows)


def verify_records() -> list[RowProblem]:
    """Every bound row checked against its latest audit event (the chain walked once)."""
    report, walk = walk_chains(set())
    return _check_rows(walk) if report.ok else []
