"""One audit chain per village (and per township, and one for the installation): where
an event goes, what an append costs, that votes in two villages never wait for each
other on PostgreSQL, that each chain is checkpointed and shown where its village
looks, and that an installation upgraded from the single chain still verifies."""
from __future__ import annotations

import hashlib
import json
import re
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.records.audit import GENESIS, event_hash, record_event, verify_chain
from app.records.models import AuditCheckpoint, AuditEvent, AuditHead
from tests.conftest import ON_POSTGRES
from tests.factories import make_township, make_village
from tests.migrated import MIGRATIONS, app_on_its_own_database
from tests.statements import counting_statements

LINE_RE = re.compile(r'<code class="checkpoint-line">(gongyi-checkpoint:[0-9a-z:]+)</code>')


def _canonical(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _rehash(e: dict) -> str:
    """An event's hash from its exported fields, as a township would recompute it with
    nothing but docs/record-format.md (no code of ours)."""
    body = {"prev": e["prev_hash"], "seq": e["seq"], "at": e["hashed_at"], "kind": e["kind"],
            "village_id": e["village_id"], "township_id": e["township_id"], "actor_id": e["actor_id"],
            "object_type": e["object_type"], "object_id": e["object_id"], "payload": _canonical(e["payload"])}
    if e["chain"] != "i":
        body["chain"] = e["chain"]
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def test_an_event_goes_to_its_villages_chain_else_its_townships_else_the_installations(db):
    village = make_village()
    other = make_village(village.township)
    db.session.commit()
    events = [record_event("test.place", village_id=village.id, township_id=village.township_id),
              record_event("test.place", village_id=other.id, township_id=village.township_id),
              record_event("test.place", township_id=village.township_id),
              record_event("test.place"),
              record_event("test.place", village_id=village.id)]
    chains = [(e.chain, e.seq) for e in events]
    assert chains[0][0] == f"v{village.id}" and chains[1][0] == f"v{other.id}"
    assert chains[2][0] == f"t{village.township_id}" and chains[3][0] == "i"
    assert chains[4] == (f"v{village.id}", chains[0][1] + 1)  # each chain counts on its own
    assert events[4].prev_hash == events[0].hash and events[1].prev_hash != events[0].hash
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain == f"v{village.id}")).one()
    assert tuple(head) == (events[4].seq, events[4].hash)  # moved by the insert's trigger
    assert verify_chain().ok


def test_the_hash_covers_the_chain_and_the_installation_chain_keeps_the_old_form():
    from datetime import datetime

    at = datetime(2026, 12, 1, 8, 0, 0, 123456)
    args = (GENESIS, 1, at, "k", 3, 1, None, None, None, "{}")
    old = hashlib.sha256(_canonical({
        "prev": GENESIS, "seq": 1, "at": "2026-12-01T08:00:00.123456", "kind": "k", "village_id": 3,
        "township_id": 1, "actor_id": None, "object_type": None, "object_id": None, "payload": "{}"}).encode()).hexdigest()
    assert event_hash(*args, "i") == old  # events hashed before there were chains still match
    assert len({event_hash(*args, c) for c in ("i", "v3", "v4", "t1")}) == 4


def test_appending_to_a_chain_whose_head_exists_costs_two_statements(db):
    """The cast path counts on it: the head's SELECT … FOR UPDATE and the INSERT."""
    village_id = make_village().id
    db.session.commit()
    with counting_statements() as first:
        record_event("test.first", village_id=village_id)
    with counting_statements() as seen:
        event = record_event("test.second", village_id=village_id, payload={"n": 1})
    assert len(first) == 3, first  # the chain's first event also creates its head
    assert len(seen) == 2, seen
    assert seen[0].lstrip().upper().startswith("SELECT") and "audit_head" in seen[0]
    if ON_POSTGRES:
        assert "FOR UPDATE" in seen[0]
    assert seen[1].lstrip().startswith("INSERT INTO audit_event")
    assert event.seq == 2 and verify_chain().ok


