"""Proposals, their versions, stage history, suggestions (议题征集) and authorisations."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Person, Village, utcnow
from app.extensions import db

# Stage codes of DESIGN.md §2, in process order; the engine holds the transitions.
STAGES = (
    "draft", "topic_consultation", "committee_deliberation", "member_review", "consensus_consultation",
    "villager_resolution", "publicized", "implementing", "completed", "archived",
)
TERMINAL = ("archived", "rejected", "withdrawn")
ALL_STAGES = STAGES + ("rejected", "withdrawn")
_stage_list = ", ".join(f"'{s}'" for s in ALL_STAGES)


class Proposal(db.Model):
    """议题/提案: one matter taken through the whole process."""

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    title: Mapped[str] = mapped_column(db.String(120))
    matter_category: Mapped[str | None] = mapped_column(db.String(40))
    deciding_body: Mapped[str] = mapped_column(db.String(40), default="villagers_assembly")
    authorisation_id: Mapped[int | None] = mapped_column(ForeignKey("authorisation.id"))
    stage: Mapped[str] = mapped_column(db.String(40), default="draft", index=True)
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_deadline: Mapped[datetime | None]
    # Notice: when the villagers' assembly was announced, when the plan went to Party members.
    assembly_announced_at: Mapped[datetime | None]
    party_plan_sent_at: Mapped[datetime | None]
    topic_consultation_closed_at: Mapped[datetime | None]
    frozen_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposal_version.id", use_alter=True, name="fk_proposal_frozen_version"))
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("suggestion.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    village: Mapped[Village] = relationship()
    created_by: Mapped[Person] = relationship(foreign_keys=[created_by_id])
    versions: Mapped[list["ProposalVersion"]] = relationship(
        back_populates="proposal", order_by="ProposalVersion.number", foreign_keys="ProposalVersion.proposal_id")
    history: Mapped[list["StageChange"]] = relationship(back_populates="proposal", order_by="StageChange.id")
    frozen_version: Mapped["ProposalVersion | None"] = relationship(foreign_keys=[frozen_version_id], post_update=True)
    authorisation: Mapped["Authorisation | None"] = relationship()

    __table_args__ = (
        CheckConstraint(f"stage IN ({_stage_list})", name="stage_values"),
        CheckConstraint("deciding_body IN ('villagers_assembly', 'representatives_assembly')", name="body_values"),
    )

    @property
    def current_version(self) -> "ProposalVersion | None":
        return self.versions[-1] if self.versions else None

    @property
    def body(self) -> str:
        v = self.current_version
        return v.body if v else ""

    @property
    def is_terminal(self) -> bool:
        return self.stage in TERMINAL

    def is_overdue(self, now: datetime | None = None) -> bool:
        return (not self.is_terminal and self.stage_deadline is not None
                and (now or utcnow()) > self.stage_deadline)

    def version(self, number: int) -> "ProposalVersion | None":
        return next((v for v in self.versions if v.number == number), None)


class ProposalVersion(db.Model):
    """One version of the text; every edit or accepted amendment makes a new one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(db.String(120))
    body: Mapped[str] = mapped_column(db.Text)
    note: Mapped[str | None] = mapped_column(db.String(500))  # why it changed
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="versions", foreign_keys=[proposal_id])
    created_by: Mapped[Person] = relationship()

    __table_args__ = (UniqueConstraint("proposal_id", "number", name="uq_proposal_version_number"),)


class StageChange(db.Model):
    """One move of a proposal from one stage to another (stage history)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(db.String(40))
    to_stage: Mapped[str] = mapped_column(db.String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(db.Text)
    audit_event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_event.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="history")
    actor: Mapped[Person | None] = relationship()


class Suggestion(db.Model):
    """议题征集: a topic suggested by villagers, representatives or supervisors."""

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    title: Mapped[str] = mapped_column(db.String(120))
    body: Mapped[str] = mapped_column(db.Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(db.String(16), default="open")  # open / accepted / answered
    threshold_reached_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(db.Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    answered_at: Mapped[datetime | None]

    village: Mapped[Village] = relationship()
    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[Person | None] = relationship(foreign_keys=[answered_by_id])
    signatures: Mapped[list["SuggestionSignature"]] = relationship(back_populates="suggestion",
                                                                   order_by="SuggestionSignature.id")

    __table_args__ = (CheckConstraint("status IN ('open', 'accepted', 'answered')", name="status_values"),)


class SuggestionSignature(db.Model):
    """A co-signature (联名) of a suggestion; one per person."""

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestion.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="signatures")
    person: Mapped[Person] = relationship()

    __table_args__ = (UniqueConstraint("suggestion_id", "person_id", name="uq_suggestion_signature"),)


class Authorisation(db.Model):
    """A villagers' assembly's recorded authorisation for the representatives' assembly
    to decide one art. 24 matter category (村民会议授权)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    matter_category: Mapped[str] = mapped_column(db.String(40))
    granted_on: Mapped[date]
    valid_until: Mapped[date | None]
    reference: Mapped[str] = mapped_column(db.String(300))  # which assembly decided it, minutes
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    def covers(self, matter_category: str, day: date) -> bool:
        return (self.matter_category == matter_category and self.granted_on <= day
                and (self.valid_until is None or day <= self.valid_until))


NOTICE_FACTS = ("assembly_announced", "party_plan_sent")


class NoticeFact(db.Model):
    """A notice that happened (公告, 党员审议方案送达), recorded once: the moment it was
    recorded, or an earlier day when a paper notice is documented; a correction is a new
    row that names the row it corrects and why. The township sees both kinds."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(30))
    happened_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    paper_note: Mapped[str | None] = mapped_column(db.String(300))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("notice_fact.id"))
    reason: Mapped[str | None] = mapped_column(db.String(1000))

    proposal: Mapped[Proposal] = relationship()
    recorded_by: Mapped[Person] = relationship()
    corrects: Mapped["NoticeFact | None"] = relationship(remote_side=[id])

    __table_args__ = (
        CheckConstraint("kind IN ('assembly_announced', 'party_plan_sent')", name="kind_values"),
    )

    @property
    def backdated(self) -> bool:
        return self.paper_note is not None


def notice_facts(proposal: Proposal, kind: str | None = None) -> list[NoticeFact]:
    query = select(NoticeFact).where(NoticeFact.proposal_id == proposal.id).order_by(NoticeFact.id)
    if kind:
        query = query.where(NoticeFact.kind == kind)
    return list(db.session.scalars(query))
