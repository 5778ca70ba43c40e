"""The audit chain: append-only events, each hash covering the previous one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts.models import utcnow
from app.extensions import db


class AuditEvent(db.Model):
    """One event of the installation-wide chain (see docs/record-format.md)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(db.String(60), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    object_type: Mapped[str | None] = mapped_column(db.String(40))
    object_id: Mapped[int | None]
    payload: Mapped[str] = mapped_column(db.Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(db.String(64))
    hash: Mapped[str] = mapped_column(db.String(64), unique=True)

    __table_args__ = (db.Index("ix_audit_event_object", "object_type", "object_id"),)


class AuditHead(db.Model):
    """A single row holding the chain's last seq and hash. Appending locks this row
    first (SELECT … FOR UPDATE on PostgreSQL; the write lock on SQLite), so concurrent
    writers append one after the other and the chain never forks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(db.String(64))