@pytest.mark.parametrize("change", [{"seq": 5}, {"prev_hash": "f" * 64}])
def test_the_database_refuses_an_event_that_does_not_continue_its_chains_head(db, change):
    village = make_village()
    last = record_event("test.one", village_id=village.id)
    row = {"chain": last.chain, "seq": last.seq + 1, "at": last.at, "kind": "forged", "payload": "{}",
           "prev_hash": last.hash, "hash": "e" * 64, "village_id": village.id, **change}
    with pytest.raises(DBAPIError, match="continue its chain"):
        with db.session.begin_nested():
            db.session.execute(AuditEvent.__table__.insert().values(**row))
    assert verify_chain().ok


def test_the_trailing_records_bound_event_stays_in_the_village_chain(db, cast, proposal_in):
    """A transaction that changed bound rows after its last event ends with one more
    event: in the chain of that last event, never the installation's."""
    proposal = proposal_in("draft")
    db.session.commit()
    record_event("test.touch", village_id=cast.village.id, obj=proposal)
    proposal.title = "改过的标题"
    db.session.commit()
    bound = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "records.bound")
                               .order_by(AuditEvent.id.desc())).first()
    assert bound.chain == f"v{cast.village.id}"
    assert str(proposal.id) in json.loads(bound.payload)["rows"]["proposal"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.chain == "i")) == 0


def test_verify_costs_the_same_statements_whatever_the_number_of_chains(db):
    from app.records.integrity import verify_everything

    township = make_township()
    record_event("test.one", village_id=make_village(township).id)
    db.session.commit()
    with counting_statements() as before:
        assert verify_everything().ok
    for _ in range(6):
        v = make_village(township)
        for i in range(3):
            record_event("test.more", village_id=v.id, payload={"i": i})
    db.session.commit()
    with counting_statements() as after:
        result = verify_everything()
    assert result.ok and result.chain.chains >= 7
    assert len(after) == len(before)


def test_the_daily_command_signs_every_chain_whose_head_moved_and_only_those(db, runner):
    a, b = make_village(), make_village()
    record_event("test.a", village_id=a.id)
    record_event("test.b", village_id=b.id)
    db.session.commit()
    first = runner.invoke(args=["audit", "checkpoint", "--sign"])
    assert first.exit_code == 0, first.output
    signed = {c for c, in db.session.execute(select(AuditCheckpoint.chain))}
    assert {f"v{a.id}", f"v{b.id}"} <= signed
    n = db.session.scalar(select(func.count()).select_from(AuditCheckpoint))
    record_event("test.a2", village_id=a.id)
    db.session.commit()
    assert runner.invoke(args=["audit", "checkpoint", "--sign"]).exit_code == 0
    new = db.session.scalars(select(AuditCheckpoint.chain).order_by(AuditCheckpoint.id).offset(n)).all()
    assert new == [f"v{a.id}"]  # village b's head did not move
    shown = runner.invoke(args=["audit", "checkpoint", "--chain", f"v{b.id}"])
    assert shown.exit_code == 0 and shown.output.startswith(f"gongyi-checkpoint:v{b.id}:")


def test_each_village_board_shows_its_own_chains_checkpoint(db, client):
    from app.records.checkpoints import sign_checkpoints

    a, b = make_village(), make_village()
    record_event("test.a", village_id=a.id)
    record_event("test.b", village_id=b.id)
    sign_checkpoints()
    db.session.commit()
    for village in (a, b):
        line = LINE_RE.search(client.get(f"/board/{village.id}").get_data(as_text=True)).group(1)
        assert line.split(":")[1] == f"v{village.id}"


