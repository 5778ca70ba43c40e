"""A 10,000-villager CSV import while 100 villagers vote, against gunicorn and the job
queue's worker on 127.0.0.1, each run with a fresh database of its own (bench/_server.py).

    .venv/bin/python bench/bench_import_votes.py [--backend sqlite|postgresql|both] [--rows 10000]
        [--voters 100] [--workers 2] [--spread 10] [--pg-url URL]

The committee uploads the file (the request only stores it); from the same moment 100
villagers cast one ballot each, spread over the first seconds (--spread) of the import. Reported:
the upload's answer time, every vote's time (none may fail, none may wait 2 s), how
long the import took, and how long each of its write transactions held the lock
(from the worker's log). Never part of the unit tests.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _load  # noqa: E402
import _server  # noqa: E402


def import_status(import_id: int) -> dict:
    from app.accounts.models import PeopleImport
    from app.extensions import db

    app = _server._app()
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


def _vote(port: int, s: dict, start: threading.Event, delay: float, out: _load.Outcome, lock) -> None:
    browser = _load.Browser(port, s["cookie"])
    start.wait(60)
    time.sleep(delay)  # the votes are spread over the first seconds of the import
    form = {"csrf_token": s["csrf"], "choice": _load.CHOICES[s["person_id"] % 3], "request_key": uuid.uuid4().hex}
    try:
        status, _h, _b, elapsed = browser.request("POST", f"/polls/{s['poll_id']}/cast", form)
        with lock:
            out.latencies.append(elapsed)
            if status != 302:
                out.add_error(f"HTTP {status}", True)
    except OSError as exc:
        with lock:
            out.add_error(type(exc).__name__, True)
    browser.close()


def bench(backend: str, *, rows: int, voters: int, workers: int, pg_url: str, spread: float) -> dict:
    with _server.Bench(backend, pg_url=pg_url, name="import") as b:
        seeded = b.step("seed_vote", voters=voters)
        chair = seeded["polls"][0]["committee"]
        worker_log = b.tmp / "worker.log"
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
                                  cwd=_server.ROOT, env=b.env, stdout=open(worker_log, "w"),
                                  stderr=subprocess.STDOUT)
        try:
            with b.serve(workers=workers) as server:
                start, lock, votes = threading.Event(), threading.Lock(), _load.Outcome()
                threads = [threading.Thread(target=_vote, args=(server.port, s, start, spread * i / voters, votes,
                                                                lock), daemon=True)
                           for i, s in enumerate(seeded["sessions"][:voters])]
                for t in threads:
                    t.start()
                body, ctype = _multipart(chair["csrf"], _csv(rows))
                committee = _load.Browser(server.port, chair["cookie"], timeout=120)
                started = time.perf_counter()
                start.set()
                committee.conn.request("POST", f"/villages/{chair['village_id']}/people/import", body=body,
                                       headers={"Cookie": f"session={chair['cookie']}", "Host": "127.0.0.1",
                                                "Content-Type": ctype})
                resp = committee.conn.getresponse()
                resp.read()
                upload_ms = (time.perf_counter() - started) * 1000
                location = resp.getheader("Location") or ""
                match = re.search(r"/imports/(\d+)", location)
                if resp.status != 302 or not match:
                    raise RuntimeError(f"upload answered {resp.status} {location}")
                # The committee's progress page (as htmx polls it) until it stops asking to be polled.
                for _ in range(600):  # at most ten minutes
                    committee.conn.request("GET", location, headers={"Cookie": f"session={chair['cookie']}",
                                                                     "Host": "127.0.0.1", "HX-Request": "true"})
                    if "data-hx-trigger" not in committee.conn.getresponse().read().decode():
                        break
                    time.sleep(1)
                import_s = time.perf_counter() - started
                for t in threads:
                    t.join(120)
                committee.close()
        finally:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        state = b.step("bench_import_votes:import_status", import_id=int(match.group(1)))
        text = worker_log.read_text()
    latencies = sorted(votes.latencies)
    batches = [float(x) for x in re.findall(r"staged \d+ rows in ([\d.]+) ms", text)]
    final = [float(x) for x in re.findall(r"people made real in ([\d.]+) ms", text)]
    return {
        "backend": backend, "rows": rows, "voters": voters, "gunicorn_workers": workers,
        "upload_ms": round(upload_ms, 1), "import_seconds": round(import_s, 1), "import": state,
        "votes": len(latencies), "vote_errors": sum(votes.errors.values()), "error_kinds": votes.errors,
        "vote_p50_ms": round(_load.pct(latencies, .5) * 1000, 1),
        "vote_p95_ms": round(_load.pct(latencies, .95) * 1000, 1),
        "vote_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "votes_over_2s": sum(1 for x in latencies if x > 2),
        "batches": len(batches), "batch_max_ms": max(batches, default=0),
        "batch_median_ms": _load.pct(batches, .5) if batches else 0,
        "final_transaction_ms": final[0] if final else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--voters", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the votes are cast")
    parser.add_argument("--pg-url", default=_server.PG_URL)
    args = parser.parse_args()
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        print(json.dumps(bench(backend, rows=args.rows, voters=args.voters, workers=args.workers,
                               pg_url=args.pg_url, spread=args.spread), ensure_ascii=False))


if __name__ == "__main__":
    main()
