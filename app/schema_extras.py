"""Database rules that SQLAlchemy's metadata cannot express, installed by the
migrations (and by the test suite after create_all)."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

# On PostgreSQL the database itself refuses to change or remove an audit event.
PG_AUDIT_APPEND_ONLY = [
    """
    CREATE OR REPLACE FUNCTION gongyi_audit_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION gongyi_audit_append_only()
    """,
]


def install_database_rules(engine_or_conn) -> None:
    dialect = engine_or_conn.dialect.name
    if dialect != "postgresql":
        return
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.begin() as conn:
            for stmt in PG_AUDIT_APPEND_ONLY:
                conn.execute(text(stmt))
    else:
        for stmt in PG_AUDIT_APPEND_ONLY:
            engine_or_conn.execute(text(stmt))