def test_a_chain_qualified_checkpoint_is_verified_against_that_chain_only(db, runner):
    a, b = make_village(), make_village()
    ea = record_event("test.a", village_id=a.id)
    record_event("test.b", village_id=b.id)
    installation = record_event("test.i")
    db.session.commit()
    ok = runner.invoke(args=["audit", "verify", "--checkpoint", f"v{a.id}:{ea.seq}:{ea.hash}",
                             "--checkpoint", f"{installation.seq}:{installation.hash}"])  # old form: chain i
    assert ok.exit_code == 0, ok.output
    wrong = runner.invoke(args=["audit", "verify", "--checkpoint", f"v{b.id}:{ea.seq}:{ea.hash}"])
    assert wrong.exit_code == 1 and f"v{b.id}:{ea.seq}:" in wrong.output
    bad = runner.invoke(args=["audit", "verify", "--checkpoint", f"x{a.id}:{ea.seq}:{ea.hash}"])
    assert bad.exit_code == 2 and "not a checkpoint" in bad.output


def test_an_exported_village_chain_rehashes_from_the_json_alone(cast, proposal_in, db, login_as):
    from app.deliberation import engine
    from app.records import services

    proposal = proposal_in("draft")
    engine.transition(proposal, "topic_consultation", cast.committee)
    services.note_export(proposal, cast.overseer, "json")
    db.session.commit()
    doc = login_as(cast.overseer).get(f"/api/v1/proposals/{proposal.id}/record").get_json()
    audit = doc["audit"]
    assert len(audit) >= 2
    for e in audit:
        assert e["chain"] == f"v{cast.village.id}" and e["village_id"] == cast.village.id
        assert e["township_id"] == cast.village.township_id or e["township_id"] is None
        assert _rehash(e) == e["hash"], e
    for before, after in zip(audit, audit[1:]):
        if after["seq"] == before["seq"] + 1:
            assert after["prev_hash"] == before["hash"]
    # a changed field no longer re-hashes: the check can fail
    forged = dict(audit[0], actor_id=999999)
    assert _rehash(forged) != forged["hash"]


@pytest.mark.skipif(not ON_POSTGRES, reason="the append-only triggers are PostgreSQL's")
@pytest.mark.parametrize("statement", ["UPDATE audit_checkpoint SET seq = seq + 1", "DELETE FROM audit_checkpoint",
                                       "TRUNCATE audit_checkpoint"])
def test_postgresql_refuses_to_change_or_remove_a_signed_checkpoint(db, statement):
    from app.records.checkpoints import sign_checkpoint

    village = make_village()
    record_event("test.a", village_id=village.id)
    assert sign_checkpoint(f"v{village.id}") is not None
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has one writer at a time by design: there every append "
                                            "waits for the write lock, whatever its village")
def test_two_villages_append_at_once_and_only_the_same_village_waits(committing_app):
    """A holds village 1's chain open; B appends to village 2 and commits under a 2 s
    lock timeout; B's append to village 1 must then hit the timeout (it waits for A)."""
    from app.extensions import db as _db

    app = committing_app
    with app.app_context():
        one, two = make_village(), make_village()
        for v in (one, two):  # the heads exist, as for any village that has voted before
            record_event("test.setup", village_id=v.id)
        _db.session.commit()
        ids = one.id, two.id
    ctx_a = app.app_context()
    ctx_a.push()
    try:
        record_event("test.a", village_id=ids[0])
        _db.session.flush()  # A now holds village 1's head until it commits
        outcome = {}

        def other_connection():
            with app.app_context():
                _db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
                record_event("test.b", village_id=ids[1])
                _db.session.commit()
                outcome["other village"] = "committed"
                _db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
                try:
                    record_event("test.b-same", village_id=ids[0])
                    outcome["same village"] = "appended"
                except OperationalError as exc:
                    outcome["same village"] = "lock timeout" if "lock timeout" in str(exc) else str(exc)
                _db.session.rollback()

        worker = threading.Thread(target=other_connection)
        worker.start()
        worker.join(30)
        assert outcome == {"other village": "committed", "same village": "lock timeout"}
        _db.session.commit()
    finally:
        _db.session.remove()
        ctx_a.pop()
    with app.app_context():
        assert verify_chain().ok
        kinds = set(_db.session.scalars(select(AuditEvent.kind)))
        assert {"test.a", "test.b"} <= kinds and "test.b-same" not in kinds


