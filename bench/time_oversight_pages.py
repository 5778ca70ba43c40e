"""Warm render time of the oversight pages at county size, in-process (Flask's test
client, no server): one county of two townships, 300 villages in the first, about
1,300 proposals with stage histories, overdue items, flags and records to file.

    .venv/bin/python bench/time_oversight_pages.py [--repeat 20]

Prints the fastest, the median and the slowest of `--repeat` warm requests (after 3
unmeasured ones), the median CPU time of this process per request (less swayed by other
work on a shared machine), and the statements one request runs, for the township dashboard, one village's
oversight page and the county page. Run by hand; never part of the tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

# A database and an instance folder of its own, set before the app's config is read.
WORK = Path(tempfile.mkdtemp(prefix="gongyi-time-"))
os.environ["GONGYI_INSTANCE"] = str(WORK)
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'time.sqlite3'}"

VILLAGES, PROPOSALS_PER_VILLAGE = 300, (3, 4, 5, 6, 4)  # 4.4 per village on average, ~1,320


def _setup():
    from app import create_app
    from app.accounts import services as accounts
    from app.accounts.models import Person, utcnow
    from app.deliberation.models import Proposal, StageChange
    from app.extensions import db
    from app.schema_extras import install_database_rules

    app = create_app()
    with app.app_context():
        db.create_all()
        install_database_rules(db.engine)
        county = accounts.create_county("测速县")
        township = accounts.create_township("测速镇", county)
        accounts.create_village(accounts.create_township("邻镇", county), "邻村")
        villages = [accounts.create_village(township, f"测速村{i:03d}") for i in range(VILLAGES)]
        author = Person(village=villages[0], name="村委", phone="18500000001")
        overseer = Person(name="督导", phone="18600000000")
        county_overseer = Person(name="县督导", phone="18600000001")
        db.session.add_all([author, overseer, county_overseer])
        db.session.flush()
        accounts.grant_role(overseer, "overseer", actor=None, township=township)
        accounts.grant_role(county_overseer, "county_overseer", actor=None, county=county)
        start = utcnow() - timedelta(days=60)
        path = ("draft", "topic_consultation", "committee_deliberation", "member_review",
                "consensus_consultation", "villager_resolution", "publicized", "implementing", "completed")
        n = 0
        for i, village in enumerate(villages):
            for j in range(PROPOSALS_PER_VILLAGE[i % len(PROPOSALS_PER_VILLAGE)]):
                n += 1
                depth = 1 + (n * 7) % len(path)
                stage = path[depth - 1]
                p = Proposal(village=village, title=f"第{n}号议题：修缮村内道路", matter_category="general",
                             stage=stage, created_by=author, stage_deadline=start if n % 5 == 0 else None)
                db.session.add(p)
                prev = None
                for k, to in enumerate(path[:depth]):
                    if n % 11 == 0 and k == 1:
                        continue  # a skipped stage: flagged
                    db.session.add(StageChange(proposal=p, from_stage=prev, to_stage=to, at=start + timedelta(days=k)))
                    prev = to
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        sessions = {name: serializer.dumps({"_user_id": person.get_id(), "_fresh": True})
                    for name, person in (("overseer", overseer), ("county", county_overseer))}
        pages = {
            f"township dashboard ({VILLAGES} villages, {n} proposals)": (
                f"/oversight/townships/{township.id}", "overseer"),
            "one village's oversight page": (f"/oversight/villages/{villages[0].id}", "overseer"),
            "county page (2 townships)": (f"/oversight/counties/{county.id}", "county"),
        }
        db.session.remove()
    return app, sessions, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from sqlalchemy import event

    from app.extensions import db

    try:
        app, sessions, pages = _setup()
        client = app.test_client()
        for name, (url, who) in pages.items():
            client.set_cookie("session", sessions[who])
            if any(client.get(url).status_code != 200 for _ in range(3)):
                print(f"{name}: {url} does not answer 200")
                continue
            seen: list = []
            with app.app_context():
                listener = lambda *a: seen.append(1)  # noqa: E731
                event.listen(db.engine, "before_cursor_execute", listener)
                resp = client.get(url)
                event.remove(db.engine, "before_cursor_execute", listener)
            times, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            print(f"{name}: fastest {min(times):.0f} ms, median {statistics.median(times):.0f} ms, "
                  f"slowest {max(times):.0f} ms (CPU median {statistics.median(cpu):.0f} ms), "
                  f"{len(seen)} statements, {len(resp.get_data()) // 1024} KB")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
