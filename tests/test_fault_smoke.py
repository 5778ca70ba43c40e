"""The fault run in small (bench/fault_run.py is the full one): gunicorn with 3 workers,
about 60 votes from 10 clients, two workers killed with SIGKILL mid-burst (gunicorn
starts new ones), clients retrying with the vote form's request key. Nothing receipted
may be lost, no voter may hold two counted ballots, the audit chain must verify and, on
SQLite, the file must pass PRAGMA integrity_check.

On SQLite always; on PostgreSQL (TEST_DATABASE_URL) in a schema of its own, killing
workers only: the server is shared and never restarted by the suite. Bounded: every
request has a timeout, a client gives up after 90 s, gunicorn boots within 90 s."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import _server  # noqa: E402
import fault_run  # noqa: E402

VOTERS, CLIENTS, WORKERS = 55, 10, 3


def _assert_nothing_lost(result: dict) -> None:
    # Both kills happened while casts were still coming in, and gunicorn replaced the workers.
    assert [f["fault"] for f in result["faults"]] == ["SIGKILL worker", "SIGKILL worker"], result["faults"]
    assert all(f["pids"] and f["after_casts"] < f["of"] for f in result["faults"]), result["faults"]
    assert result["workers_after"] == WORKERS
    # A kill dropped a request in flight, and every cast was receipted in the end: the
    # dropped connection was retried with the same key.
    assert result["retries"] >= 1, result["failed_attempts"]
    assert result["errors"] == 0, result["error_kinds"]
    assert result["receipted"] == result["casts"]
    assert result["receipted_voters"] == VOTERS
    # What the database holds: every receipted vote, exactly one counted ballot per voter.
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["voters_counted"] == VOTERS
    assert result["audit_verify_ok"], result["audit_verify"]


def test_killing_two_workers_mid_burst_loses_no_receipted_vote_on_sqlite():
    with _server.Bench("sqlite", name="faultsmoke") as bench:
        result = fault_run.run_with_faults(bench, workers=WORKERS, voters=VOTERS, clients=CLIENTS,
                                           kills_at=(0.2, 0.5))
    _assert_nothing_lost(result)
    assert result["integrity_check"] == "ok"


@pytest.mark.skipif(not ON_POSTGRES, reason="runs with the PostgreSQL suite (TEST_DATABASE_URL=postgresql://…)")
def test_killing_two_workers_mid_burst_loses_no_receipted_vote_on_postgresql():
    url = os.environ["TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with _server.Bench("postgresql", pg_url=url, name="faultsmoke") as bench:
        result = fault_run.run_with_faults(bench, workers=WORKERS, voters=VOTERS, clients=CLIENTS,
                                           kills_at=(0.2, 0.5))
    _assert_nothing_lost(result)
