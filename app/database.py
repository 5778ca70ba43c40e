"""Database engine tuning: SQLite pragmas and write transactions that take the lock first.

On SQLite a transaction that reads first and writes later can fail with "database is
locked" when another writer got in between (a deferred transaction cannot wait for the
lock once it holds a read snapshot). So every transaction that may write starts with
BEGIN IMMEDIATE: it waits (busy timeout) for the write lock *before* reading. Requests
that only read (GET/HEAD/OPTIONS) use a plain deferred BEGIN so readers never queue
behind writers; code that must write during a GET calls `write_transaction()` first.

A request that knows where its writes begin (the vote cast) does better still: it reads
in a plain transaction that it ends at once (`read_first()`), then writes in
`write_transaction()`, so the write lock is held for the writes only.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

_force_write = contextvars.ContextVar("gongyi_force_write", default=False)
_force_read = contextvars.ContextVar("gongyi_force_read", default=False)
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _wants_write_lock() -> bool:
    if _force_write.get():
        return True
    if _force_read.get():
        return False
    if has_request_context():
        return request.method not in _READ_METHODS
    return True  # CLI commands, tests, background jobs


def tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Set WAL, synchronous=FULL, secure deletion, a busy timeout and lock-first transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy (not the driver) emit BEGIN, so we choose which kind.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        # Freed pages are overwritten with zeros, whatever libsqlite3's compiled default.
        cur.execute("PRAGMA secure_delete = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")


# session.info: the transaction that read_first left open on PostgreSQL, having only read,
# so the writes may follow in it (only in that very transaction).
_READS_ONLY = "gongyi_reads_only"


@contextmanager
def write_transaction(session):
    """End the current (read) transaction and run the block in one that holds the write
    lock from its first statement; commits on success, rolls back on error. On
    PostgreSQL, after `read_first()`, the block goes on in the transaction that read:
    its reads hold no lock there, and a BEGIN and a COMMIT fewer are two round trips."""
    real = session() if isinstance(session, scoped_session) else session
    reads_only = real.info.pop(_READS_ONLY, None)
    if reads_only is None or reads_only is not real.get_transaction() or real.new or real.dirty or real.deleted:
        session.rollback()
    token = _force_write.set(True)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        _force_write.reset(token)


@contextmanager
def read_transaction(session):
    """Run the block in a plain (deferred) transaction that never takes the write lock,
    also outside a request (a job checking a whole file first); it is rolled back."""
    session.rollback()
    token = _force_read.set(True)
    try:
        yield session
    finally:
        session.rollback()
        _force_read.reset(token)


@contextmanager
def read_first(session):
    """Run the block's reads in a plain (deferred) transaction and end it at once, keeping
    what it loaded (not expired), so the request can check them without a statement and
    then write in `write_transaction()` (on PostgreSQL, whose reads lock nothing, the
    transaction stays open for those writes). Inside a transaction already begun (something
    of this request read before), the block simply reads in it."""
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        yield session
        return
    token = _force_read.set(True)
    try:
        yield session
        if real.get_bind().dialect.name == "postgresql":
            real.info[_READS_ONLY] = real.get_transaction()  # no lock to let go of: the writes go on in it
            return
        expire, real.expire_on_commit = real.expire_on_commit, False
        try:
            real.commit()  # only reads happened: this ends the read snapshot
        finally:
            real.expire_on_commit = expire
    except Exception:
        real.rollback()
        raise
    finally:
        _force_read.reset(token)
