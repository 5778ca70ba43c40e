"""The job queue (huey): work that takes longer than a request runs in a worker
process, never in a thread of the web process.

Storage: Redis when REDIS_URL is set (several app machines, several workers), else a
SQLite file of its own in the instance folder (one machine, nothing to install); the
queue never shares the application database, so enqueuing takes no lock there. Tests
run jobs at once (`huey.immediate`). Start a worker with `flask --app wsgi worker`
(`make run` does).

Jobs: a CSV import of villagers (`import_people`) and the delivery of text messages
from the outbox (`deliver_outbox`, also swept every minute).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager, nullcontext

from flask import has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from app.config import INSTANCE_DIR, Config

log = logging.getLogger("gongyi.jobs")


def _make_huey():
    if Config.REDIS_URL:
        return RedisHuey("gongyi", url=Config.REDIS_URL)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("gongyi", filename=str(INSTANCE_DIR / "jobs.sqlite3"))


huey = _make_huey()
_worker_app = None


def init_app(app) -> None:
    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE"))


def use_app(app) -> None:
    """The worker runs its jobs in this app (the one `flask worker` was started with)."""
    global _worker_app
    _worker_app = app


@contextmanager
def _app_context():
    """Inside a request or test (immediate mode) the caller's context; in the worker
    process, one app of its own."""
    global _worker_app
    if has_app_context():
        with nullcontext():
            yield
        return
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        yield


@huey.task()
def import_people(import_id: int) -> None:
    with _app_context():
        from app.accounts.imports import run_import

        run_import(import_id)


@huey.task()
def deliver_outbox() -> int:
    with _app_context():
        from app.notifications.outbox import deliver_due

        return deliver_due()


@huey.periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    """Messages left by a crash, or waiting for their retry, go out within a minute."""
    with _app_context():
        from app.notifications.outbox import deliver_due

        return deliver_due()
