"""With REDIS_URL, login counters are shared by every app process."""
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
    RATELIMIT_STORAGE_URI = sys.argv[1]
    RATELIMIT_KEY_PREFIX = sys.argv[2]

app = create_app(Cfg)
codes = []
for i in range(int(sys.argv[3])):
    b = Browser(app.test_client())
    b.get("/login")
    codes.append(b.post("/login", {"phone": "13712345678", "password": "bad-password-x"},
                        environ_base={"REMOTE_ADDR": "10.9.0.%d" % i}).status_code)
print(json.dumps(codes))
"""


def _attempts(prefix: str, n: int) -> list[int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, REDIS, prefix, str(n)], cwd=ROOT, env=os.environ,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not REDIS, reason="REDIS_TEST_URL not set (CI sets it)")
def test_two_processes_share_the_per_account_counter():
    prefix = f"test-{uuid.uuid4().hex}"
    first = _attempts(prefix, 3)
    second = _attempts(prefix, 3)
    assert first == [400, 400, 400]
    assert second == [400, 400, 429]
