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


# --- DriverStatement.load: whole entities without the ORM's per-statement set-up ------

def _cast_rows(poll_id: int, person_id: int) -> list[tuple]:
    from app.voting.views import _cast_load_statement

    return _cast_load_statement().load(db.session(), {"poll_id": poll_id, "person_id": person_id})


def _columns(obj) -> dict:
    from sqlalchemy import inspect

    return {prop.key: getattr(obj, prop.key) for prop in inspect(obj).mapper.column_attrs}


def _orm_twin(obj) -> dict:
    """The same row as the ORM loads it, in a session of its own."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    mapper = inspect(obj).mapper
    with Session(db.engine) as other:
        return _columns(other.get(mapper.class_, inspect(obj).identity[0]))


def _a_cast(committee_roles: bool = False):
    from tests.voting.factories import make_poll

    poll, people, opener = make_poll("villager_resolution", voters=1, secret=True)
    db.session.commit()
    return poll.id, (opener if committee_roles else people[0]).id


def test_load_gives_every_column_of_every_entity_as_the_orm_loads_it(committing_app):
    """Types included: times come back as the ORM gives them, booleans as booleans."""
    with committing_app.app_context():
        poll_id, person_id = _a_cast(committee_roles=True)
        db.session.remove()
        rows = _cast_rows(poll_id, person_id)
        assert len(rows) == 2  # the committee member's two role grants, one row each
        person, poll, entry, _grant, proposal, village = rows[0]
        assert {r[3].role for r in rows} == {"committee_member", "villager"}
        ours = [(obj, _columns(obj)) for obj in (person, poll, entry, proposal, village, rows[0][3], rows[1][3])]
        db.session.rollback()  # SQLite: the twin's session needs the write lock outside a request
        for obj, values in ours:
            orm = _orm_twin(obj)
            assert values == orm, type(obj).__name__
            assert {k: type(v) for k, v in values.items()} == {k: type(v) for k, v in orm.items()}


def test_loaded_objects_are_the_sessions_own_persistent_objects(committing_app):
    from sqlalchemy import inspect

    from app.accounts.models import Person
    from app.voting.models import Poll

    with committing_app.app_context():
        poll_id, person_id = _a_cast()
        db.session.remove()
        person, poll, *_rest = _cast_rows(poll_id, person_id)[0]
        assert inspect(person).persistent and inspect(poll).persistent
        with counting_statements() as seen:
            assert db.session.get(Poll, poll_id) is poll and db.session.get(Person, person_id) is person
            assert poll in db.session and not db.session.dirty
        assert seen == []
        assert person.village.id == person.village_id  # a relationship not loaded loads as always
        person.name = "改过的名字"
        assert person in db.session.dirty
        db.session.commit()
        db.session.remove()
        assert db.session.get(Person, person_id).name == "改过的名字"  # the change was written


def test_an_outer_join_that_finds_nothing_gives_none(db):
    poll_id, person_id = _a_cast()
    db.session.expunge_all()
    rows = _cast_rows(poll_id + 1000, person_id)
    person, poll, entry, grant, proposal, village = rows[0]
    assert person.id == person_id and grant is not None
    assert (poll, entry, proposal, village) == (None, None, None, None)
    assert _cast_rows(poll_id, person_id + 1000) == []


def test_an_object_the_session_holds_expired_is_filled_in_without_a_statement_of_its_own(db):
    from app.voting.models import Poll

    poll_id, person_id = _a_cast()
    held = db.session.get(Poll, poll_id)
    db.session.expire(held)
    with counting_statements() as seen:
        (_person, poll, *_rest), = _cast_rows(poll_id, person_id)
        assert poll is held and poll.status == "open"
    assert len(seen) == 1, seen


def test_load_refuses_a_statement_that_does_not_select_the_entities_columns(db):
    from app.accounts.models import Person

    wrong = DriverStatement(lambda _dialect: select(Person.__table__.c.id).where(
        Person.__table__.c.id == bindparam("id")), entities=(Person,))
    with pytest.raises(ValueError):
        wrong.load(db.session(), {"id": 1})


def test_transaction_connection_is_the_transactions_own_and_a_new_transaction_gets_its_own(committing_app):
    from app.database import transaction_connection

    with committing_app.app_context():
        first = transaction_connection(db.session)
        assert first is db.session.connection() and transaction_connection(db.session) is first
        db.session.commit()
        assert first.closed
        second = transaction_connection(db.session)
        assert second is not first and not second.closed and second is db.session.connection()
        db.session.rollback()
        assert transaction_connection(db.session) is db.session.connection()
        db.session.remove()
