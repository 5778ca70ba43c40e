"""The fault run: a vote burst against gunicorn (4 workers) during which two workers are
killed with SIGKILL and, on PostgreSQL, the database server is restarted; then the
database is checked.

    .venv/bin/python bench/fault_run.py [--backend sqlite|postgresql|both]
        [--voters 700] [--clients 100] [--workers 4]

Clients retry a cast after a connection error or a 5xx with the same request key (the
vote form's hidden `request_key`), for at most 90 s; a cast counts as receipted when
its answer was the 302 back to the poll page. Afterwards:

- every receipted vote is present: the voter's participation row holds the receipt the
  client saw last, or a later cast;
- no voter has two participation rows or two counted ballots;
- `flask --app wsgi audit verify` passes;
- on SQLite, `PRAGMA integrity_check` answers ok.

PostgreSQL is never restarted on the shared server: the run makes a private cluster
(`pg_createcluster 15 faultrun` on a free port, trust on loopback only), restarts that
one mid-burst with `pg_ctlcluster … restart` and drops it at the end. That needs root
(or the postgres user) and Debian's postgresql-common; without them the PostgreSQL
part says so and is skipped. Never part of the unit tests (tests/test_fault_smoke.py
is the small version).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _load  # noqa: E402
import _server  # noqa: E402

CLUSTER = ("15", "faultrun")


def run_with_faults(bench: _server.Bench, *, workers: int, voters: int, clients: int,
                    kills_at: tuple[float, ...] = (0.15, 0.35), restart_at: float | None = None,
                    restart=None) -> dict:
    """Seed, serve, burst with retries; SIGKILL one worker at each fraction of `kills_at`
    of the casts done, call `restart()` at `restart_at`; then check the database."""
    seeded = bench.step("seed_vote", voters=voters)
    polls = [p["poll_id"] for p in seeded["polls"]]
    faults: list[dict] = []
    with bench.serve(workers=workers) as server:
        burst = _load.Burst(server.port, seeded["sessions"], clients, retry=True).start()
        plan = sorted([(f, "kill") for f in kills_at] + ([(restart_at, "restart")] if restart_at is not None else []))
        deadline = time.monotonic() + 600
        while plan and time.monotonic() < deadline and any(t.is_alive() for t in burst.threads):
            fraction, what = plan[0]
            if burst.done >= fraction * burst.total:
                plan.pop(0)
                at = {"after_casts": burst.done, "of": burst.total}
                if what == "kill":
                    faults.append({**at, "fault": "SIGKILL worker", "pids": server.kill_workers(1)})
                else:
                    started = time.perf_counter()
                    restart()
                    faults.append({**at, "fault": "database restarted",
                                   "seconds": round(time.perf_counter() - started, 1)})
            time.sleep(0.005)
        outcome = burst.join()
        workers_after = _wait_for_workers(server, workers)
    counted = bench.step("count_votes", poll_ids=polls)
    checked = _load.check_counted(outcome, counted)
    verify = bench.flask("audit", "verify")
    integrity = bench.step("integrity_check")["integrity_check"]
    return {"backend": bench.backend, "workers": workers, "clients": clients, "voters": voters,
            "casts": outcome.casts, **_load.summary(outcome), "failed_attempts": outcome.failures, **checked,
            "faults": faults, "workers_after": workers_after,
            "audit_verify_ok": verify.returncode == 0, "audit_verify": (verify.stdout + verify.stderr).strip()[-300:],
            "integrity_check": integrity}


def _wait_for_workers(server: _server.Server, workers: int, seconds: float = 30) -> int:
    """gunicorn starts a new worker for each one killed: wait until all are back."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(server.worker_pids()) < workers:
        time.sleep(0.2)
    return len(server.worker_pids())


@contextmanager
def private_cluster():
    """A PostgreSQL cluster of the run's own on a free loopback port; yields its URL and
    a function that restarts it. Dropped at the end."""
    if not shutil.which("pg_createcluster") or os.geteuid() != 0:
        raise RuntimeError("needs root and pg_createcluster (Debian's postgresql-common)")
    version, name = CLUSTER
    subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True)  # a previous run's
    port = _server.free_port()
    subprocess.run(["pg_createcluster", version, name, "--port", str(port), "--start", "--",
                    "--auth-local=trust", "--auth-host=trust"], check=True, capture_output=True, timeout=120)
    try:
        subprocess.run(["pg_ctlcluster", version, name, "reload"], check=True, capture_output=True, timeout=60)
        url = f"postgresql://postgres@127.0.0.1:{port}/gongyi_faultrun"
        _server.ensure_pg_database(url)

        def restart():
            subprocess.run(["pg_ctlcluster", version, name, "restart", "-m", "fast"], check=True,
                           capture_output=True, timeout=120)

        yield url, restart
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=120)


def fault_run(backend: str, *, workers: int = 4, voters: int = 700, clients: int = 100) -> dict:
    if backend == "sqlite":
        with _server.Bench("sqlite", name="faultrun") as b:
            return run_with_faults(b, workers=workers, voters=voters, clients=clients)
    try:
        cluster = private_cluster()
        url, restart = cluster.__enter__()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        return {"backend": backend, "skipped": str(exc)}
    try:
        with _server.Bench("postgresql", pg_url=url, name="faultrun") as b:
            return run_with_faults(b, workers=workers, voters=voters, clients=clients, restart_at=0.55,
                                   restart=restart)
    finally:
        cluster.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--voters", type=int, default=700)
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        print(json.dumps(fault_run(backend, workers=args.workers, voters=args.voters, clients=args.clients),
                         ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
