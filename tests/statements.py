"""A statement counter for the tests that hold a page's queries constant: every SQL
statement the database driver is handed while the block runs (SQLAlchemy's
before_cursor_execute), savepoint bookkeeping of the test harness left out."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db

_HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def counting_statements():
    """Yields the list of statements run inside the block."""
    seen: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_HARNESS):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def statements_for(client, url: str) -> int:
    """How many statements one GET of `url` runs (the page must answer 200)."""
    with counting_statements() as seen:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return len(seen)
