"""Voting benchmarks against gunicorn on 127.0.0.1, the app and the floor
(bench/floor_app.py) back to back on the same fresh database and the same sessions.

    .venv/bin/python bench/bench_voting.py burst [--backend sqlite|postgresql|both]
        [--workers 4] [--clients 100] [--voters 1000] [--villages 1] [--pg-url URL]
    .venv/bin/python bench/bench_voting.py journey [--backend ...] [--walkers 40] [--clients 10]

burst: `--villages` villages, each with `--voters` villagers and its own open poll;
`--clients` clients per village cast their ballots at once (every tenth voter changes
the ballot once more), first against the app, then against the floor. Afterwards the
database is counted: *lost* is a voter whose cast was receipted but whose row holds
neither that receipt nor a later cast; a *duplicate* is more than one participation
row or counted ballot for one voter.

journey: villagers sign in with their password, open the home page, the proposal and
the poll, confirm, cast, see their receipt, change the vote and see the new receipt.
Per step p50/p95/p99.

Prints one JSON line per result. Never part of the unit tests.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _load  # noqa: E402
import _server  # noqa: E402


def burst(backend: str, *, workers: int = 4, clients: int = 100, voters: int = 1000, villages: int = 1,
          pg_url: str = _server.PG_URL, floor: bool = True, walkers: int = 0, walker_clients: int = 10) -> list[dict]:
    """The app's burst, then the floor's, on one fresh database; one result each. With
    `walkers`, their journeys run first on the same app server (other villagers of the
    first village, so the burst's voters are untouched); their result comes last."""
    results = []
    walked = None
    with _server.Bench(backend, pg_url=pg_url, name="burst") as b:
        seeded = b.step("seed_vote", villages=villages, voters=voters, journey=walkers)
        polls = [p["poll_id"] for p in seeded["polls"]]
        sessions = seeded["sessions"]
        b.step("floor_app:create_schema", polls=polls)
        base = {"backend": backend, "workers": workers, "villages": villages, "clients": clients * villages,
                "voters": len(sessions)}
        for which in ("app", "floor") if floor else ("app",):
            with b.serve(workers=workers, app=which) as server:
                if which == "app" and walkers:
                    walked = {"backend": backend, "workers": workers,
                              **_load.journeys(server.port, seeded["journey"], _server.PASSWORD, walker_clients)}
                cpu = server.cpu_seconds()
                outcome = _load.Burst(server.port, sessions, clients * villages).run()
                cpu = server.cpu_seconds() - cpu
            if which == "app":
                checked = _load.check_counted(outcome, b.step("count_votes", poll_ids=polls))
            else:
                counted = b.step("floor_app:count", polls=polls)
                checked = {"lost": None, "duplicates": None, "chains_link": counted["chains_link"],
                           "participations": counted["participations"]}
            results.append({**base, "app": which, **_load.summary(outcome), **checked,
                            "server_cpu_ms_per_vote": round(cpu * 1000 / max(outcome.requests, 1), 2)})
    for r in results[1:]:
        if r["app"] == "floor" and r["votes_per_second"]:
            results[0]["app_over_floor"] = round(results[0]["votes_per_second"] / r["votes_per_second"], 2)
            results[0]["p95_app_over_floor"] = round(results[0]["p95_ms"] / max(r["p95_ms"], 0.1), 1)
    return results + ([walked] if walked else [])


def journey(backend: str, *, workers: int = 4, walkers: int = 40, clients: int = 10,
            pg_url: str = _server.PG_URL) -> dict:
    with _server.Bench(backend, pg_url=pg_url, name="journey") as b:
        seeded = b.step("seed_vote", villages=1, voters=0, journey=walkers)
        with b.serve(workers=workers) as server:
            result = _load.journeys(server.port, seeded["journey"], _server.PASSWORD, clients)
    return {"backend": backend, "workers": workers, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["burst", "journey"])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=None, help="burst: per village (100); journey: 10")
    parser.add_argument("--voters", type=int, default=1000, help="burst: voters per village")
    parser.add_argument("--villages", type=int, default=1)
    parser.add_argument("--walkers", type=int, default=40)
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--pg-url", default=_server.PG_URL)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        if args.what == "burst":
            out = burst(backend, workers=args.workers, clients=args.clients or 100, voters=args.voters,
                        villages=args.villages, pg_url=args.pg_url, floor=not args.no_floor)
        else:
            out = [journey(backend, workers=args.workers, walkers=args.walkers, clients=args.clients or 10,
                           pg_url=args.pg_url)]
        for r in out:
            print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
