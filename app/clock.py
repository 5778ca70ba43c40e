"""The application's clock. Everything that stamps a time asks `utcnow()`.

The demo loader replays weeks of a village's history in a few seconds: it sets the
clock to each day of that history in turn (`travel_to`), so every record — stage
history, polls, audit events — carries the date on which it would have happened, in
order. Nothing else moves the clock.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import datetime, timezone

_fixed: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("gongyi_clock", default=None)


def utcnow() -> datetime:
    """Naive UTC now (what the database columns store)."""
    fixed = _fixed.get()
    return fixed if fixed is not None else datetime.now(timezone.utc).replace(tzinfo=None)


@contextmanager
def travel_to(moment: datetime):
    token = _fixed.set(moment)
    try:
        yield
    finally:
        _fixed.reset(token)
