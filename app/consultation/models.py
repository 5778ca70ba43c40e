"""The two consultations (两协商): posts of the topic and consensus threads, stakeholders,
the consultation summary, disagreement items (分歧点), amendments and sense checks.

Nothing here is ever deleted: a post is hidden with a reason, an item is resolved or
carried, an amendment is accepted or declined."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Household, Person, utcnow
from app.deliberation.models import Proposal, ProposalVersion
from app.extensions import db

# topic = 议题协商 (topic_consultation), consensus = 共识协商 (consensus_consultation)
THREADS = ("topic", "consensus")
THREAD_STAGE = {"topic": "topic_consultation", "consensus": "consensus_consultation"}
STANCES = ("support", "concern", "oppose", "suggestion", "question")
SENSE_CHOICES = ("agree", "unsure", "concerned")
MAX_POST_CHARS = 2000
MAX_TEXT_CHARS = 20000


def _values(name: str, values) -> CheckConstraint:
    return CheckConstraint(f"{name} IN ({', '.join(repr(v) for v in values)})", name=f"{name}_values")


class Post(db.Model):
    """One opinion in a consultation thread; replies nest one level."""

    __tablename__ = "consultation_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    thread: Mapped[str] = mapped_column(db.String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("consultation_post.id"), index=True)
    # The person whose opinion it is; entered_by is the clerk who wrote it down when the
    # villager was heard in person (当面听取, recorded as such).
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    stance: Mapped[str | None] = mapped_column(db.String(16))
    body: Mapped[str] = mapped_column(db.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    hidden_reason: Mapped[str | None] = mapped_column(db.String(500))

    proposal: Mapped[Proposal] = relationship()
    parent: Mapped["Post | None"] = relationship(remote_side=[id], back_populates="replies")
    replies: Mapped[list["Post"]] = relationship(back_populates="parent", order_by="Post.id")
    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    entered_by: Mapped[Person | None] = relationship(foreign_keys=[entered_by_id])
    hidden_by: Mapped[Person | None] = relationship(foreign_keys=[hidden_by_id])
    disagreement: Mapped["Disagreement | None"] = relationship(back_populates="post", uselist=False)

    __table_args__ = (
        _values("thread", THREADS),
        CheckConstraint(f"stance IS NULL OR stance IN ({', '.join(repr(s) for s in STANCES)})",
                        name="stance_values"),
        CheckConstraint("parent_id IS NOT NULL OR stance IS NOT NULL", name="top_level_has_stance"),
    )

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def in_person(self) -> bool:
        return self.entered_by_id is not None


class Stakeholder(db.Model):
    """利益相关方: a household or a person directly affected by the proposal, with the reason."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(db.String(300))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    household: Mapped[Household | None] = relationship()
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    added_by: Mapped[Person] = relationship(foreign_keys=[added_by_id])

    __table_args__ = (
        CheckConstraint("(household_id IS NULL) <> (person_id IS NULL)", name="household_or_person"),
        UniqueConstraint("proposal_id", "household_id", name="uq_stakeholder_household"),
        UniqueConstraint("proposal_id", "person_id", name="uq_stakeholder_person"),
    )


class ConsultationSummary(db.Model):
    """The committee's summary of what the topic consultation heard and how the draft answers it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), unique=True)
    heard: Mapped[str] = mapped_column(db.Text)
    answer: Mapped[str] = mapped_column(db.Text)
    written_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    written_by: Mapped[Person] = relationship()


class Disagreement(db.Model):
    """分歧点: a point of disagreement raised in a post: open → resolved or carried."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("consultation_post.id"), unique=True)
    title: Mapped[str] = mapped_column(db.String(200))
    status: Mapped[str] = mapped_column(db.String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(db.Text)  # the resolution, or why it is carried
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None]

    proposal: Mapped[Proposal] = relationship()
    post: Mapped[Post] = relationship(back_populates="disagreement")
    created_by: Mapped[Person] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[Person | None] = relationship(foreign_keys=[closed_by_id])
    amendments: Mapped[list["Amendment"]] = relationship(back_populates="disagreement", order_by="Amendment.id")

    __table_args__ = (
        _values("status", ("open", "resolved", "carried")),
        CheckConstraint("status = 'open' OR outcome IS NOT NULL", name="closed_has_outcome"),
    )

    @property
    def accepted_amendment(self) -> "Amendment | None":
        return next((a for a in self.amendments if a.status == "accepted"), None)


class Amendment(db.Model):
    """A proposed change of the text; accepted, it becomes a new version (修改稿)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    disagreement_id: Mapped[int | None] = mapped_column(ForeignKey("disagreement.id"), index=True)
    base_version_id: Mapped[int] = mapped_column(ForeignKey("proposal_version.id"))
    body: Mapped[str] = mapped_column(db.Text)  # the whole text as it would read
    note: Mapped[str] = mapped_column(db.String(500))  # what changes and why
    status: Mapped[str] = mapped_column(db.String(16), default="proposed")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(db.String(500))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("proposal_version.id"))

    proposal: Mapped[Proposal] = relationship()
    disagreement: Mapped[Disagreement | None] = relationship(back_populates="amendments")
    base_version: Mapped[ProposalVersion] = relationship(foreign_keys=[base_version_id])
    version: Mapped[ProposalVersion | None] = relationship(foreign_keys=[version_id])
    proposed_by: Mapped[Person] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        _values("status", ("proposed", "accepted", "declined")),
        CheckConstraint("status <> 'accepted' OR version_id IS NOT NULL", name="accepted_has_version"),
    )


class SenseCheck(db.Model):
    """A non-binding sense check (agree / unsure / concerned): one per person, changeable."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    choice: Mapped[str] = mapped_column(db.String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        _values("choice", SENSE_CHOICES),
        UniqueConstraint("proposal_id", "person_id", name="uq_sense_check_person"),
    )
