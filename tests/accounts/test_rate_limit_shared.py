"""Sign-in counters are shared by every app process: in Redis when REDIS_URL is set,
in the database when it is not."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REDIS = os.environ.get("REDIS_TEST_URL")
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from app import create_app
from app.config import TestConfig
from tests.conftest import Browser

class Cfg(TestConfig):
    THROTTLE_REDIS_URL = sys.argv[1]

app = create_app(Cfg)
codes = []
for i in range(int(sys.argv[3])):
    b = Browser(app.test_client())
    b.get("/login")
    codes.append(b.post("/login", {"phone": sys.argv[2], "password": "bad-password-x"},
                        environ_base={"REMOTE_ADDR": "10.9.0.%d" % i}).status_code)
print(json.dumps(codes))
"""


def _attempts(phone: str, n: int) -> list[int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, REDIS, phone, str(n)], cwd=ROOT, env=os.environ,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not REDIS, reason="REDIS_TEST_URL not set (CI sets it)")
def test_two_processes_share_the_per_account_counter():
    phone = f"137{uuid.uuid4().int % 10**8:08d}"  # a number no earlier run has counted against
    first = _attempts(phone, 3)
    second = _attempts(phone, 3)
    assert first == [400, 400, 400]
    assert second == [400, 400, 429]


MAKE_PERSON = r"""
from app import create_app
from app.accounts import services
from app.accounts.passwords import hash_password
from app.extensions import db

app = create_app()
with app.app_context():
    village = services.create_village(services.create_township("测试镇"), "测试村")
    person = services.register_person(village, services.PersonData(name="限流测试", phone="13712340000"), actor=None)
    person.password_hash = hash_password("right-password-1")
    db.session.commit()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wrong_password(url: str) -> int:
    """One browser: fetch the sign-in page (its token and cookie), post a wrong password."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "phone": "13712340000", "password": "bad-password-x"})
    try:
        return opener.open(url + "/login", data=data.encode(), timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_twenty_wrong_passwords_across_four_gunicorn_workers_without_redis_give_429_from_the_sixth(tmp_path):
    import time
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "REDIS_URL")}
    env.update({"GONGYI_INSTANCE": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "MESSAGE_BACKEND": "log"})
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-c", MAKE_PERSON], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "--graceful-timeout", "2",
                             "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1)  # every worker booted, so the requests spread over all four
        codes = [_wrong_password(url) for _ in range(20)]
    finally:
        proc.terminate()
        proc.wait(30)
    pids = (tmp_path / "server.log").read_text().count("Booting worker")
    assert pids == 4
    assert codes == [400] * 5 + [429] * 15
