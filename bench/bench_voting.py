"""Voting load benchmark: 1,000 ballots from 100 concurrent clients against the app
served by gunicorn (several workers), on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_voting.py [--backend sqlite|postgresql|both] [--workers 4]
        [--clients 100] [--ballots 1000] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

Each client holds the signed-in sessions of its voters (made in the set-up step, so the
measurement is casting, not password hashing), opens the poll page once per voter for
its CSRF token, then POSTs the ballot (/polls/<id>/cast) and expects the redirect. Every
tenth voter changes the ballot once more. Afterwards the database is counted: a lost
ballot is a voter whose cast was acknowledged but has no ballot; a duplicate is more
than one ballot or participation for one voter. Only loopback traffic; every loop is
bounded. Never part of the unit tests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_voting"


# --- steps run inside the app (subprocesses with the benchmark's environment) ---------

def _setup(voters: int) -> dict:
    """Create the schema, a village with `voters` adult villagers, a proposal in
    villager_resolution and its open poll; return the poll id and each voter's
    session cookie and CSRF token."""
    from datetime import timedelta

    from itsdangerous import URLSafeTimedSerializer

    from app import create_app
    from app.accounts import services as accounts
    from app.accounts.models import Person, utcnow
    from app.accounts.passwords import hash_password
    from app.deliberation.models import Proposal, ProposalVersion
    from app.extensions import db
    from app.schema_extras import install_database_rules
    from app.voting import services

    app = create_app()
    with app.app_context():
        db.create_all()
        install_database_rules(db.engine)
        township = accounts.create_township("压测镇")
        village = accounts.create_village(township, "压测村")
        password_hash = hash_password("bench-password-not-used")
        people = []
        for i in range(voters + 1):
            person = Person(village=village, name=f"村民{i}", phone=f"1860000{i:04d}", birth_date=None,
                            password_hash=password_hash)
            db.session.add(person)
            people.append(person)
        db.session.flush()
        for i, person in enumerate(people):
            accounts.grant_role(person, "villager", actor=None, village=village)
            if i == 0:
                accounts.grant_role(person, "committee_member", actor=None, village=village)
        author = people[0]
        proposal = Proposal(village=village, title="压测议题", matter_category="general",
                            stage="villager_resolution", created_by=author,
                            assembly_announced_at=utcnow() - timedelta(days=30))
        db.session.add(proposal)
        db.session.flush()
        version = ProposalVersion(proposal=proposal, number=1, title="压测议题", body="压测。", created_by=author)
        db.session.add(version)
        db.session.flush()
        proposal.frozen_version = version
        db.session.flush()
        poll = services.open_poll(proposal, author, closes_at=utcnow() + timedelta(hours=6))
        db.session.commit()

        serializer = app.session_interface.get_signing_serializer(app)
        csrf_serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
        sessions = []
        for person in people[1:]:
            raw = os.urandom(20).hex()
            cookie = serializer.dumps({"_user_id": person.get_id(), "_fresh": True, "csrf_token": raw})
            sessions.append({"person_id": person.id, "cookie": cookie, "csrf": csrf_serializer.dumps(raw)})
        return {"poll_id": poll.id, "sessions": sessions}


def _count(poll_id: int) -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.voting.models import Ballot, Participation

    app = create_app()
    with app.app_context():
        ballots = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll_id))
        parts = db.session.execute(select(Participation.cast_by_id, func.count()).where(
            Participation.poll_id == poll_id).group_by(Participation.cast_by_id)).all()
        return {"ballots": ballots, "participations": sum(n for _, n in parts),
                "voters": [pid for pid, _ in parts], "max_per_voter": max((n for _, n in parts), default=0)}


def _teardown_pg() -> None:
    from sqlalchemy import create_engine, text

    url = os.environ["BENCH_ADMIN_URL"]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        if os.environ.get("BENCH_CREATE") == "1":
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine.dispose()


def _run_step(env: dict, *args: str) -> dict | None:
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


# --- the load -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client(threading.Thread):
    """One concurrent client casting the ballots of its voters, one after the other."""

    def __init__(self, port: int, poll_id: int, sessions: list[dict], barrier: threading.Barrier):
        super().__init__(daemon=True)
        self.port, self.poll_id, self.sessions, self.barrier = port, poll_id, sessions, barrier
        self.latencies: list[float] = []
        self.acknowledged: list[int] = []
        self.errors: list[str] = []

    def _request(self, conn, method, path, cookie, body=None):
        headers = {"Cookie": f"session={cookie}", "Host": "127.0.0.1"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.barrier.wait(timeout=120)
        for i, s in enumerate(self.sessions):
            casts = 2 if i % 10 == 0 else 1  # every tenth voter changes the ballot once more
            for attempt in range(casts):
                choice = ("yes", "no", "abstain")[(s["person_id"] + attempt) % 3]
                body = f"csrf_token={s['csrf']}&choice={choice}"
                start = time.perf_counter()
                try:
                    status = self._request(conn, "POST", f"/polls/{self.poll_id}/cast", s["cookie"], body)
                except (OSError, http.client.HTTPException) as exc:
                    self.errors.append(repr(exc))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                    continue
                self.latencies.append(time.perf_counter() - start)
                if status == 302:
                    if attempt == 0:
                        self.acknowledged.append(s["person_id"])
                else:
                    self.errors.append(f"HTTP {status}")
        conn.close()


def _wait_until_warm(port: int, workers: int) -> None:
    """Wait for the port, then until every worker answers /healthz quickly (booted)."""
    fast = 0
    for _ in range(600):  # at most about a minute
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            start = time.perf_counter()
            conn.request("GET", "/login" if fast % 2 else "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
        except (OSError, http.client.HTTPException):
            ok = False
        fast = fast + 1 if ok and time.perf_counter() - start < 0.1 else 0
        if fast >= workers * 5:
            return
        time.sleep(0.1 if not ok else 0.01)


def bench(backend: str, *, workers: int, clients: int, ballots: int, pg_url: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="gongyi-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL",)}
    env.update({"GONGYI_INSTANCE": str(tmp), "SECRET_KEY": os.urandom(16).hex(), "MESSAGE_BACKEND": "log",
                "PYTHONPATH": str(ROOT)})
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        env["BENCH_ADMIN_URL"] = pg_url
        env["DATABASE_URL"] = f"{pg_url}?options=-csearch_path%3D{SCHEMA}"
        _run_step({**env, "BENCH_CREATE": "1"}, "--teardown-pg")
    server = None
    try:
        setup = _run_step(env, "--setup", str(ballots))
        port = _free_port()
        log = open(tmp / "gunicorn.log", "w")
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                   "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        _wait_until_warm(port, workers)
        sessions = setup["sessions"]
        barrier = threading.Barrier(clients)
        workers_ = [Client(port, setup["poll_id"], sessions[i::clients], barrier) for i in range(clients)]
        started = time.perf_counter()
        for c in workers_:
            c.start()
        for c in workers_:
            c.join(600)
        elapsed = time.perf_counter() - started
        latencies = sorted(x for c in workers_ for x in c.latencies)
        acknowledged = {pid for c in workers_ for pid in c.acknowledged}
        errors = [e for c in workers_ for e in c.errors]
        counted = _run_step(env, "--count", str(setup["poll_id"]))
        counted_voters = set(counted["voters"])
        return {
            "backend": backend, "workers": workers, "clients": clients, "voters": len(sessions),
            "requests": len(latencies), "seconds": round(elapsed, 2),
            "votes_per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
            "ballots": counted["ballots"], "lost": len(acknowledged - counted_voters),
            "duplicates": (counted["ballots"] - len(counted_voters)) + (counted["max_per_voter"] > 1),
            "errors": len(errors), "first_errors": errors[:3],
        }
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        if backend != "sqlite":
            _run_step(env, "--teardown-pg")
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--ballots", type=int, default=1000)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--setup", type=int)
    parser.add_argument("--count", type=int)
    parser.add_argument("--teardown-pg", action="store_true")
    args = parser.parse_args()
    if args.setup is not None:
        print(json.dumps(_setup(args.setup)))
        return
    if args.count is not None:
        print(json.dumps(_count(args.count)))
        return
    if args.teardown_pg:
        _teardown_pg()
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        result = bench(backend, workers=args.workers, clients=args.clients, ballots=args.ballots, pg_url=args.pg_url)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
