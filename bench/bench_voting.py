"""Voting benchmarks against gunicorn on 127.0.0.1, the app and the floor
(bench/floor_app.py) back to back on the same fresh database and the same sessions.

    .venv/bin/python bench/bench_voting.py burst [--backend sqlite|postgresql|both]
        [--workers 4] [--clients 100] [--voters 1000] [--villages 1] [--rounds 1] [--pg-url URL]
    .venv/bin/python bench/bench_voting.py journey [--backend ...] [--walkers 40] [--clients 10]

burst: `--villages` villages, each with `--voters` villagers and its own open poll;
`--clients` clients per village cast their ballots at once (every tenth voter changes
the ballot once more), first against the app, then against the floor; with `--rounds N`
N times on fresh villages, in turn the app first and the floor first. Each server is
warmed by the casts of a small village of its own before it is measured. Afterwards the
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


WARMUP_VOTERS = 40  # a village of its own, voted in on each server before it is measured


def burst(backend: str, *, workers: int = 4, clients: int = 100, voters: int = 1000, villages: int = 1,
          pg_url: str = _server.PG_URL, floor: bool = True, walkers: int = 0, walker_clients: int = 10,
          rounds: int = 1) -> list[dict]:
    """The app's burst and the floor's on one fresh database; one result each.

    Each server is warmed first: the voters of a village of its own cast once (not
    measured), so every worker has met the cast once, as a server that has been up for
    a while has. With `rounds` above 1, each round has fresh voters of other villages and
    every second round runs the floor first, then the app: a machine that gets faster or
    slower during the run then favours neither, and the ratio is the mean of the rounds'
    ratios. With `walkers`, their journeys run first on the first app server (other
    villagers of the first village, so the burst's voters are untouched); their result
    comes last."""
    results = []
    walked = None
    with _server.Bench(backend, pg_url=pg_url, name="burst") as b:
        seeded = b.step("seed_vote", villages=villages * rounds, voters=voters, journey=walkers,
                        warmup=WARMUP_VOTERS)
        polls = [p["poll_id"] for p in seeded["polls"]]
        warmup = [s for s in seeded["sessions"] if s["poll_id"] == polls[-1]]
        b.step("floor_app:create_schema", polls=polls)
        ratios = []
        for r in range(rounds):
            measured = polls[r * villages:(r + 1) * villages]
            sessions = [s for s in seeded["sessions"] if s["poll_id"] in measured]
            base = {"backend": backend, "workers": workers, "villages": villages, "clients": clients * villages,
                    "voters": len(sessions), "round": r + 1}
            order = ("app", "floor") if r % 2 == 0 else ("floor", "app")
            run = {}
            for which in order if floor else ("app",):
                with b.serve(workers=workers, app=which) as server:
                    _load.Burst(server.port, warmup, min(clients, len(warmup))).run()
                    if which == "app" and walkers and walked is None:
                        walked = {"backend": backend, "workers": workers,
                                  **_load.journeys(server.port, seeded["journey"], _server.PASSWORD, walker_clients)}
                    cpu = server.cpu_seconds()
                    outcome = _load.Burst(server.port, sessions, clients * villages).run()
                    cpu = server.cpu_seconds() - cpu
                if which == "app":
                    checked = _load.check_counted(outcome, b.step("count_votes", poll_ids=measured))
                else:
                    counted = b.step("floor_app:count", polls=measured)
                    checked = {"lost": None, "duplicates": None, "chains_link": counted["chains_link"],
                               "participations": counted["participations"]}
                run[which] = {**base, "app": which, **_load.summary(outcome), **checked,
                              "server_cpu_ms_per_vote": round(cpu * 1000 / max(outcome.requests, 1), 2)}
                results.append(run[which])
            if "floor" in run and run["floor"]["votes_per_second"]:
                app, bare = run["app"], run["floor"]
                app["app_over_floor"] = round(app["votes_per_second"] / bare["votes_per_second"], 2)
                app["p95_app_over_floor"] = round(app["p95_ms"] / max(bare["p95_ms"], 0.1), 1)
                ratios.append(app["votes_per_second"] / bare["votes_per_second"])
        if len(ratios) > 1:
            first_app = next(x for x in results if x["app"] == "app")
            first_app["app_over_floor_mean"] = round(sum(ratios) / len(ratios), 2)
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
    parser.add_argument("--rounds", type=int, default=1, help="burst: 2 runs app, floor, then floor, app")
    parser.add_argument("--pg-url", default=_server.PG_URL)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        if args.what == "burst":
            out = burst(backend, workers=args.workers, clients=args.clients or 100, voters=args.voters,
                        villages=args.villages, pg_url=args.pg_url, floor=not args.no_floor,
                        rounds=args.rounds)
        else:
            out = [journey(backend, workers=args.workers, walkers=args.walkers, clients=args.clients or 10,
                           pg_url=args.pg_url)]
        for r in out:
            print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
