"""The floor: a bare Flask app (no Flask-Login, no WTForms, no ORM) whose one endpoint
does the writes of a cast and nothing else, served by the same gunicorn settings as the
app and driven by the same client. What the app costs above it is the price of
everything else a cast does (who is signed in, may they vote, the page).

POST /polls/<poll_id>/cast (form: choice; csrf_token and request_key are accepted and
ignored) reads the voter from the same signed session cookie as the app (Flask's own
session, the same SECRET_KEY), then in one transaction:

1. upserts the participation row (poll, unit) with a new receipt, times_cast + 1;
2. upserts the ballot row (poll, voter key) with the choice;
3. appends an audit event: reads the chain's head FOR UPDATE, inserts the event whose
   SHA-256 covers the previous hash, updates the head;
4. commits,

and answers 302 to /polls/<id> with the receipt in the session, as the app does. On
SQLite the writes run inside BEGIN IMMEDIATE with the app's pragmas (app/database.py:
WAL, synchronous=FULL, secure_delete, foreign keys, the same busy timeout); on
PostgreSQL the same statements in a READ COMMITTED transaction. The chain head is one
row per poll; each village of the benchmarks has one poll, so this is the per-village
chain the issue asks for. The tables live beside the app's, named floor_*.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime, timezone

from flask import Flask, abort, redirect, request, session

GENESIS = "0" * 64
SQLITE_BUSY_TIMEOUT_MS = 15000  # app/config.py: SQLITE_BUSY_TIMEOUT_MS
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS floor_participation (
        id {serial} PRIMARY KEY, poll_id INTEGER NOT NULL, unit_key VARCHAR(24) NOT NULL,
        cast_by_id INTEGER NOT NULL, channel VARCHAR(10) NOT NULL, receipt VARCHAR(20) NOT NULL,
        times_cast INTEGER NOT NULL, UNIQUE (poll_id, unit_key))""",
    """CREATE TABLE IF NOT EXISTS floor_ballot (
        id BIGINT PRIMARY KEY, poll_id INTEGER NOT NULL, voter_key VARCHAR(24) NOT NULL,
        choice VARCHAR(10) NOT NULL, UNIQUE (poll_id, voter_key))""",
    """CREATE TABLE IF NOT EXISTS floor_audit_event (
        id {serial} PRIMARY KEY, chain INTEGER NOT NULL, seq INTEGER NOT NULL, at VARCHAR(40) NOT NULL,
        kind VARCHAR(40) NOT NULL, actor_id INTEGER, object_id INTEGER, payload TEXT NOT NULL,
        prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, UNIQUE (chain, seq))""",
    """CREATE TABLE IF NOT EXISTS floor_audit_head (
        id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash VARCHAR(64) NOT NULL)""",
]

UPSERT_PARTICIPATION = (
    "INSERT INTO floor_participation (poll_id, unit_key, cast_by_id, channel, receipt, times_cast) "
    "VALUES (%s, %s, %s, 'online', %s, 1) ON CONFLICT (poll_id, unit_key) DO UPDATE SET "
    "cast_by_id = excluded.cast_by_id, receipt = excluded.receipt, "
    "times_cast = floor_participation.times_cast + 1")
UPSERT_BALLOT = (
    "INSERT INTO floor_ballot (id, poll_id, voter_key, choice) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (poll_id, voter_key) DO UPDATE SET choice = excluded.choice")
INSERT_EVENT = (
    "INSERT INTO floor_audit_event (chain, seq, at, kind, actor_id, object_id, payload, prev_hash, hash) "
    "VALUES (%s, %s, %s, 'ballot_cast', %s, %s, %s, %s, %s)")
UPDATE_HEAD = "UPDATE floor_audit_head SET seq = %s, hash = %s WHERE id = %s"


def _url() -> str:
    return os.environ["DATABASE_URL"]


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def connect(url: str | None = None):
    url = url or _url()
    if _is_sqlite(url):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        return conn
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