# --- Upgrading an installation from the single chain ----------------------------------

def _old_hash(prev, seq, at, kind, township_id, payload):
    """The hash as the single-chain format defined it (no chain key)."""
    body = {"prev": prev, "seq": seq, "at": at.isoformat(timespec="microseconds"), "kind": kind,
            "village_id": None, "township_id": township_id, "actor_id": None, "object_type": None,
            "object_id": None, "payload": payload}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


@pytest.fixture()
def migrated_app():
    with app_on_its_own_database("chain_upgrade") as app:
        yield app


def test_an_installation_upgraded_from_the_single_chain_still_verifies_and_then_splits(migrated_app):
    from datetime import datetime, timedelta, timezone

    from app.accounts.models import Township
    from app.extensions import db as _db
    from app.records.checkpoints import Claim, _private_key
    from app.records.integrity import verify_everything

    migrations = MIGRATIONS
    with migrated_app.app_context():
        upgrade(directory=migrations, revision="e2a9c4f7b1d3")  # the single chain's last revision
        prev, start = GENESIS, datetime(2026, 11, 30, 1, 2, 3, 456789)
        with _db.engine.begin() as conn:
            conn.execute(text("INSERT INTO township (id, name) VALUES (1, '老乡镇')"))
            for seq in range(1, 6):
                at, township = start + timedelta(seconds=seq), (1 if seq % 2 else None)
                payload = _canonical({"n": seq})
                digest = _old_hash(prev, seq, at, "old.event", township, payload)
                conn.execute(text("INSERT INTO audit_event (seq, at, kind, township_id, payload, prev_hash, hash) "
                                  "VALUES (:s, :at, 'old.event', :t, :p, :prev, :h)"),
                             {"s": seq, "at": at, "t": township, "p": payload, "prev": prev, "h": digest})
                prev = digest
            conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 5, :h)"), {"h": prev})
            unix = 1796000000
            signature = _private_key().sign(f"gongyi-checkpoint:5:{prev}:{unix}".encode()).hex()
            public = _private_key().public_key().public_bytes_raw().hex()
            conn.execute(text("INSERT INTO audit_checkpoint (seq, head_hash, signed_at, signature, public_key) "
                              "VALUES (5, :h, :at, :sig, :pub)"),
                         {"h": prev, "at": datetime.fromtimestamp(unix, timezone.utc).replace(tzinfo=None), "sig": signature, "pub": public})
        old_line = f"gongyi-checkpoint:5:{prev}:{unix}:{signature}"

        upgrade(directory=migrations)
        _db.session.remove()
        third = _db.session.scalar(text("SELECT hash FROM audit_event WHERE seq = 3"))
        result = verify_everything([Claim.parse(old_line), Claim.parse(f"3:{third}")])
        assert result.ok, (result.chain.breaks, result.checkpoints, result.rows)
        assert result.checkpoints_checked == 3 and result.chain.checked == 5
        assert _db.session.scalar(text("SELECT count(*) FROM audit_event WHERE chain = 'i'")) == 5

        # New events go to their own chains; the installation chain continues where it was.
        village = make_village(_db.session.get(Township, 1))
        ev = record_event("new.event", village_id=village.id)
        top = record_event("new.installation")
        _db.session.commit()
        assert (ev.chain, ev.seq, ev.prev_hash) == (f"v{village.id}", 1, GENESIS)
        assert (top.chain, top.seq, top.prev_hash) == ("i", 6, prev)
        again = verify_everything([Claim.parse(old_line)])
        assert again.ok, (again.chain.breaks, again.checkpoints)

        # The old checkpoint still catches a rewrite of the history it covers.
        if ON_POSTGRES:
            _db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        _db.session.execute(text("UPDATE audit_event SET payload = '{}' WHERE chain = 'i' AND seq = 2"))
        broken = verify_everything([Claim.parse(old_line)])
        assert not broken.ok and (broken.chain.broken_chain, broken.chain.broken_seq) == ("i", 2)
        _db.session.rollback()
