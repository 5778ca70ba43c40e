"""The migrations build exactly the schema the models describe."""
import os
import tempfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.config import TestConfig
from app.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_upgrade_from_empty_matches_models():
    url = os.environ["TEST_DATABASE_URL"]
    if url.startswith("postgres"):
        schema = "migration_check"
        admin = create_engine(TestConfig.SQLALCHEMY_DATABASE_URI)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))

        class Cfg(TestConfig):
            SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        path = Path(tempfile.mkdtemp()) / "m.sqlite3"

        class Cfg(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"

    app = create_app(Cfg)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        db.engine.dispose()
    if url.startswith("postgres"):
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    assert diff == []
