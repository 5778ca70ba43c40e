"""How long `audit verify` takes over the demo plus 100,000 synthetic events, and how
many statements it sends (the count must not grow with the rows).

    .venv/bin/python bench/bench_audit_verify.py                    # SQLite in a temp folder
    .venv/bin/python bench/bench_audit_verify.py --database-url postgresql://…/db   # drops its schema!

The synthetic events are what a busy installation writes: half of them record a new
consultation post and carry its digest (a bound row), half are record exports (no row).
They are written in bulk with a correctly linked hash chain (in the first proposal's
village chain), bypassing the services, so that the set-up takes seconds rather than the
hours 100,000 requests would.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--database-url")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from sqlalchemy import event, func, insert, select

    from app.extensions import db
    from bench._fresh_database import fresh_app

    app, _tmp = fresh_app(args.database_url)
    with app.app_context():
        from app.demo import seed_demo

        t0 = time.perf_counter()
        seed_demo()
        db.session.commit()
        print(f"demo seeded in {time.perf_counter() - t0:.1f} s")
        _add_synthetic(db, args.events)

        from app.records.integrity import verify_everything

        statements: list = []
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
        times = []
        for _ in range(args.runs):
            statements.clear()
            db.session.expire_all()
            t0 = time.perf_counter()
            result = verify_everything()
            times.append(time.perf_counter() - t0)
            db.session.rollback()
        events = db.session.scalar(select(func.count()).select_from(db.metadata.tables["audit_event"]))
        print(f"{db.engine.dialect.name}: {events} events, verify ok={result.ok} "
              f"median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}), "
              f"{len(statements)} statements")


def _add_synthetic(db, n: int) -> None:
    from sqlalchemy import func, select

    from app.accounts.models import utcnow
    from app.records.audit import canonical_json, event_hash
    from app.records.binding import BOUND, bound_columns, digest, table

    t0 = time.perf_counter()
    post_t, ev_t, head_t = table("consultation_post"), table("audit_event"), table("audit_head")
    with db.engine.begin() as conn:
        proposal = conn.execute(select(table("proposal").c.id, table("proposal").c.village_id).limit(1)).first()
        author = conn.execute(select(table("person").c.id).where(table("person").c.village_id == proposal.village_id)
                              .limit(1)).scalar()
        first_post = (conn.execute(select(func.max(post_t.c.id))).scalar() or 0) + 1
        posts = n // 2
        now = utcnow()
        conn.execute(post_t.insert(), [
            {"id": first_post + i, "proposal_id": proposal.id, "thread": "topic", "author_id": author,
             "stance": "support", "body": f"合成的意见 {i}：同意修路，希望先修村口一段。", "created_at": now}
            for i in range(posts)])
        cols = bound_columns(BOUND["consultation_post"])
        digests = {r["id"]: digest(dict(r)) for r in conn.execute(
            select(*cols).where(post_t.c.id >= first_post)).mappings()}
        chain = f"v{proposal.village_id}"  # the village's own chain (app.records.audit.chain_key)
        head = conn.execute(select(head_t.c.seq, head_t.c.hash).where(head_t.c.chain == chain)).first()
        if head is None:
            conn.execute(head_t.insert().values(chain=chain, seq=0, hash="0" * 64))
            head = conn.execute(select(head_t.c.seq, head_t.c.hash).where(head_t.c.chain == chain)).first()
        seq, prev = head.seq, head.hash
        batch = []
        for i in range(n):
            seq += 1
            at = now + timedelta(microseconds=i)
            if i % 2 == 0:
                pid = first_post + i // 2
                kind, otype, oid = "consultation.post", "consultation_post", pid
                payload = canonical_json({"proposal_id": proposal.id, "rows": {"consultation_post": {
                    str(pid): digests[pid]}}})
            else:
                kind, otype, oid = "record.exported", "proposal", proposal.id
                payload = canonical_json({"proposal_id": proposal.id, "format": "json"})
            h = event_hash(prev, seq, at, kind, proposal.village_id, None, author, otype, oid, payload, chain)
            batch.append({"chain": chain, "seq": seq, "at": at, "kind": kind, "village_id": proposal.village_id,
                          "township_id": None, "actor_id": author, "object_type": otype, "object_id": oid,
                          "payload": payload, "prev_hash": prev, "hash": h})
            prev = h
            if len(batch) == 10_000:
                conn.execute(ev_t.insert(), batch)
                batch = []
        if batch:
            conn.execute(ev_t.insert(), batch)
        # The insert trigger has moved the head with every row (app.schema_extras).
    print(f"{n} synthetic events ({n // 2} bound posts) written in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
