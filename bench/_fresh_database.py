"""An app on an empty database for a benchmark: SQLite in a temporary folder, or the
given PostgreSQL database, whose public schema is dropped and made again."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fresh_app(database_url: str | None, **settings):
    """(app, temporary folder) with every table created; `settings` override the config."""
    tmp = Path(tempfile.mkdtemp(prefix="gongyi-bench-"))
    os.environ.setdefault("GONGYI_INSTANCE", str(tmp))

    from sqlalchemy import text

    from app import create_app
    from app.config import TestConfig, _normalise_db_url
    from app.extensions import db

    class Cfg(TestConfig):
        SQLALCHEMY_DATABASE_URI = _normalise_db_url(database_url or f"sqlite:///{tmp / 'bench.sqlite3'}")
        UPLOAD_DIR = str(tmp / "uploads")

    for name, value in settings.items():
        setattr(Cfg, name, value)
    app = create_app(Cfg)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
    return app, tmp
