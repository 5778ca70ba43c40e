"""Database engine tuning: SQLite pragmas and write transactions that take the lock first.

On SQLite a transaction that reads first and writes later can fail with "database is
locked" when another writer got in between (a deferred transaction cannot wait for the
lock once it holds a read snapshot). So every transaction that may write starts with
BEGIN IMMEDIATE: it waits (busy timeout) for the write lock *before* reading. Requests
that only read (GET/HEAD/OPTIONS) use a plain deferred BEGIN so readers never queue
behind writers; code that must write during a GET calls `write_transaction()` first.

A request that knows where its writes begin (the vote cast) does better still: it reads
first (`read_first()`), then writes in `write_transaction()`, so the write lock is held
for the writes only. On SQLite its one read runs without a BEGIN (a single statement is
a snapshot of its own) and BEGIN IMMEDIATE comes with the writes, in the same session
transaction; should a write come before that, the lock is taken before it.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from functools import cache

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

_force_write = contextvars.ContextVar("gongyi_force_write", default=False)
_force_read = contextvars.ContextVar("gongyi_force_read", default=False)
_no_begin = contextvars.ContextVar("gongyi_no_begin", default=False)
# connection.info: SQLite is in autocommit for read_first's read (no BEGIN was sent).
_UNBEGUN = "gongyi_unbegun"
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
        if _no_begin.get():
            conn.info[_UNBEGUN] = True  # read_first's one read: SQLite's own autocommit
            return
        conn.info.pop(_UNBEGUN, None)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_a_write(conn, cursor, statement, _parameters, _context, _executemany):
        # A write after read_first that did not come through write_transaction: it still
        # runs in a transaction that holds the lock, never in autocommit.
        if conn.info.get(_UNBEGUN) and statement.lstrip()[:6].upper() not in ("SELECT", "BEGIN "):
            begin_writes(conn)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _transaction_ended(conn):
        conn.info.pop(_UNBEGUN, None)


def dialect_insert(dialect_name: str):
    """The database's own INSERT construct, the one with ON CONFLICT."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def begin_writes(conn) -> None:
    """On SQLite after read_first: take the write lock now, in the session's transaction."""
    if conn.info.pop(_UNBEGUN, None):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_CONNECTION = "gongyi_transaction_connection"


def transaction_connection(session):
    """The connection of the session's current transaction (beginning one if none), as
    `session.connection()` gives it, remembered for the rest of that transaction: the
    cast asks for it six times, and each ask walked SQLAlchemy's transaction states."""
    real = session() if isinstance(session, scoped_session) else session
    transaction = real.get_transaction()
    known = real.info.get(_CONNECTION)
    if known is not None and transaction is not None and known[0] is transaction and not known[1].invalidated:
        return known[1]
    connection = real.connection()
    real.info[_CONNECTION] = (real.get_transaction(), connection)
    return connection


# session.info: the transaction that read_first left open, having only read, so the writes
# may follow in it (only in that very transaction).
_READS_ONLY = "gongyi_reads_only"


@contextmanager
def write_transaction(session, *, keep_loaded: bool = False):
    """End the current (read) transaction and run the block in one that holds the write
    lock from its first statement; commits on success, rolls back on error. After
    `read_first()` the block goes on in the transaction that read: on PostgreSQL its
    reads hold no lock, and a BEGIN and a COMMIT fewer are two round trips; on SQLite,
    where that read ran without a BEGIN, BEGIN IMMEDIATE is sent now.

    `keep_loaded`: what the session holds is not expired by the commit (a request that
    answers with a redirect reads none of it again; expiring it cost a tenth of the
    vote's commit)."""
    real = session() if isinstance(session, scoped_session) else session
    reads_only = real.info.pop(_READS_ONLY, None)
    if reads_only is None or reads_only is not real.get_transaction() or real.new or real.dirty or real.deleted:
        session.rollback()
        reads_only = None
    token = _force_write.set(True)
    try:
        if reads_only is not None:
            begin_writes(transaction_connection(real))  # SQLite's read ran without a BEGIN
        yield session
        expire, real.expire_on_commit = real.expire_on_commit, not keep_loaded and real.expire_on_commit
        try:
            session.commit()
        finally:
            real.expire_on_commit = expire
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
    """Run the block's read so that it takes no lock, keeping what it loaded, so the request
    can check it without a statement and then write in `write_transaction()`, in the same
    transaction. On PostgreSQL the read takes no lock anyway. On SQLite the block must be
    one statement: it runs without a BEGIN, as its own snapshot, and the write lock is
    taken only when the writes begin. Inside a transaction already begun (something of
    this request read before), the block simply reads in it."""
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        yield session
        return
    tokens = _force_read.set(True), _no_begin.set(True)
    try:
        yield session
        real.info[_READS_ONLY] = real.get_transaction()  # only reads happened: the writes may go on in it
    except Exception:
        real.rollback()
        raise
    finally:
        _no_begin.reset(tokens[1])
        _force_read.reset(tokens[0])


