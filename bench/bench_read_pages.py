"""Read pages at county size, served by gunicorn on 127.0.0.1 from a fresh database of
their own (SQLite file or a PostgreSQL schema, bench/_server.py): 300 villages in one
township, 1,000 proposals in one village, a thread of 500 opinions with 500 replies.

    .venv/bin/python bench/bench_read_pages.py [--backend sqlite|postgresql|both]
        [--requests 60] [--workers 2] [--pg-url URL]

For the consultation thread, the township dashboard, the proposal list and a proposal
page it reports p50/p95/p99 latency (warm: after 5 unmeasured requests), the body's
bytes (uncompressed, and as sent with gzip) and the statements one request runs
(counted in the set-up process with SQLAlchemy's before_cursor_execute). One client,
sequential requests, loopback only, every loop bounded. Never part of the unit tests.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _load  # noqa: E402
import _server  # noqa: E402

VILLAGES, PROPOSALS, POSTS = 300, 1000, 500


def seed_county() -> dict:
    """Build the county; return the pages to measure, the sessions and query counts."""
    from datetime import timedelta

    from sqlalchemy import event

    from app.accounts import services as accounts
    from app.accounts.models import Person, utcnow
    from app.accounts.passwords import hash_password
    from app.consultation.models import Disagreement, Post
    from app.deliberation.models import Proposal, ProposalVersion, StageChange
    from app.extensions import db

    app = _server._app()
    with app.app_context():
        township = accounts.create_township("压测镇")
        hashed = hash_password("bench-password-not-used")
        villages = [accounts.create_village(township, f"压测村{i:03d}") for i in range(VILLAGES)]
        people = []
        for i, village in enumerate(villages):
            for j, gender in enumerate(("M", "F", "M")):
                p = Person(village=village, name=f"代表{i}-{j}", phone=f"185{i:04d}{j:04d}", gender=gender,
                           password_hash=hashed)
                db.session.add(p)
                people.append((p, village))
        db.session.flush()
        for p, village in people:
            accounts.grant_role(p, "representative", actor=None, village=village)
            accounts.grant_role(p, "villager", actor=None, village=village)
        home = villages[0]
        committee, villager = people[0][0], people[1][0]
        accounts.grant_role(committee, "committee_member", actor=None, village=home)
        overseer = Person(village=None, name="督导", phone="18600000000", password_hash=hashed)
        db.session.add(overseer)
        db.session.flush()
        accounts.grant_role(overseer, "overseer", actor=None, township=township)
        start = utcnow() - timedelta(days=60)
        path = ("draft", "topic_consultation", "committee_deliberation")
        for i in range(PROPOSALS):
            proposal = Proposal(village=home, title=f"第{i}号议题：修缮村内道路和排水沟", matter_category="general",
                                stage=path[-1] if i % 3 else "topic_consultation", created_by=committee,
                                stage_deadline=start if i % 7 == 0 else None)
            db.session.add(proposal)
            db.session.add(ProposalVersion(proposal=proposal, number=1, title=proposal.title,
                                           body="用集体收入修缮村内道路和排水沟。", created_by=committee))
            prev = None
            for k, stage in enumerate(path if i % 3 else path[:2]):
                db.session.add(StageChange(proposal=proposal, from_stage=prev, to_stage=stage,
                                           at=start + timedelta(days=k)))
                prev = stage
        for village in villages[1:]:
            db.session.add(Proposal(village=village, title="修缮村小学围墙", matter_category="general",
                                    stage="topic_consultation", created_by=committee))
        db.session.flush()
        thread_proposal = db.session.scalars(db.select(Proposal).where(
            Proposal.village_id == home.id, Proposal.stage == "topic_consultation").limit(1)).one()
        for i in range(POSTS):
            author = people[(i % 3)][0]
            top = Post(proposal=thread_proposal, thread="topic", stance=("support", "concern", "oppose")[i % 3],
                       body=f"第{i}条意见：路面要硬化，排水沟要加盖板。", author=author)
            db.session.add(top)
            db.session.add(Post(proposal=thread_proposal, thread="topic", body="回复：同意，盖板要结实。",
                                author=villager, parent=top))
            if i % 25 == 0:
                db.session.add(Disagreement(proposal=thread_proposal, post=top, title=f"分歧{i}",
                                            created_by=committee))
        db.session.commit()

        sessions = dict(zip(("overseer", "villager"),
                            (s["cookie"] for s in _server.sessions_for(app, [overseer, villager]))))
        pages = {
            "consultation thread (1,000 posts)": (f"/proposals/{thread_proposal.id}/consultation/topic", "villager"),
            "township dashboard (300 villages)": (f"/oversight/townships/{township.id}", "overseer"),
            "proposal list (1,000 proposals)": (f"/villages/{home.id}/proposals", "villager"),
            "proposal page": (f"/proposals/{thread_proposal.id}", "villager"),
        }
        db.session.remove()
    # Each request in its own app context (as served), so no signed-in person carries over.
    counts = {}
    client = app.test_client()
    for name, (url, who) in pages.items():
        client.set_cookie("session", sessions[who])
        with app.app_context():
            seen = []

            def _count(conn, cursor, statement, *args):
                seen.append(statement)

            event.listen(db.engine, "before_cursor_execute", _count)
            resp = client.get(url)
            event.remove(db.engine, "before_cursor_execute", _count)
            assert resp.status_code == 200, (url, resp.status_code)
            counts[name] = len(seen)
    return {"pages": pages, "sessions": sessions, "queries": counts}




def measure(backend: str, *, requests: int = 60, workers: int = 2, pg_url: str = _server.PG_URL) -> list[dict]:
    with _server.Bench(backend, pg_url=pg_url, name="read") as b:
        t0 = time.perf_counter()
        setup = b.step("bench_read_pages:seed_county")
        print(f"set-up ({backend}): {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        results = []
        with b.serve(workers=workers) as server:
            for name, (url, who) in setup["pages"].items():
                browser = _load.Browser(server.port, setup["sessions"][who])
                for _ in range(5):  # warm every worker's caches
                    browser.request("GET", url)
                times, status, body = [], None, ""
                for _ in range(requests):
                    status, _h, body, elapsed = browser.request("GET", url)
                    times.append(elapsed)
                if status != 200:
                    raise RuntimeError(f"{url}: HTTP {status}")
                raw = body.encode()
                results.append({"backend": backend, "page": name, "p50_ms": round(_load.pct(times, .5) * 1000, 1),
                                "p95_ms": round(_load.pct(times, .95) * 1000, 1),
                                "p99_ms": round(_load.pct(times, .99) * 1000, 1), "bytes": len(raw),
                                "gzip_bytes": len(gzip.compress(raw, 6)), "queries": setup["queries"][name]})
                browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg-url", default=_server.PG_URL)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        results = measure(backend, requests=args.requests, workers=args.workers, pg_url=args.pg_url)
        print(f"| page ({backend}) | p50 ms | p95 ms | p99 ms | bytes | gzip bytes | queries |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['page']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['bytes']:,} | "
                  f"{r['gzip_bytes']:,} | {r['queries']} |")
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
