"""An app on a database of its own, for tests that build the schema with the migrations
(a fresh SQLite file, or a PostgreSQL schema dropped afterwards)."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from app import create_app
from app.config import TestConfig
from app.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


@contextmanager
def app_on_its_own_database(schema: str):
    """Yields an app whose database is empty; removed again when the block ends."""
    on_postgres = os.environ["TEST_DATABASE_URL"].startswith("postgres")
    if on_postgres:
        admin = create_engine(TestConfig.SQLALCHEMY_DATABASE_URI)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))

        class Cfg(TestConfig):
            SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        path = Path(tempfile.mkdtemp()) / f"{schema}.sqlite3"

        class Cfg(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"

    app = create_app(Cfg)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if on_postgres:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()