class DriverStatement:
    """One statement of the vote cast's writes, compiled once per database for its driver
    and run straight on the DBAPI cursor of the transaction's connection.

    SQLAlchemy's own work around a statement it already has compiled (the cache look-up,
    the execution context, the result object) costs about nine times what the driver
    does for it (0.19 M instructions against 0.02 M, measured with callgrind), and on
    SQLite the cast runs five of them while it holds the write lock. What SQLAlchemy does
    that matters is kept: values pass through the column types' own processors both ways
    (what is written and read back is what the ORM writes and reads); the engine's
    before_cursor_execute listeners see the statement (the lock guard above, the tests'
    statement counters); a driver error is raised as SQLAlchemy's, after a lost
    connection is invalidated (so the error pages and the pool behave as for any other).

    `build(dialect_name)` returns the statement (a Core construct, which may be the
    dialect's own INSERT … ON CONFLICT); the columns it selects or returns read its rows,
    which `run()` returns as dicts. A statement made with `entities` selects
    `entity_columns(*entities)`, and `load()` returns its rows as those ORM objects."""

    def __init__(self, build, *, entities: tuple = ()):
        self._build = build
        self._entities = tuple(entities)
        self._by_dialect: dict[str, tuple] = {}

    def _prepared(self, dialect) -> tuple:
        prepared = self._by_dialect.get(dialect.name)
        if prepared is None:
            construct = self._build(dialect.name)
            compiled = construct.compile(dialect=dialect)
            binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                     for name, bind in compiled.binds.items()}
            columns = [(c.name, c.type.dialect_impl(dialect).result_processor(dialect, None))
                       for c in construct.exported_columns]
            prepared = (compiled.string, compiled.positiontup, {n: p for n, p in binds.items() if p}, columns)
            self._by_dialect[dialect.name] = prepared
        return prepared

    def _fetch(self, connection, params: dict) -> tuple[list, list]:
        """Run it; the driver's rows and the (name, result processor) of their columns."""
        from sqlalchemy import exc

        dialect = connection.dialect
        sql, order, processors, columns = self._prepared(dialect)
        if processors:
            params = {**params, **{n: p(params[n]) for n, p in processors.items() if n in params}}
        args = tuple(params[n] for n in order) if order is not None else params
        driver = connection.connection.driver_connection
        cursor = driver.cursor()
        try:
            connection.dispatch.before_cursor_execute(connection, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            rows = cursor.fetchall() if columns else []
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, driver, cursor)
            if lost:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(sql, args, error, dialect.loaded_dbapi.Error,
                                          connection_invalidated=lost, dialect=dialect) from error
        finally:
            try:
                cursor.close()
            except dialect.loaded_dbapi.Error:
                pass  # the connection is gone: the error above says so
        return rows, columns

    def run(self, connection, params: dict) -> list[dict]:
        rows, columns = self._fetch(connection, params)
        return [{name: (read(value) if read else value) for (name, read), value in zip(columns, row)}
                for row in rows]

    def load(self, session, params: dict) -> list[tuple]:
        """Whole ORM entities, one tuple of the statement's entities per row (None where an outer join found
        no row). Each object is
        placed in the session as the ORM's own loading places it: persistent, in the
        identity map, its columns loaded and nothing changed; an object the session
        already holds is returned as it is. Relationships load as they always do.

        What this spares is the ORM's per-statement set-up (a row processor for each
        entity and each of its relationships), which for the vote cast's six entities cost
        twice the statement itself. It uses what SQLAlchemy's own loader sets on a new
        object (its identity key and session), so SQLAlchemy is pinned, and the tests
        compare every column of every entity with what the ORM loads."""
        from sqlalchemy.orm.attributes import instance_state, set_committed_value

        rows, columns = self._fetch(transaction_connection(session), params)
        specs = _entity_specs(self._entities)
        if not specs or len(columns) != specs[-1][3]:
            raise ValueError("the statement must select entity_columns() of exactly these models")
        reads = [read for _name, read in columns]
        identity_map, hash_key = session.identity_map, session.hash_key
        loaded = []
        for row in rows:
            values = [read(v) if read is not None else v for read, v in zip(reads, row)]
            objects = []
            for manager, cls, start, end, keys, id_at in specs:
                ident = values[start + id_at]
                if ident is None:
                    objects.append(None)
                    continue
                key = (cls, (ident,), None)
                obj = identity_map.get(key)
                if obj is None:
                    obj = manager.new_instance()
                    state = instance_state(obj)
                    obj.__dict__.update(zip(keys, values[start:end]))
                    state.key, state.identity_token, state.session_id = key, None, hash_key
                    identity_map.add(state)
                else:  # held already: as the ORM does, only what it no longer holds (expired) is filled in
                    loaded_now = obj.__dict__
                    for name, value in zip(keys, values[start:end]):
                        if name not in loaded_now:
                            set_committed_value(obj, name, value)
                objects.append(obj)
            loaded.append(tuple(objects))
        return loaded


@cache
def _entity_specs(models: tuple) -> list[tuple]:
    """Per model: its class manager, class, where its columns start and end in the row,
    their attribute names and where its id is."""
    from sqlalchemy import inspect

    specs, at = [], 0
    for model in models:
        mapper = inspect(model)
        if mapper.class_manager.dispatch.load or mapper.class_manager.dispatch.refresh:
            raise TypeError(f"{model.__name__} has ORM load events, which DriverStatement.load does not run")
        if [c.name for c in mapper.primary_key] != ["id"] or mapper.polymorphic_on is not None:
            raise TypeError(f"{model.__name__}: DriverStatement.load reads plain models keyed by one id column")
        keys = [prop.key for prop in mapper.column_attrs]
        specs.append((mapper.class_manager, model, at, at + len(keys), keys, keys.index("id")))
        at += len(keys)
    return specs


def entity_columns(*models) -> list:
    """The mapped columns of each model, in the order DriverStatement.load reads them."""
    from sqlalchemy import inspect

    columns = []
    for model in models:
        mapper = inspect(model)
        for prop in mapper.column_attrs:
            (column,) = prop.columns
            if getattr(column, "table", None) is not mapper.local_table:
                raise TypeError(f"{model.__name__}.{prop.key} is not a column of its own table")
            columns.append(column)
    return columns
