"""A consistent copy of the database while the site keeps serving.

SQLite: the online backup API (sqlite3.Connection.backup) copies the pages of one
committed snapshot; writers go on meanwhile and a page they change mid-copy makes
SQLite restart that step, so the copy is never half old, half new.
PostgreSQL: pg_dump, which reads one snapshot in a repeatable-read transaction, in its
custom format (restored with pg_restore, see docs/deploy.md).
"""
from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The copy could not be written (no pg_dump, an unreachable server, a bad path)."""


def default_path(backup_dir: Path, dialect: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path(backup_dir) / f"gongyi-{stamp}.{'sqlite3' if dialect == 'sqlite' else 'dump'}"


def backup_sqlite(database: str, target: Path) -> None:
    source = sqlite3.connect(database, timeout=15)
    try:
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy, pages=1024)  # in steps, so writers are never held for the whole copy
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
    finally:
        source.close()
    if ok != "ok":
        raise BackupError(f"the copy failed its integrity check: {ok}")


def find_pg_dump(configured: str) -> str:
    """The configured pg_dump if it is on PATH, else the newest one in Debian's layout."""
    found = shutil.which(configured)
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1]
    raise BackupError("pg_dump not found: install the PostgreSQL client or set GONGYI_PG_DUMP")


def libpq_args(sqlalchemy_url: str) -> tuple[list[str], dict[str, str]]:
    """The connection as pg_dump/pg_restore arguments, the password in the environment
    (never on a command line another user could read)."""
    url = make_url(sqlalchemy_url)
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def backup_postgres(sqlalchemy_url: str, target: Path, pg_dump: str) -> None:
    args, env = libpq_args(sqlalchemy_url)
    result = subprocess.run([find_pg_dump(pg_dump), "--format=custom", "--no-owner", "--file", str(target), *args],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def backup_database(engine, target: str | None, backup_dir: Path, pg_dump: str = "pg_dump") -> Path:
    """Write a consistent copy of the database behind `engine` to `target` (a new file;
    by default in `backup_dir`, gongyi-<UTC time>.sqlite3 or .dump). Returns its path.

    :raises BackupError: the target exists, or the copy could not be made.
    """
    dialect = engine.dialect.name
    path = Path(target) if target else default_path(backup_dir, dialect)
    if path.exists():
        raise BackupError(f"{path} exists already: a backup never overwrites a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            raise BackupError("an in-memory database has nothing to back up")
        backup_sqlite(database, path)
    elif dialect == "postgresql":
        backup_postgres(engine.url.render_as_string(hide_password=False), path, pg_dump)
    else:
        raise BackupError(f"no backup method for {dialect}")
    os.chmod(path, 0o600)  # the copy holds everything the database holds
    return path
