"""Audit appends from many villages at once: per-village chains against all writers on
one chain (what a single installation-wide chain was), on the same database.

    .venv/bin/python bench/bench_chain_append.py --database-url postgresql://…/db   # drops its schema!
    .venv/bin/python bench/bench_chain_append.py                                    # SQLite (one writer)

Each of --villages threads appends --events events, one transaction each (the audit
append of a vote: the head's SELECT … FOR UPDATE, the INSERT, COMMIT), holding each
transaction open --hold-ms after its append as a request's other writes would. Bounded:
villages × events transactions per run, two runs. Reports events/s, p50/p95 of one
transaction and how long the lock waits were, then verifies every chain.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url")
    ap.add_argument("--villages", type=int, default=10)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--hold-ms", type=float, default=2.0)
    args = ap.parse_args()

    from app.extensions import db
    from bench._fresh_database import fresh_app

    app, _tmp = fresh_app(args.database_url,
                          SQLALCHEMY_ENGINE_OPTIONS={"pool_size": args.villages + 2, "max_overflow": 0})
    with app.app_context():
        from app.accounts import services
        from app.accounts.models import Township

        township = Township(name="基准乡")
        db.session.add(township)
        villages = [services.create_village(township, f"基准村{i}").id for i in range(args.villages)]
        db.session.commit()
        dialect = db.engine.dialect.name

    print(f"{dialect}: {args.villages} writers × {args.events} appends, each transaction held "
          f"{args.hold_ms} ms after its append")
    for label, place in (("per-village chains", lambda i: villages[i]), ("one chain for all", lambda i: villages[0])):
        times: list[float] = []
        lock = threading.Lock()

        def writer(i: int) -> None:
            from app.records.audit import record_event

            mine = []
            with app.app_context():
                for n in range(args.events):
                    t0 = time.perf_counter()
                    record_event("bench.append", village_id=place(i), payload={"n": n})
                    time.sleep(args.hold_ms / 1000)
                    db.session.commit()
                    mine.append(time.perf_counter() - t0)
                db.session.remove()
            with lock:
                times.extend(mine)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.villages)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        wall = time.perf_counter() - t0
        times.sort()
        p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000  # noqa: E731
        print(f"  {label:20s} {len(times) / wall:7.0f} appends/s   p50 {p(0.5):6.1f} ms   p95 {p(0.95):6.1f} ms   "
              f"mean {statistics.mean(times) * 1000:6.1f} ms")

    with app.app_context():
        from app.records.audit import verify_chain

        report = verify_chain()
        print(f"  verify: ok={report.ok}, {report.checked} events in {report.chains} chains")


if __name__ == "__main__":
    main()
