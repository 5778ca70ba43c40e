"""The audit chain: append-only events, each hash covering the previous one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import utcnow
from app.extensions import db
from app.schema_extras import install_on_create


class AuditEvent(db.Model):
    """One event of one chain: its village's, else its township's, else the
    installation's (see app.records.audit and docs/record-format.md)."""

    id: Mapped[int] = mapped_column(primary_key=True)  # the installation-wide order (an order, not a proof)
    chain: Mapped[str] = mapped_column(db.String(12))  # "v12", "t3" or "i" (app.records.audit.chain_key)
    seq: Mapped[int]  # 1, 2, … within its chain
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

    __table_args__ = (db.Index("ix_audit_event_object", "object_type", "object_id"),
                      db.UniqueConstraint("chain", "seq", name="uq_audit_event_chain_seq"))


class AuditHead(db.Model):
    """One row per chain holding its last seq and hash. Appending to a chain locks its
    row first (SELECT … FOR UPDATE on PostgreSQL; the write lock on SQLite), so writers
    of one village append one after the other and its chain never forks, while other
    villages' writers never wait. The row is moved by a trigger on the event's INSERT
    (app.schema_extras), which also refuses an event that does not continue it."""

    chain: Mapped[str] = mapped_column(db.String(12), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(db.String(64))


# --- After the decision: objections (决议公开), reports (实施结果公开), filing (乡镇备案) ---
#
# These tables point at proposal.id by name only (the deliberation area owns the table);
# the foreign keys are still real constraints in the database.

OBJECTION_STATUSES = ("pending", "upheld", "not_upheld")
REPORT_KINDS = ("progress", "final")


class Objection(db.Model):
    """异议: a villager's objection to a publicized resolution, answered by the
    supervision committee (村务监督委员会) within the rule profile's reply time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(db.Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reply_due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(db.Text)
    upheld: Mapped[bool | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    answered_at: Mapped[datetime | None]

    author = relationship("Person", foreign_keys=[author_id])
    answered_by = relationship("Person", foreign_keys=[answered_by_id])
    proposal = relationship("Proposal")

    @property
    def status(self) -> str:
        if self.answered_at is None:
            return "pending"
        return "upheld" if self.upheld else "not_upheld"

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Unanswered past the reply time, or answered after it."""
        if self.answered_at is not None:
            return self.answered_at > self.reply_due_at
        return (now or utcnow()) > self.reply_due_at


class Report(db.Model):
    """实施情况: a progress report or the one final result report of an implementing
    proposal, with the supervision committee's opinion."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(10))
    body: Mapped[str] = mapped_column(db.Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    opinion: Mapped[str | None] = mapped_column(db.Text)
    opinion_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opinion_at: Mapped[datetime | None]

    author = relationship("Person", foreign_keys=[author_id])
    opinion_by = relationship("Person", foreign_keys=[opinion_by_id])
    proposal = relationship("Proposal")
    photos: Mapped[list["ReportPhoto"]] = relationship(back_populates="report", order_by="ReportPhoto.id")

    __table_args__ = (
        db.CheckConstraint("kind IN ('progress', 'final')", name="kind_values"),
        # One final result report per proposal, enforced by the database.
        db.Index("uq_report_final", "proposal_id", unique=True,
                 sqlite_where=db.text("kind = 'final'"), postgresql_where=db.text("kind = 'final'")),
    )


class ReportPhoto(db.Model):
    """A photo of a report, stored under a generated name outside static/."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    stored_name: Mapped[str] = mapped_column(db.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(db.String(20))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(db.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship(back_populates="photos")


class Filing(db.Model):
    """乡镇备案: the township overseer's filing of a completed record, which archives it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    overseer_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    comment: Mapped[str] = mapped_column(db.Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The signed checkpoint of the village's chain current when the overseer filed (the
    # township's own copy); a null chain is the installation chain (filings before chains).
    checkpoint_chain: Mapped[str | None] = mapped_column(db.String(12))
    checkpoint_seq: Mapped[int | None]
    checkpoint_hash: Mapped[str | None] = mapped_column(db.String(64))

    overseer = relationship("Person", foreign_keys=[overseer_id])
    proposal = relationship("Proposal")


class AuditCheckpoint(db.Model):
    """检查点: one chain's head (chain, seq, hash) at a moment, signed with the
    installation's Ed25519 key, so a copy kept outside the database (a printed notice, a
    filing, a photo of the notice board) proves later that the chain still contains that
    head. Never changed or removed (PostgreSQL refuses it). Not part of the chain
    itself; see app.records.checkpoints."""

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(db.String(12))
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(db.String(64))
    signed_at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(db.String(128))  # hex, Ed25519 over checkpoint_message()
    public_key: Mapped[str] = mapped_column(db.String(64))  # hex, the raw key that signed it

    __table_args__ = (db.Index("ix_audit_checkpoint_chain_seq", "chain", "seq"),)


install_on_create(db.metadata)  # the chain-head trigger, whenever create_all makes these tables
