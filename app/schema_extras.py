"""Database rules that SQLAlchemy's metadata cannot express, installed by the
migrations and, after `create_all`, by `install_database_rules` (the chain-head trigger
also by the metadata's after_create hook, since appending depends on it)."""
from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

# On PostgreSQL the database itself refuses to change or remove an audit event (and,
# since per-chain checkpoints, a signed checkpoint). The first migration installs
# PG_AUDIT_APPEND_ONLY_V1 as it was then; later ones add to it.
_PG_APPEND_ONLY_FUNCTION = """
    CREATE OR REPLACE FUNCTION gongyi_audit_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """


def _pg_append_only(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"""
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION gongyi_audit_append_only()
        """,
    ]


PG_AUDIT_APPEND_ONLY_V1 = [_PG_APPEND_ONLY_FUNCTION] + _pg_append_only("audit_event")
PG_CHECKPOINT_APPEND_ONLY = [_PG_APPEND_ONLY_FUNCTION] + _pg_append_only("audit_checkpoint")

# Appending an event moves its chain's head in the same statement (so an append is one
# SELECT … FOR UPDATE of the head and one INSERT), and an event that does not continue
# its chain's head (its seq one more, its prev_hash the head's hash) is refused, so no
# writer can fork a chain even by mistake.
PG_CHAIN_HEAD = [
    """
    CREATE OR REPLACE FUNCTION gongyi_audit_move_head() RETURNS trigger AS $$
    BEGIN
      UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash
       WHERE chain = NEW.chain AND seq = NEW.seq - 1 AND hash = NEW.prev_hash;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'audit event % of chain % does not continue its chain''s head', NEW.seq, NEW.chain;
      END IF;
      RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS audit_event_moves_head ON audit_event",
    """
    CREATE TRIGGER audit_event_moves_head AFTER INSERT ON audit_event
    FOR EACH ROW EXECUTE FUNCTION gongyi_audit_move_head()
    """,
]
SQLITE_CHAIN_HEAD = [
    """
    CREATE TRIGGER IF NOT EXISTS audit_event_moves_head AFTER INSERT ON audit_event
    BEGIN
      SELECT RAISE(ABORT, 'audit event does not continue its chain''s head')
       WHERE NOT EXISTS (SELECT 1 FROM audit_head
                          WHERE chain = NEW.chain AND seq = NEW.seq - 1 AND hash = NEW.prev_hash);
      UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE chain = NEW.chain;
    END
    """,
]


def chain_head_rules(dialect: str) -> list[str]:
    return PG_CHAIN_HEAD if dialect == "postgresql" else SQLITE_CHAIN_HEAD


def _run(engine_or_conn, statements: list[str]) -> None:
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.begin() as conn:
            for stmt in statements:
                conn.execute(text(stmt))
    else:
        for stmt in statements:
            engine_or_conn.execute(text(stmt))


def install_audit_event_append_only_v1(engine_or_conn) -> None:
    """What the first migration installed (PostgreSQL only), kept as it was."""
    if engine_or_conn.dialect.name == "postgresql":
        _run(engine_or_conn, PG_AUDIT_APPEND_ONLY_V1)


def install_database_rules(engine_or_conn) -> None:
    """Every rule, for a schema made by `create_all` (idempotent)."""
    dialect = engine_or_conn.dialect.name
    statements = list(chain_head_rules(dialect))
    if dialect == "postgresql":
        statements += PG_AUDIT_APPEND_ONLY_V1 + PG_CHECKPOINT_APPEND_ONLY
    _run(engine_or_conn, statements)


def install_on_create(metadata) -> None:
    """Install the chain-head trigger whenever `create_all` makes the audit tables."""

    @event.listens_for(metadata, "after_create")
    def _after_create(target, connection, tables=None, **_kw):
        names = {t.name for t in tables} if tables is not None else set(target.tables)
        if "audit_event" in names:
            _run(connection, chain_head_rules(connection.dialect.name))
