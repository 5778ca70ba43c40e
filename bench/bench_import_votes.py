"""A 10,000-villager CSV import while 100 villagers vote, against gunicorn and the job
queue's worker on 127.0.0.1, each run with a temporary database of its own.

    .venv/bin/python bench/bench_import_votes.py [--backend sqlite|postgresql|both] [--rows 10000]
        [--voters 100] [--workers 2] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

The committee uploads the file (the request only stores it); from the same moment 100
villagers cast one ballot each, spread over the first seconds (--spread) of the import. Reported:
the upload's answer time, every vote's time (none may fail, none may wait 2 s), how
long the import took, and how long each of its write transactions held the lock
(from the worker's log). Never part of the unit tests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import bench_voting  # noqa: E402  (its set-up: a village, an open poll, signed-in voters)

SCHEMA = bench_voting.SCHEMA


def _setup(voters: int) -> dict:
    from itsdangerous import URLSafeTimedSerializer
    from sqlalchemy import select

    from app import create_app
    from app.accounts.models import Person, RoleGrant
    from app.extensions import db

    result = bench_voting._setup(voters)
    app = create_app()
    with app.app_context():
        chair = db.session.scalar(select(Person).join(RoleGrant).where(RoleGrant.role == "committee_member"))
        serializer = app.session_interface.get_signing_serializer(app)
        raw = os.urandom(20).hex()
        result["chair"] = {"cookie": serializer.dumps({"_user_id": chair.get_id(), "_fresh": True, "csrf_token": raw}),
                           "csrf": URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw),
                           "village_id": chair.village_id}
    return result


def _status(import_id: int) -> dict:
    from app import create_app
    from app.accounts.models import PeopleImport
    from app.extensions import db

    app = create_app()
    with app.app_context():
        r = db.session.get(PeopleImport, import_id)
        return {"status": r.status, "created": r.created_count, "staged": r.staged_rows}


def _csv(rows: int) -> bytes:
    lines = ["姓名,手机号,户号,性别,出生日期,角色"]
    for i in range(rows):
        lines.append(f"村民{i},135{i:08d},{i // 4 + 1},{'女' if i % 2 else '男'},1965-03-0{i % 9 + 1},村民")
    return ("\n".join(lines) + "\n").encode()


def _multipart(csrf: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Voter(threading.Thread):
    def __init__(self, port, poll_id, session, start_event, delay):
        super().__init__(daemon=True)
        self.port, self.poll_id, self.s = port, poll_id, session
        self.start_event, self.delay = start_event, delay
        self.latencies, self.errors = [], []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.start_event.wait(60)
        time.sleep(self.delay)  # the 100 votes are spread over the first seconds of the import
        choice = ("yes", "no", "abstain")[self.s["person_id"] % 3]
        started = time.perf_counter()
        try:
            conn.request("POST", f"/polls/{self.poll_id}/cast", body=f"csrf_token={self.s['csrf']}&choice={choice}",
                         headers={"Cookie": f"session={self.s['cookie']}", "Host": "127.0.0.1",
                                  "Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            resp.read()
            self.latencies.append(time.perf_counter() - started)
            if resp.status != 302:
                self.errors.append(f"HTTP {resp.status}")
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(repr(exc))
        conn.close()


def bench(backend: str, *, rows: int, voters: int, workers: int, pg_url: str, spread: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="gongyi-bench-import-"))
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "REDIS_URL", "JOBS_IMMEDIATE")}
    env.update({"GONGYI_INSTANCE": str(tmp), "SECRET_KEY": os.urandom(16).hex(), "MESSAGE_BACKEND": "log",
                "PYTHONPATH": str(ROOT)})
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        env["BENCH_ADMIN_URL"] = pg_url
        env["DATABASE_URL"] = f"{pg_url}?options=-csearch_path%3D{SCHEMA}"
        bench_voting._run_step({**env, "BENCH_CREATE": "1"}, "--teardown-pg")
    server = worker = None
    try:
        setup = _run(env, "--setup", str(voters))
        port = bench_voting._free_port()
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                   "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=open(tmp / "gunicorn.log", "w"), stderr=subprocess.STDOUT)
        worker_log = tmp / "worker.log"
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
                                  cwd=ROOT, env=env, stdout=open(worker_log, "w"), stderr=subprocess.STDOUT)
        bench_voting._wait_until_warm(port, workers)
        start_event = threading.Event()
        clients = [Voter(port, setup["poll_id"], s, start_event, spread * i / voters)
                   for i, s in enumerate(setup["sessions"][:voters])]
        for c in clients:
            c.start()
        chair = setup["chair"]
        body, ctype = _multipart(chair["csrf"], _csv(rows))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        start_event.set()
        conn.request("POST", f"/villages/{chair['village_id']}/people/import", body=body,
                     headers={"Cookie": f"session={chair['cookie']}", "Host": "127.0.0.1", "Content-Type": ctype})
        resp = conn.getresponse()
        resp.read()
        upload_ms = (time.perf_counter() - started) * 1000
        location = resp.getheader("Location") or ""
        match = re.search(r"/imports/(\d+)", location)
        if resp.status != 302 or not match:
            raise RuntimeError(f"upload answered {resp.status} {location}")
        import_id = int(match.group(1))
        # The committee's progress page (as htmx polls it) until it stops asking to be polled.
        for _ in range(600):  # at most ten minutes
            conn.request("GET", location, headers={"Cookie": f"session={chair['cookie']}", "Host": "127.0.0.1",
                                                   "HX-Request": "true"})
            page = conn.getresponse().read().decode()
            if "data-hx-trigger" not in page:
                break
            time.sleep(1)
        import_s = time.perf_counter() - started
        state = _run(env, "--status", str(import_id))
        for c in clients:
            c.join(120)
        latencies = sorted(x for c in clients for x in c.latencies)
        errors = [e for c in clients for e in c.errors]
        text = worker_log.read_text()
        batches = [float(x) for x in re.findall(r"staged \d+ rows in ([\d.]+) ms", text)]
        final = [float(x) for x in re.findall(r"people made real in ([\d.]+) ms", text)]
        return {
            "backend": backend, "rows": rows, "voters": len(clients), "gunicorn_workers": workers,
            "upload_ms": round(upload_ms, 1), "import_seconds": round(import_s, 1), "import": state,
            "votes": len(latencies), "vote_errors": len(errors), "first_errors": errors[:3],
            "vote_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "vote_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
            "vote_max_ms": round(latencies[-1] * 1000, 1),
            "votes_over_2s": sum(1 for x in latencies if x > 2),
            "batches": len(batches), "batch_max_ms": max(batches, default=0),
            "batch_median_ms": sorted(batches)[len(batches) // 2] if batches else 0,
            "final_transaction_ms": final[0] if final else None,
        }
    finally:
        for proc in (worker, server):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if backend != "sqlite":
            bench_voting._run_step(env, "--teardown-pg")
        shutil.rmtree(tmp, ignore_errors=True)


def _run(env: dict, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--voters", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the votes are cast")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--setup", type=int)
    parser.add_argument("--status", type=int)
    args = parser.parse_args()
    if args.setup is not None:
        print(json.dumps(_setup(args.setup)))
        return
    if args.status is not None:
        print(json.dumps(_status(args.status)))
        return
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        print(json.dumps(bench(backend, rows=args.rows, voters=args.voters, workers=args.workers,
                               pg_url=args.pg_url, spread=args.spread), ensure_ascii=False))


if __name__ == "__main__":
    main()
