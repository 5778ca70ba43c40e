"""Transactions around the cast's read (app/database.py): on SQLite `read_first()` reads
without a BEGIN, and whatever writes after it still runs in one transaction that holds
the write lock, never statement by statement in SQLite's autocommit."""
import sqlite3

import pytest
from sqlalchemy import func, select

from app.accounts.models import County
from app.database import read_first, write_transaction
from app.extensions import db
from tests.conftest import ON_POSTGRES
from tests.factories import make_county
from tests.statements import counting_statements

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's autocommit and write lock")


def _other_connection(app) -> sqlite3.Connection:
    """A second connection to the same file, as another worker process would hold."""
    with app.app_context():
        path = db.engine.url.database
    return sqlite3.connect(path, timeout=0.1)


def _counties(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM county").fetchone()[0]


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
