"""Two app processes on two ports, one PostgreSQL database and one Redis, behave as one
installation (as two machines behind one load balancer would): a session started on
one is valid on the other, sign-in limits count across both, and a vote burst split
across both loses nothing. Bounded: the servers boot within 30 s, every request has a
timeout, the whole test stays well under a minute here."""
from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.config import TestConfig
from tests.conftest import CSRF_RE, ON_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("REDIS_TEST_URL")
SCHEMA = "two_app_processes"
PASSWORD = "two-machines-password"
VOTERS = 12


def _reachable_or_skip():
    if not ON_POSTGRES:
        pytest.skip("runs with the PostgreSQL suite (TEST_DATABASE_URL=postgresql://…; CI sets it)")
    if not REDIS:
        pytest.skip("REDIS_TEST_URL not set (CI sets it)")
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS} is unreachable: {exc}")


class Cfg(TestConfig):
    SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}


def _setup() -> dict:
    """A fresh schema with a village, its voters and an open poll; committed."""
    from datetime import timedelta

    from app.accounts.models import utcnow
    from app.accounts.passwords import hash_password
    from app.extensions import db
    from app.schema_extras import install_database_rules
    from app.voting import services
    from tests.factories import make_township, make_village
    from tests.voting.factories import ready_proposal

    app = create_app(Cfg)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        db.create_all()
        install_database_rules(db.engine)
        from app.accounts import services as accounts
        from app.accounts.models import Person

        village = make_village(make_township("双机镇"), "双机村")
        hashed = hash_password(PASSWORD)
        base = secrets.randbelow(10**6)
        people = []
        for i in range(VOTERS + 1):
            person = Person(village=village, name=f"村民{i}", phone=f"186{base:06d}{i:02d}", password_hash=hashed)
            db.session.add(person)
            people.append(person)
        db.session.flush()
        for person in people:
            accounts.grant_role(person, "villager", actor=None, village=village)
        author = people[0]
        accounts.grant_role(author, "committee_member", actor=None, village=village)
        proposal = ready_proposal("villager_resolution", village, author=author)
        poll = services.open_poll(proposal, author, closes_at=utcnow() + timedelta(hours=2))
        db.session.commit()
        result = {"poll_id": poll.id, "phones": {p.id: p.phone for p in people[1:]}, "author": author.phone}
        db.session.remove()
        db.engine.dispose()
    return result


def _count(poll_id: int) -> dict:
    from app.extensions import db
    from app.voting.models import Ballot, Participation

    app = create_app(Cfg)
    with app.app_context():
        # A secret poll's choice is sealed on its participation row until the poll closes
        # (docs/voting-security.md); the ballot table fills only at close.
        sealed = db.session.scalar(select(func.count()).select_from(Participation).where(
            Participation.poll_id == poll_id, Participation.sealed.is_not(None)))
        ballots = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll_id))
        parts = dict(db.session.execute(select(Participation.cast_by_id, func.count()).where(
            Participation.poll_id == poll_id).group_by(Participation.cast_by_id)).all())
        db.session.remove()
        db.engine.dispose()
    return {"sealed": sealed, "ballots": ballots, "participations": parts}


def _drop_schema():
    from app.extensions import db

    app = create_app(Cfg)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                             "--timeout", "60", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)


def _wait_ready(port: int, server: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn on {port} exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn on {port} did not answer within {seconds} s: {log.read_text()[-2000:]}")


class Phone:
    """One person's browser: cookies are kept per host, not per port, so both app
    processes on 127.0.0.1 see the same session cookie, as behind one load balancer."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = None

    def get(self, port: int, path: str) -> tuple[int, str]:
        return self._open(port, path)

    def post(self, port: int, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        return self._open(port, path, body)

    def _open(self, port, path, body=None):
        try:
            with self.opener.open(f"http://127.0.0.1:{port}{path}", data=body, timeout=30) as resp:
                status, html = resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            status, html = exc.code, exc.read().decode()
        m = CSRF_RE.search(html)
        if m:
            self.token = m.group(1) or m.group(2)
        return status, html

    def sign_in(self, port: int, phone: str, password: str = PASSWORD) -> int:
        self.get(port, "/login")
        status, _html = self.post(port, "/login", {"phone": phone, "password": password})
        return status


def test_two_app_processes_share_sessions_sign_in_limits_and_a_vote_burst(tmp_path):
    _reachable_or_skip()
    setup = _setup()
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    url = TestConfig.SQLALCHEMY_DATABASE_URI.replace("postgresql+psycopg://", "postgresql://", 1)
    env.update({"DATABASE_URL": f"{url}?options=-csearch_path%3D{SCHEMA}", "REDIS_URL": REDIS,
                "SECRET_KEY": secrets.token_hex(16), "GONGYI_INSTANCE": str(tmp_path / "instance"),
                "MESSAGE_BACKEND": "log", "PYTHONPATH": str(ROOT),
                # every phone of the burst comes from 127.0.0.1: count per account only
                "LOGIN_LIMIT_PER_ADDRESS": "10000 per 15 minutes"})
    ports = [_free_port(), _free_port()]
    servers = []
    try:
        for i, port in enumerate(ports):
            servers.append(_start(port, env, tmp_path / f"gunicorn-{i}.log"))
        for i, (port, server) in enumerate(zip(ports, servers)):
            _wait_ready(port, server, tmp_path / f"gunicorn-{i}.log")
        a, b = ports
        poll = setup["poll_id"]

        # A session started on one process is valid on the other.
        phone = Phone()
        assert phone.sign_in(a, setup["author"]) == 200  # redirected to the home page
        status, html = phone.get(b, f"/polls/{poll}")
        assert status == 200 and f"/polls/{poll}/confirm" in html  # the ballot, not the sign-in page

        # Sign-in limits count across both: 5 wrong passwords per account in all.
        target = next(iter(setup["phones"].values()))
        attempts = [Phone().sign_in(port, target, "wrong-password-x") for port in (a, b, a, b, a, b)]
        assert attempts == [400, 400, 400, 400, 400, 429], attempts

        # A vote burst split across both: each voter signs in on one and votes on the other.
        voters = [(pid, ph) for pid, ph in setup["phones"].items() if ph != target]

        def vote(item):
            i, (pid, ph) = item
            me = Phone()
            assert me.sign_in(ports[i % 2], ph) == 200
            other = ports[(i + 1) % 2]
            me.get(other, f"/polls/{poll}")
            choice = ("yes", "no", "abstain")[i % 3]
            status, _ = me.post(other, f"/polls/{poll}/cast", {"choice": choice})
            return pid, status

        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(vote, enumerate(voters), timeout=40))
        assert all(status == 200 for _pid, status in results), results
        counted = _count(poll)
        assert counted["sealed"] == len(voters) and counted["ballots"] == 0
        assert counted["participations"] == {pid: 1 for pid, _ in voters}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        _drop_schema()
