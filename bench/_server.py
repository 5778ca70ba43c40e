"""What every benchmark needs before it measures: a fresh database, the people and the
open polls it votes in, gunicorn serving the app (or the floor) on 127.0.0.1, and the
villagers' signed-in sessions; and afterwards everything stopped and removed.

    with Bench("sqlite") as b:                       # or Bench("postgresql", pg_url=...)
        seeded = b.step("seed_vote", villages=1, voters=1000)
        with b.serve(workers=4) as port:             # or b.serve(app="floor")
            ...                                      # drive it with bench/_load.py

The set-up runs inside the app, in a subprocess with the benchmark's environment (the
app reads its database from DATABASE_URL at import), through the app's own services
(townships, villages, role grants, open_poll: so the audit chain verifies afterwards),
with the people inserted in bulk. Sessions are signed in the set-up (a cookie per voter
and its CSRF token), so a measurement is casting, not password hashing; villagers who
sign in for real (the journey) share one password hash, made once.

On PostgreSQL each run gets a schema of its own in the given database (dropped at the
end); on SQLite a file in a temporary directory. Loopback only; every wait is bounded.
"""
from __future__ import annotations

import http.client
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PASSWORD = "bench-password-农村-2026"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/gongyi_bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_pg_database(url: str) -> None:
    """Create the benchmark's database when it is missing (never drops a database)."""
    import psycopg

    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def _pg_schema(url: str, schema: str, create: bool) -> None:
    import psycopg

    with psycopg.connect(url.split("?")[0], autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        if create:
            conn.execute(f"CREATE SCHEMA {schema}")


class Bench:
    """One fresh database and the environment the app and the floor run with."""

    def __init__(self, backend: str, *, pg_url: str = PG_URL, name: str = "bench", extra_env: dict | None = None):
        self.backend = backend
        self.tmp = Path(tempfile.mkdtemp(prefix=f"gongyi-{name}-"))
        self.schema = f"{name}_{os.getpid()}"
        self.pg_url = pg_url.split("?")[0]
        self.secret_key = os.urandom(16).hex()
        env = {k: v for k, v in os.environ.items()
               if k not in ("TEST_DATABASE_URL", "REDIS_URL", "JOBS_IMMEDIATE", "DATABASE_URL")}
        env.update({"GONGYI_INSTANCE": str(self.tmp), "SECRET_KEY": self.secret_key, "MESSAGE_BACKEND": "log",
                    "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
                    # every client of a benchmark comes from 127.0.0.1: count per account only
                    "LOGIN_LIMIT_PER_ADDRESS": "100000 per 15 minutes"})
        if backend == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        elif backend == "postgresql":
            env["DATABASE_URL"] = f"{self.pg_url}?options=-csearch_path%3D{self.schema}"
        else:
            raise ValueError(backend)
        env.update(extra_env or {})
        self.env = env
        self.logs: list[Path] = []

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def __enter__(self) -> "Bench":
        if self.backend == "postgresql":
            ensure_pg_database(self.pg_url)
            _pg_schema(self.pg_url, self.schema, create=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.backend == "postgresql":
            try:
                _pg_schema(self.pg_url, self.schema, create=False)
            except Exception as err:  # noqa: BLE001 — a server that is gone leaves a schema, said once
                print(f"could not drop schema {self.schema}: {err}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- steps run inside the app -------------------------------------------------------

    def step(self, name: str, timeout: float = 900, **kwargs):
        """Run `name` (a function here, or "module:function" in bench/) inside the app in
        a subprocess with this environment; return what it returned (JSON)."""
        out = subprocess.run([sys.executable, str(BENCH / "_server.py"), "--step", name, json.dumps(kwargs)],
                             cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"step {name} failed:\n{out.stderr[-4000:]}")
        lines = [line for line in out.stdout.splitlines() if line.startswith("{") or line.startswith("[")]
        return json.loads(lines[-1]) if lines else None

    def flask(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    # --- serving ------------------------------------------------------------------------

    @contextmanager
    def serve(self, *, workers: int = 4, app: str = "app", timeout: int = 120):
        """gunicorn (sync workers) with the app or the floor on a free loopback port;
        yields a Server once every worker answers."""
        server = Server(self, workers=workers, app=app, timeout=timeout)
        try:
            server.start()
            yield server
        finally:
            server.stop()


class Server:
    def __init__(self, bench: Bench, *, workers: int, app: str, timeout: int):
        self.bench, self.workers, self.app = bench, workers, app
        self.port = free_port()
        self.log = bench.tmp / f"gunicorn-{app}-{self.port}.log"
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        target = "wsgi:app" if self.app == "app" else "floor_app:app"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", str(self.timeout), "--graceful-timeout", "5", "--backlog", "2048", target],
            cwd=ROOT, env=self.bench.env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until_warm(self.port, self.workers, self.proc, self.log)

    def worker_pids(self) -> list[int]:
        """The gunicorn workers' process ids (the children of the arbiter)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(x) for x in out.stdout.split()]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the live workers have used so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def kill_workers(self, n: int) -> list[int]:
        """SIGKILL n workers (gunicorn's arbiter starts new ones)."""
        killed = []
        for pid in self.worker_pids()[:n]:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        return killed

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def wait_until_warm(port: int, workers: int, proc: subprocess.Popen | None = None, log: Path | None = None,
                    seconds: float = 90) -> None:
    """Wait for the port, then until answers come quickly many times in a row (every
    worker booted and has imported what a request needs)."""
    deadline = time.monotonic() + seconds
    fast = 0
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:] if log else ''}")
        ok = False
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
        except (OSError, http.client.HTTPException):
            pass
        fast = fast + 1 if ok and time.perf_counter() - start < 0.2 else 0
        if fast >= workers * 5:
            return
        time.sleep(0.01 if ok else 0.1)
    raise RuntimeError(f"gunicorn on {port} did not become ready in {seconds} s")


# --- inside the app ---------------------------------------------------------------------

def _app():
    from app import create_app
    from app.extensions import db
    from app.schema_extras import install_database_rules

    app = create_app()
    with app.app_context():
        db.create_all()
        install_database_rules(db.engine)
    return app


def sessions_for(app, people) -> list[dict]:
    """A signed-in session cookie (as Flask-Login leaves it after sign-in) and the CSRF
    token of its forms, for each person."""
    from itsdangerous import URLSafeTimedSerializer

    serializer = app.session_interface.get_signing_serializer(app)
    csrf = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    out = []
    for person in people:
        raw = os.urandom(20).hex()
        out.append({"person_id": person.id, "phone": person.phone, "village_id": person.village_id,
                    "cookie": serializer.dumps({"_user_id": person.get_id(), "_fresh": True, "csrf_token": raw}),
                    "csrf": csrf.dumps(raw)})
    return out


def add_people(village, n: int, *, prefix: str, phone_base: int, password_hash: str, role: str = "villager"):
    """n adults of the village, inserted in one statement, each granted `role` through
    the service (so the audit trail records it)."""
    from sqlalchemy import insert, select

    from app.accounts import services as accounts
    from app.accounts.models import Person
    from app.extensions import db

    phones = [f"13{phone_base + i:09d}" for i in range(n)]
    db.session.execute(insert(Person), [{"village_id": village.id, "name": f"{prefix}{i}", "phone": phone,
                                         "password_hash": password_hash} for i, phone in enumerate(phones)])
    people = list(db.session.scalars(select(Person).where(Person.phone.in_(phones)).order_by(Person.id)))
    for person in people:
        accounts.grant_role(person, role, actor=None, village=village)
    return people


def seed_vote(villages: int = 1, voters: int = 1000, journey: int = 0, secret: bool | None = None,
              warmup: int = 0) -> dict:
    """`villages` villages of one township, each with `voters` villagers and one open
    poll in villager_resolution; plus `journey` villagers of the first village who will
    sign in with PASSWORD; with `warmup`, one more village (the last) of that many voters.
    Returns the polls, each voter's session, the journey's phones."""
    from datetime import timedelta

    from app.accounts import services as accounts
    from app.accounts.models import utcnow
    from app.accounts.passwords import hash_password
    from app.deliberation.models import Proposal, ProposalVersion
    from app.extensions import db
    from app.voting import services

    app = _app()
    with app.app_context():
        township = accounts.create_township("压测镇")
        hashed = hash_password(PASSWORD)
        polls, sessions, walkers = [], [], []
        for v in range(villages + (1 if warmup else 0)):
            if v == villages:
                voters = warmup
            village = accounts.create_village(township, f"压测村{v:02d}")
            (author,) = add_people(village, 1, prefix=f"村委{v}-", phone_base=v * 10**6 + 999_000,
                                   password_hash=hashed, role="committee_member")
            accounts.grant_role(author, "villager", actor=None, village=village)
            people = add_people(village, voters + (journey if v == 0 else 0), prefix=f"村民{v}-",
                                phone_base=v * 10**6, password_hash=hashed)
            proposal = Proposal(village=village, title="修缮村内道路和排水沟", matter_category="general",
                                stage="villager_resolution", created_by=author,
                                assembly_announced_at=utcnow() - timedelta(days=30),
                                party_plan_sent_at=utcnow() - timedelta(days=30))
            db.session.add(proposal)
            db.session.flush()
            version = ProposalVersion(proposal=proposal, number=1, title=proposal.title,
                                      body="用集体收入修缮村内道路和排水沟，盖板加固。", created_by=author)
            db.session.add(version)
            db.session.flush()
            proposal.frozen_version = version
            db.session.flush()
            poll = services.open_poll(proposal, author, closes_at=utcnow() + timedelta(hours=6), secret=secret)
            db.session.flush()
            polls.append({"poll_id": poll.id, "proposal_id": proposal.id, "village_id": village.id,
                          "committee": sessions_for(app, [author])[0]})
            for s in sessions_for(app, people[:voters]):
                sessions.append({**s, "poll_id": poll.id})
            if v == 0:
                walkers = [{"phone": p.phone, "person_id": p.id, "poll_id": poll.id, "proposal_id": proposal.id}
                           for p in people[voters:]]
        db.session.commit()
        return {"polls": polls, "sessions": sessions, "journey": walkers}


def count_votes(poll_ids: list[int]) -> dict:
    """What the database holds for the polls: per voter their participation rows, the
    receipt and times cast; counted ballots (sealed choices or ballot rows) per unit."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.voting.models import Ballot, Participation

    app = _app()
    with app.app_context():
        rows = db.session.execute(select(Participation.cast_by_id, Participation.unit_key, Participation.receipt,
                                         Participation.times_cast, Participation.sealed.is_not(None))
                                  .where(Participation.poll_id.in_(poll_ids))).all()
        ballots = dict(db.session.execute(select(Ballot.voter_key, func.count()).where(
            Ballot.poll_id.in_(poll_ids)).group_by(Ballot.voter_key)).all())
        per_voter: dict[int, list] = {}
        for voter, unit, receipt, times, sealed in rows:
            per_voter.setdefault(voter, []).append({"receipt": receipt, "times_cast": times,
                                                    "counted": int(sealed) + ballots.get(unit, 0)})
        return {"voters": {str(k): v for k, v in per_voter.items()}, "participations": len(rows),
                "ballots": sum(ballots.values())}


def integrity_check() -> dict:
    from sqlalchemy import text

    from app.extensions import db

    app = _app()
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return {"integrity_check": None}
        return {"integrity_check": db.session.execute(text("PRAGMA integrity_check")).scalar()}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--step":
        name, kwargs = sys.argv[2], json.loads(sys.argv[3])
        if ":" in name:
            module, func = name.split(":")
            fn = getattr(importlib.import_module(module), func)
        else:
            fn = globals()[name]
        print(json.dumps(fn(**kwargs), ensure_ascii=False))
        return
    raise SystemExit("usage: _server.py --step NAME JSON (used by the benchmarks)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(BENCH))
    main()
