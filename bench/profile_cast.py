"""Profile of the vote cast (POST /polls/<id>/cast) inside one process: where a cast's
time goes, how many statements it runs and how long it holds SQLite's write lock.

    .venv/bin/python bench/profile_cast.py [--casts 300] [--open] [--pg-url postgresql://…]
        [--top 12] [--html profile.html]

Builds a village, a poll (secret by default, --open for an open one) and one voter per
cast with the app's test configuration, in a SQLite file of its own (or, with --pg-url,
in a schema of its own that is dropped afterwards), signs every voter in and reads their
poll page first (not measured), then profiles the casts one after another through the
Flask test client with pyinstrument (`pip install -e .[bench]`). No server, no network.
Prints the functions with the largest share of the casts' time, the statements per cast
(BEGIN/COMMIT not counted) and, on SQLite, how long each cast held the write lock (from
BEGIN IMMEDIATE to the end of COMMIT) against the whole request. Never part of the tests.
"""
from __future__ import annotations

import argparse
import gc
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
KEY = re.compile(r'name="request_key" value="([^"]+)"')
SCHEMA = "bench_profile_cast"


class _Lock:
    """When each SQLite write transaction began (BEGIN IMMEDIATE) and ended (its COMMIT
    or ROLLBACK returned), measured on the driver's own connection."""

    began: float | None = None
    held: list[float] = []
    commits: list[float] = []  # the COMMIT alone (the WAL's fsync under synchronous=FULL)


class TimedConnection(sqlite3.Connection):
    def commit(self):
        t0 = time.perf_counter()
        try:
            return super().commit()
        finally:
            if _Lock.began is not None:
                _Lock.commits.append(time.perf_counter() - t0)
            _Lock.end()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            _Lock.end()


def _end():
    if _Lock.began is not None:
        _Lock.held.append(time.perf_counter() - _Lock.began)
        _Lock.began = None


_Lock.end = staticmethod(_end)


def _config(pg_url: str | None, workdir: Path):
    from app.config import TestConfig, _normalise_db_url

    class Cfg(TestConfig):
        WTF_CSRF_ENABLED = True
        if pg_url:
            SQLALCHEMY_DATABASE_URI = _normalise_db_url(pg_url)
            SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}
        else:
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{workdir / 'cast.sqlite3'}"
            SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"factory": TimedConnection}}

    return Cfg


def _build(app, voters: int, secret: bool, pg: bool):
    """The schema, a poll and its voters; returns (poll id, [(person id, session id)])."""
    from sqlalchemy import text

    from app.extensions import db
    from app.schema_extras import install_database_rules
    from tests.voting.factories import make_poll

    with app.app_context():
        if pg:
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        db.create_all()
        install_database_rules(db.engine)
        stage = "villager_resolution" if secret else "committee_deliberation"
        poll, people, _ = make_poll(stage, voters=voters, secret=secret)
        db.session.commit()
        return poll.id, [p.get_id() for p in people]


def _signed_in_clients(app, poll_id: int, ids: list[str]):
    """One test client per voter, signed in, with the CSRF token and request key of its
    confirm step (as the voter's phone would hold them)."""
    ready = []
    for user_id in ids:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
        html = client.post(f"/polls/{poll_id}/confirm", data={
            "csrf_token": CSRF.search(client.get(f"/polls/{poll_id}").get_data(as_text=True)).group(1),
            "choice": "yes"}).get_data(as_text=True)
        form = html[html.index(f'action="/polls/{poll_id}/cast"'):]
        key = KEY.search(form)
        ready.append((client, CSRF.search(form).group(1), key.group(1) if key else None))
    return ready


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--casts", type=int, default=300)
    parser.add_argument("--open", action="store_true", help="an open (named) poll instead of a secret one")
    parser.add_argument("--pg-url", help="PostgreSQL instead of a SQLite file (a schema of its own)")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--no-profile", action="store_true",
                        help="time, count and measure the lock only, without the profiler's overhead")
    args = parser.parse_args(argv)
    from pyinstrument import Profiler
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="gongyi-profile-cast-"))
    app = create_app(_config(args.pg_url, workdir))
    poll_id, ids = _build(app, args.casts, not args.open, bool(args.pg_url))
    clients = _signed_in_clients(app, poll_id, ids)
    # As a gunicorn worker does after start-up (wsgi.py): what exists now is never
    # collected, so the collector's passes over it do not land at random in the casts.
    gc.collect()
    gc.freeze()

    statements: list[int] = []
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        word = statement.strip().upper()
        if word.startswith("BEGIN IMMEDIATE"):
            _Lock.began = time.perf_counter()
        if word not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    durations = []
    profiler = Profiler(interval=0.0002)
    _Lock.held.clear()
    _Lock.commits.clear()
    if not args.no_profile:
        profiler.start()
    for client, token, key in clients:
        data = {"csrf_token": token, "choice": "yes"}
        if key:
            data["request_key"] = key
        seen.clear()
        t0 = time.perf_counter()
        resp = client.post(f"/polls/{poll_id}/cast", data=data)
        durations.append(time.perf_counter() - t0)
        statements.append(len(seen))
        assert resp.status_code == 302, (resp.status_code, resp.get_data(as_text=True)[:300])
    if args.no_profile:
        _summary(args, durations, statements)
        return _drop(app, args)
    profiler.stop()

    session = profiler.last_session
    total = session.duration
    cumulative: dict[str, float] = {}  # the app's own functions, with what they call
    own: dict[str, float] = {}  # every function's own time, wherever it is called from

    def name_of(frame) -> str:
        path = Path(frame.file_path or "?")
        try:
            where = str(path.relative_to(ROOT))
        except ValueError:
            where = path.name
        return f"{where}: {frame.function}"

    def walk(frame, stack):
        key = name_of(frame)
        if frame.is_synthetic_leaf:
            parent = name_of(frame.parent) if frame.parent is not None else key
            own[parent] = own.get(parent, 0.0) + frame.time
        elif key not in stack and key.startswith("app/"):  # a recursion counted once
            cumulative[key] = cumulative.get(key, 0.0) + frame.time
        for child in frame.children:
            walk(child, stack | {key})

    walk(session.root_frame(), frozenset())
    _summary(args, durations, statements)
    print(f"\nthe app's functions, share of the casts' time with what they call (top {args.top}):")
    for name, t in sorted(cumulative.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {100 * t / total:5.1f}%  {name}")
    print(f"\nown time, any function (top {args.top}):")
    for name, t in sorted(own.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {100 * t / total:5.1f}%  {name}")
    if args.html:
        Path(args.html).write_text(profiler.output_html())
    return _drop(app, args)


def _summary(args, durations: list[float], statements: list[int]) -> None:
    kind = "open" if args.open else "secret"
    backend = "PostgreSQL" if args.pg_url else "SQLite"
    print(f"{args.casts} casts, {kind} poll, {backend}: {statistics.median(durations) * 1000:.2f} ms median "
          f"per cast{'' if args.no_profile else ' (profiled)'}")
    print(f"statements per cast: {min(statements)}-{max(statements)} (median {statistics.median(statements)})")
    if _Lock.held:
        held = statistics.median(_Lock.held)
        print(f"write lock held per cast: median {held * 1000:.2f} ms, "
              f"{100 * sum(_Lock.held) / sum(durations):.0f}% of the request time; of it the COMMIT "
              f"(fsync) {statistics.median(_Lock.commits) * 1000:.2f} ms")


def _drop(app, args) -> int:
    from sqlalchemy import text

    from app.extensions import db

    if args.pg_url:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
