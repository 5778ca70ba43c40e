"""app/database.py: the transactions around the cast's read (on SQLite `read_first()`
reads without a BEGIN, and whatever writes after it still runs in one transaction that
holds the write lock, never statement by statement in SQLite's autocommit), and the
statements the cast runs on the driver (DriverStatement)."""
import re
import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, exc, func, select, text

from app.accounts.models import County
from app.database import DriverStatement, read_first, write_transaction
from app.extensions import db
from app.records.audit import record_event
from app.records.models import AuditEvent
from tests.conftest import ON_POSTGRES
from tests.factories import make_county
from tests.statements import counting_statements

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's autocommit and write lock")


def _other_connection(app) -> sqlite3.Connection:
    """A second connection to the same file, as another worker process would hold."""
    with app.app_context():
        path = db.engine.url.database
    return sqlite3.connect(path, timeout=0.1)


def _counties(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM county").fetchone()[0]


@sqlite_only
def test_the_read_of_read_first_sends_no_begin_and_holds_no_lock(committing_app):
    other = _other_connection(committing_app)
    with committing_app.app_context():
        with counting_statements() as seen:
            with read_first(db.session):
                assert db.session.scalar(select(func.count()).select_from(County)) == 0
        assert [s for s in seen if s.strip().upper().startswith("BEGIN")] == []
        # Another writer is not kept waiting by the read that has run.
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO county (name) VALUES ('别的县')")
        other.execute("COMMIT")
        db.session.rollback()
    other.close()


@sqlite_only
def test_a_write_after_read_first_without_write_transaction_takes_the_lock_first(committing_app):
    other = _other_connection(committing_app)
    with committing_app.app_context():
        with read_first(db.session):
            db.session.scalar(select(func.count()).select_from(County))
        with counting_statements() as seen:
            make_county("甲县")
            make_county("乙县")
        assert seen[0].strip().upper() == "BEGIN IMMEDIATE", seen
        # Not autocommitted: the other connection sees nothing yet, and cannot write.
        assert _counties(other) == 0
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(County)) == 0
    assert _counties(other) == 0
    other.close()


@sqlite_only
def test_read_first_then_write_transaction_writes_both_rows_or_neither(committing_app):
    with committing_app.app_context():
        with read_first(db.session):
            db.session.scalar(select(func.count()).select_from(County))
        with pytest.raises(RuntimeError):
            with write_transaction(db.session):
                make_county("甲县")
                raise RuntimeError("the second write fails")
        assert db.session.scalar(select(func.count()).select_from(County)) == 0
        with read_first(db.session):
            db.session.scalar(select(func.count()).select_from(County))
        with write_transaction(db.session):
            make_county("甲县")
            make_county("乙县")
    assert _counties(_other_connection(committing_app)) == 2


@sqlite_only
def test_a_read_first_ended_without_writes_leaves_the_next_transaction_as_usual(committing_app):
    with committing_app.app_context():
        with read_first(db.session):
            db.session.scalar(select(func.count()).select_from(County))
        db.session.remove()  # the request ends after its read (a refusal, a 404)
        for _ in range(3):  # the pooled connection comes back: no stale state on it
            with counting_statements() as seen:
                with write_transaction(db.session):
                    make_county()
            assert seen[0].strip().upper() == "BEGIN IMMEDIATE"
            db.session.remove()
    assert _counties(_other_connection(committing_app)) == 3


def test_a_driver_statement_error_is_sqlalchemys_and_the_session_goes_on(db):
    missing = Table("no_such_table", MetaData(), Column("x", Integer))
    broken = DriverStatement(lambda _dialect: select(missing.c.x).where(missing.c.x == bindparam("v")))
    with pytest.raises(exc.DBAPIError) as raised:  # not the driver's own exception
        broken.run(db.session.connection(), {"v": 1})
    assert not isinstance(raised.value, exc.InterfaceError)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(County)) == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL backend that goes away")
def test_a_lost_connection_under_a_driver_statement_is_invalidated_and_the_next_request_reconnects(committing_app):
    head = DriverStatement(lambda _dialect: select(County.__table__.c.id).where(
        County.__table__.c.id == bindparam("id")))
    with committing_app.app_context():
        connection = db.session.connection()
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        with pytest.raises(exc.OperationalError) as raised:
            head.run(connection, {"id": 1})
        assert raised.value.connection_invalidated
        db.session.rollback()
        assert head.run(db.session.connection(), {"id": 1}) == []


def test_a_time_written_on_the_driver_reads_back_exactly_through_the_orm(db):
    county = make_county()
    event = record_event("county_created", object_type="county", object_id=county.id, payload={})
    db.session.flush()
    stored = db.session.get(AuditEvent, event.id)
    db.session.refresh(stored)
    assert stored.at == event.at and isinstance(stored.at, datetime)
    if not ON_POSTGRES:  # the same text SQLAlchemy writes, microseconds always present
        raw = db.session.execute(text("SELECT at FROM audit_event WHERE id = :i"), {"i": event.id}).scalar()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", raw), raw


@pytest.mark.parametrize("keep_loaded,reads_again", [(False, True), (True, False)])
def test_a_write_transaction_expires_what_it_loaded_unless_asked_to_keep_it(committing_app, keep_loaded,
                                                                            reads_again):
    with committing_app.app_context():
        with write_transaction(db.session):
            county_id = make_county("甲县").id
        db.session.remove()
        with read_first(db.session):  # as the cast reads, then writes in the same transaction
            county = db.session.get(County, county_id)
        with write_transaction(db.session, keep_loaded=keep_loaded):
            make_county("乙县")
        with counting_statements() as seen:
            assert county.name == "甲县"
        assert bool(seen) is reads_again
        assert db.session().expire_on_commit  # the session's own setting is left as it was