def create_schema(polls: list[int]) -> dict:
    """The floor's tables and one chain head per poll (a benchmark step)."""
    url = _url()
    conn = connect(url)
    serial = "INTEGER" if _is_sqlite(url) else "SERIAL"
    q = (lambda s: s.replace("%s", "?")) if _is_sqlite(url) else (lambda s: s)
    if _is_sqlite(url):
        conn.execute("BEGIN")
    for ddl in SCHEMA:
        conn.execute(ddl.format(serial=serial))
    for poll in polls:
        conn.execute(q("INSERT INTO floor_audit_head (id, seq, hash) VALUES (%s, 0, %s)"), (poll, GENESIS))
    conn.commit() if not _is_sqlite(url) else conn.execute("COMMIT")
    conn.close()
    return {"heads": len(polls)}


def count(polls: list[int]) -> dict:
    """The floor's rows for the polls (a benchmark step): participations and ballots,
    and whether every chain links."""
    url = _url()
    conn = connect(url)
    marks = ",".join(["?" if _is_sqlite(url) else "%s"] * len(polls))
    parts = conn.execute(f"SELECT COUNT(*) FROM floor_participation WHERE poll_id IN ({marks})", polls).fetchone()[0]
    ballots = conn.execute(f"SELECT COUNT(*) FROM floor_ballot WHERE poll_id IN ({marks})", polls).fetchone()[0]
    linked = True
    for chain in polls:
        prev = GENESIS
        rows = conn.execute(("SELECT seq, prev_hash, hash FROM floor_audit_event WHERE chain = %s ORDER BY seq"
                             .replace("%s", "?" if _is_sqlite(url) else "%s")), (chain,)).fetchall()
        for seq, prev_hash, digest in rows:
            linked = linked and prev_hash == prev
            prev = digest
    conn.close()
    return {"participations": parts, "ballots": ballots, "chains_link": linked}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    url = _url()
    sqlite = _is_sqlite(url)
    state: dict = {}

    def q(sql: str) -> str:
        return sql.replace("%s", "?") if sqlite else sql

    sql = {name: q(s) for name, s in (("part", UPSERT_PARTICIPATION), ("ballot", UPSERT_BALLOT),
                                      ("event", INSERT_EVENT), ("head", UPDATE_HEAD))}
    sql["read_head"] = q("SELECT seq, hash FROM floor_audit_head WHERE id = %s" + ("" if sqlite else " FOR UPDATE"))

    def conn():
        if "conn" not in state:  # one connection per worker process (sync workers)
            state["conn"] = connect(url)
        return state["conn"]

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/polls/<int:poll_id>/cast")
    def cast(poll_id: int):
        user = session.get("_user_id")
        choice = request.form.get("choice")
        if not user or choice not in ("yes", "no", "abstain"):
            abort(400)
        voter = int(user.split(":")[0])
        unit = str(voter)
        code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
        receipt = f"{code[:4]}-{code[4:]}"
        c = conn()
        try:
            if sqlite:
                c.execute("BEGIN IMMEDIATE")
            c.execute(sql["part"], (poll_id, unit, voter, receipt))
            c.execute(sql["ballot"], (secrets.randbits(62), poll_id, unit, choice))
            seq, prev = c.execute(sql["read_head"], (poll_id,)).fetchone()
            at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            payload = json.dumps({"poll_id": poll_id, "voter_id": voter, "channel": "online"}, sort_keys=True,
                                 separators=(",", ":"))
            body = json.dumps({"prev": prev, "seq": seq + 1, "at": at, "kind": "ballot_cast", "actor_id": voter,
                               "object_id": poll_id, "payload": payload}, sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha256(body.encode()).hexdigest()
            c.execute(sql["event"], (poll_id, seq + 1, at, voter, poll_id, payload, prev, digest))
            c.execute(sql["head"], (seq + 1, digest, poll_id))
            c.execute("COMMIT") if sqlite else c.commit()
        except Exception:
            try:
                c.execute("ROLLBACK") if sqlite else c.rollback()
            except Exception:  # noqa: BLE001 — the connection is gone: open a new one next time
                state.pop("conn", None)
            raise
        session["voting_receipts"] = {**(session.get("voting_receipts") or {}), str(poll_id): receipt}
        return redirect(f"/polls/{poll_id}")

    return app


app = create_app() if "DATABASE_URL" in os.environ and "SECRET_KEY" in os.environ else None
