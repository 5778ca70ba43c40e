"""The inbox (收件箱) and each person's choice of what to be told about."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Person, utcnow
from app.extensions import db

# The only kinds there are: each is something the villager can act on. No daily
# check-ins, no rankings, no "you have not visited for a while".
KINDS = ("poll_opened", "poll_closing", "reply", "resolution_posted", "objection_answered", "ballot_entered")
# Kinds nobody can turn off: someone else acted on the person's ballot (signed them in,
# handed them a paper ballot, entered an in-hall ballot), or a fault lost their ballot.
ALWAYS_SENT = ("ballot_entered",)

KIND_LABELS = {
    "poll_opened": _l("A vote I may take part in has opened"),
    "poll_closing": _l("A vote closes within a day and I have not voted"),
    "reply": _l("Someone replied to my opinion"),
    "resolution_posted": _l("A resolution of my village was posted"),
    "objection_answered": _l("My objection was answered"),
    "ballot_entered": _l("Someone else acted on my ballot, or my ballot must be cast again"),
}


def _kinds_check() -> CheckConstraint:
    return CheckConstraint(f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="kind_values")


class Notification(db.Model):
    """One message in a person's inbox. `key` makes a repeated event (a reminder run
    twice) land once: it is unique per person when set."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(24))
    text: Mapped[str] = mapped_column(db.String(500))
    url: Mapped[str] = mapped_column(db.String(300))
    key: Mapped[str | None] = mapped_column(db.String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    sent_by_message: Mapped[bool] = mapped_column(default=False)

    person: Mapped[Person] = relationship()

    __table_args__ = (
        _kinds_check(),
        UniqueConstraint("person_id", "key", name="uq_notification_person_key"),
    )

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationOptOut(db.Model):
    """A person turned one kind off: neither inbox entry nor text message for it."""

    __tablename__ = "notification_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(24))

    __table_args__ = (
        _kinds_check(),
        UniqueConstraint("person_id", "kind", name="uq_notification_opt_out_person_kind"),
    )


def unread_count(person) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.person_id == person.id,
                                                  Notification.read_at.is_(None))) or 0


def opted_out_kinds(person) -> set[str]:
    return set(db.session.scalars(select(NotificationOptOut.kind).where(NotificationOptOut.person_id == person.id)))


def wants(person, kind: str) -> bool:
    return kind not in opted_out_kinds(person)


class OutboxMessage(db.Model):
    """A text message waiting to go out (发信箱): written in the transaction that caused
    it, sent by the job queue's worker, retried with a growing pause when the gateway
    fails. A crash loses nothing: the row is still there for the next sweep."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(db.String(20))
    text: Mapped[str] = mapped_column(db.String(800))
    status: Mapped[str] = mapped_column(db.String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(db.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status_values"),
    )
