"""Tampering with any kind of audit row is detected at that row; on PostgreSQL the
database refuses the change in the first place."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.records import images
from app.records import services
from app.records.audit import verify_chain
from app.records.models import AuditEvent
from tests.conftest import ON_POSTGRES

KINDS = ["objection.filed", "objection.answered", "report.posted", "report.opinion", "record.exported",
         "proposal.transition"]


@pytest.fixture()
def chain(cast, proposal_in, db, app, tmp_path, monkeypatch):
    """One event of every kind the records area writes, plus a transition, then a few more."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    pub = proposal_in("publicized")
    o = services.file_objection(pub, cast.villager, "异议")
    services.answer_objection(o, cast.supervisor, "答复", upheld=False)
    imp = proposal_in("implementing")
    r = services.post_report(imp, cast.committee, "完工", final=True, photos=[images.png((40, 30))])
    services.give_opinion(r, cast.supervisor, "属实")
    services.note_export(imp, cast.overseer, "json")
    engine = pytest.importorskip("app.deliberation.engine")
    services.file_record(proposal_in("completed"), cast.overseer, "同意备案")  # record.filed + transition
    for _ in range(2):
        services.note_export(pub, cast.overseer, "pdf")
    assert verify_chain().ok
    del engine
    return {kind: db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id))
            .first() for kind in KINDS + ["record.filed"]}


def _unlink(cond: str):
    """A forger removing an event would first unhook the stage history row that points at it."""
    return (f"UPDATE stage_change SET audit_event_id = NULL WHERE audit_event_id IN "
            f"(SELECT id FROM audit_event WHERE {cond})")


def _tamper(db, *statements):
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    for stmt, params in statements:
        db.session.execute(text(stmt), params)
    if ON_POSTGRES:
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    db.session.expire_all()


@pytest.mark.parametrize("kind", KINDS + ["record.filed"])
def test_changing_a_field_of_any_kind_of_event_is_detected_at_that_event(chain, db, kind):
    ev = chain[kind]
    where = (ev.chain, ev.seq, ev.id)
    _tamper(db, ("UPDATE audit_event SET payload = :p WHERE id = :i", {"p": '{"forged":true}', "i": ev.id}))
    report = verify_chain()
    assert not report.ok and (report.broken_chain, report.broken_seq, report.broken_id) == where


@pytest.mark.parametrize("column,value", [("actor_id", None), ("kind", "forged"), ("object_id", 999999),
                                          ("village_id", None)])
def test_changing_any_column_is_detected(chain, db, column, value):
    ev = chain["objection.filed"]
    where = (ev.chain, ev.seq)
    _tamper(db, (f"UPDATE audit_event SET {column} = :v WHERE id = :i", {"v": value, "i": ev.id}))
    assert (verify_chain().broken_chain, verify_chain().broken_seq) == where


@pytest.mark.parametrize("kind", KINDS + ["record.filed"])
def test_deleting_any_kind_of_event_is_detected_at_that_event(chain, db, kind):
    ev = chain[kind]
    where = (ev.chain, ev.seq)
    _tamper(db, (_unlink("id = :i"), {"i": ev.id}), ("DELETE FROM audit_event WHERE id = :i", {"i": ev.id}))
    report = verify_chain()
    assert not report.ok and (report.broken_chain, report.broken_seq) == where
    assert str(where[1]) in report.problem


@pytest.mark.parametrize("kind", KINDS + ["record.filed"])
def test_swapping_an_event_with_the_next_is_detected_at_that_position(chain, db, kind):
    ev = chain[kind]
    c, seq = ev.chain, ev.seq
    _tamper(db, ("UPDATE audit_event SET seq = -1 WHERE chain = :c AND seq = :s", {"c": c, "s": seq}),
            ("UPDATE audit_event SET seq = :s WHERE chain = :c AND seq = :n", {"c": c, "s": seq, "n": seq + 1}),
            ("UPDATE audit_event SET seq = :n WHERE chain = :c AND seq = -1", {"c": c, "n": seq + 1}))
    report = verify_chain()
    assert not report.ok and (report.broken_chain, report.broken_seq) == (c, seq)


def test_deleting_the_tail_of_the_chain_is_detected(chain, db, cast):
    c = f"v{cast.village.id}"
    last = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.chain == c).order_by(AuditEvent.seq.desc())
                             .limit(1))
    _tamper(db, (_unlink("chain = :c AND seq >= :s"), {"c": c, "s": last - 1}),
            ("DELETE FROM audit_event WHERE chain = :c AND seq >= :s", {"c": c, "s": last - 1}))
    report = verify_chain()
    assert not report.ok and (report.broken_chain, report.broken_seq) == (c, last - 1)
    with force_locale("en"):
        assert "removed from the end" in str(report.problem)
    with force_locale("zh_Hans"):
        assert "末尾" in str(report.problem)  # the check's page says it in the overseer's language


def test_the_overseer_page_names_the_first_broken_event(chain, db, cast, login_as):
    ev = chain["report.posted"]
    seq = ev.seq
    _tamper(db, ("UPDATE audit_event SET payload = '{}' WHERE id = :i", {"i": ev.id}))
    b = login_as(cast.overseer)
    resp = b.get("/oversight/audit")
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert f"{seq}" in page
    # The reason is in the page's language, not the command's English.
    assert "与其哈希不符" in page and "do not match its hash" not in page


def test_the_overseer_page_reports_an_intact_chain(chain, db, cast, login_as):
    resp = login_as(cast.overseer).get("/oversight/audit")
    assert resp.status_code == 200
    assert str(verify_chain().checked) in resp.get_data(as_text=True)


@pytest.mark.skipif(not ON_POSTGRES, reason="the append-only trigger is PostgreSQL's")
@pytest.mark.parametrize("statement", ["UPDATE audit_event SET payload = '{}'", "DELETE FROM audit_event",
                                       "TRUNCATE audit_event CASCADE"])
def test_postgresql_refuses_to_change_or_remove_an_audit_event(chain, db, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    assert verify_chain().ok


# The records' own rows against the chain: tests/records/test_tampering.py.
