"""`flask backup` writes a consistent copy while the site serves, and the documented
restore brings back a database whose audit chain verifies."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.backup import find_pg_dump, libpq_args
from app.config import TestConfig
from app.extensions import db
from app.records.models import AuditEvent
from tests.conftest import ON_POSTGRES


def _some_history(app) -> int:
    """A township, a village, a committee member and two proposals, through the services
    (so the audit chain has events and bound rows); committed. Returns the event count."""
    from app.deliberation import services as deliberation
    from tests.factories import make_user

    with app.app_context():
        author = make_user(["committee_member", "villager"])
        for title in ("修村口道路", "建垃圾收集点"):
            deliberation.create_proposal(author.village, author, title=title, body="用集体收入办这件事。",
                                         matter_category="general")
        db.session.commit()
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _verify(app):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output + repr(result.exception or "")


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite backup (the PostgreSQL one is tested below)")
def test_a_sqlite_backup_taken_during_a_write_restores_to_a_verified_chain(committing_app, tmp_path):
    events = _some_history(committing_app)
    assert events > 0
    with committing_app.app_context():
        live = db.engine.url.database
    # Another process is in the middle of a write when the backup runs.
    writer = sqlite3.connect(live, timeout=15, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO township (name) VALUES ('未提交的镇')")
    target = tmp_path / "nightly.sqlite3"
    result = committing_app.test_cli_runner().invoke(args=["backup", str(target)])
    writer.execute("ROLLBACK")
    writer.close()
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and target.stat().st_mode & 0o077 == 0
    # A second backup to the same file is refused: a backup never overwrites one.
    again = committing_app.test_cli_runner().invoke(args=["backup", str(target)])
    assert again.exit_code == 1 and "exists" in again.output

    # Restore as docs/deploy.md says: the copy becomes the database file.
    restored = tmp_path / "restored" / "gongyi.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(target, restored)

    class Restored(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{restored}"

    app = create_app(Restored)
    code, output = _verify(app)
    assert code == 0, output
    assert f"{events} events checked" in output
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM township WHERE name = '未提交的镇'").fetchone()[0] == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="needs TEST_DATABASE_URL on PostgreSQL")
def test_a_postgres_backup_restores_into_a_new_database_with_a_verified_chain(committing_app, tmp_path):
    events = _some_history(committing_app)
    target = tmp_path / "nightly.dump"
    result = committing_app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:5] == b"PGDMP"

    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    scratch = f"{url.database}_restore"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    restored_url = url.set(database=scratch).render_as_string(hide_password=False)
    try:
        # Restore as docs/deploy.md says: pg_restore into an empty database.
        args, env = libpq_args(restored_url)
        pg_restore = str(Path(find_pg_dump(TestConfig.PG_DUMP)).with_name("pg_restore"))
        done = subprocess.run([pg_restore, "--no-owner", "--exit-on-error", *args, str(target)],
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

        class Restored(TestConfig):
            SQLALCHEMY_DATABASE_URI = restored_url
            # committing_app keeps its tables in the schema "committing"
            SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": "-csearch_path=committing"}}

        app = create_app(Restored)
        code, output = _verify(app)
        with app.app_context():
            db.engine.dispose()
        assert code == 0, output
        assert f"{events} events checked" in output
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
