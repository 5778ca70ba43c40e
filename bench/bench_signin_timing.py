"""Do the sign-in routes answer as fast for an unknown phone number as for a registered
one? (Timing by phone number would let anyone list the village's numbers.)

    .venv/bin/python bench/bench_signin_timing.py [TRIES]

Runs the app in this process with the production password hashing (argon2id, 19 MiB)
on a temporary SQLite database, and posts TRIES times (default 50) to /code, /code/enter
and /login for a registered and for an unknown number, alternating. Prints the median
of each and the difference; the goal is under 5 ms at the median. The limits are
raised for the run, so every request does the real work instead of answering 429.
"""
from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
TMP = Path(tempfile.mkdtemp(prefix="gongyi-bench-"))
os.environ["GONGYI_INSTANCE"] = str(TMP)

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402

KNOWN, UNKNOWN = "13712340001", "13712349999"


class BenchConfig(Config):
    SECRET_KEY = "bench"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{TMP / 'bench.sqlite3'}"
    MESSAGE_BACKEND = "memory"
    REDIS_URL = THROTTLE_REDIS_URL = POLL_KEY_REDIS_URL = None
    LOGIN_LIMIT_PER_ACCOUNT = LOGIN_LIMIT_PER_ADDRESS = "100000 per 15 minutes"
    CODE_LIMIT_PER_ACCOUNT = CODE_LIMIT_PER_ADDRESS = "100000 per 15 minutes"


def _token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _time(client, url: str, form_url: str, data: dict) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of one request (CPU time is what a loaded machine
    does not blur: the work the server does for this number)."""
    token = _token(client, form_url)
    start, cpu = time.perf_counter(), time.process_time()
    client.post(url, data={**data, "csrf_token": token})
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000


def main(tries: int) -> None:
    app = create_app(BenchConfig)
    with app.app_context():
        db.create_all()
        from app.accounts import services
        from app.accounts.passwords import hash_password

        village = services.create_village(services.create_township("基准镇"), "基准村")
        person = services.register_person(village, services.PersonData(name="计时", phone=KNOWN), actor=None)
        person.password_hash = hash_password("right-password-1")
        db.session.commit()
    routes = [
        ("/code", "/code", lambda phone: {"phone": phone}),
        ("/code/enter", "/code/enter", lambda phone: {"phone": phone, "code": "000000"}),
        ("/login", "/login", lambda phone: {"phone": phone, "password": "wrong-password-1"}),
    ]
    client = app.test_client()
    for url, form_url, data in routes:
        for phone in (KNOWN, UNKNOWN):  # warm up both paths
            _time(client, url, form_url, data(phone))
        times = {KNOWN: [], UNKNOWN: []}
        for _ in range(tries):
            for phone in (KNOWN, UNKNOWN):
                times[phone].append(_time(client, url, form_url, data(phone)))
        for i, kind in ((0, "wall"), (1, "CPU ")):
            known = statistics.median(t[i] for t in times[KNOWN])
            unknown = statistics.median(t[i] for t in times[UNKNOWN])
            print(f"{url:12s} {kind} median registered {known:6.1f} ms, unknown {unknown:6.1f} ms, "
                  f"difference {abs(known - unknown):4.1f} ms over {tries} tries each")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
