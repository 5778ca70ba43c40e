"""Every change of state of proposals, versions and suggestions (except stage moves,
which only the engine makes). Services flush, never commit."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import clock
from app.accounts.models import Person, RoleGrant, Village, utcnow
from app.deliberation import engine
from app.deliberation.matters import BODIES, matter
from app.deliberation.models import (
    Authorisation, Proposal, ProposalVersion, Suggestion, SuggestionSignature,
)
from app.extensions import db
from app.records.audit import record_event
from app.errors import Refused

TITLE_MAX = 120
BODY_MAX = 20000


class DeliberationError(Refused, ValueError):
    """A request the deliberation area cannot carry out; str() is for the user."""


def _check_text(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise DeliberationError(_("Please give the proposal a title."))
    if len(title) > TITLE_MAX:
        raise DeliberationError(_("The title may have at most %(n)d characters.", n=TITLE_MAX))
    if not body:
        raise DeliberationError(_("Please write the text of the proposal."))
    if len(body) > BODY_MAX:
        raise DeliberationError(_("The text may have at most %(n)d characters.", n=BODY_MAX))
    return title, body


def _check_category(matter_category: str | None, deciding_body: str) -> None:
    if matter_category and matter(matter_category) is None:
        raise DeliberationError(_("Unknown matter category."))
    if deciding_body not in BODIES:
        raise DeliberationError(_("Unknown deciding body."))


def _new_version(proposal: Proposal, actor: Person, title: str, body: str, note: str | None) -> ProposalVersion:
    number = (proposal.current_version.number + 1) if proposal.versions else 1
    version = ProposalVersion(proposal=proposal, number=number, title=title, body=body, note=note,
                              created_by=actor)
    db.session.add(version)
    proposal.title = title
    db.session.flush()
    record_event("proposal.version", actor=actor, village_id=proposal.village_id, obj=proposal,
                 payload={"version": number, "note": note})
    return version


def create_proposal(village: Village, actor: Person, *, title: str, body: str, matter_category: str | None,
                    deciding_body: str = "villagers_assembly", suggestion: Suggestion | None = None) -> Proposal:
    """A new draft (提议) with its first version."""
    title, body = _check_text(title, body)
    _check_category(matter_category, deciding_body)
    proposal = Proposal(village=village, title=title, matter_category=matter_category or None,
                        deciding_body=deciding_body, created_by=actor,
                        suggestion_id=suggestion.id if suggestion else None)
    db.session.add(proposal)
    db.session.flush()
    record_event("proposal.created", actor=actor, village_id=village.id, obj=proposal,
                 payload={"title": title, "matter_category": matter_category, "deciding_body": deciding_body})
    _new_version(proposal, actor, title, body, None)
    return proposal


def edit_draft(proposal: Proposal, actor: Person, *, title: str, body: str, note: str | None,
               matter_category: str | None, deciding_body: str,
               authorisation: Authorisation | None = None) -> ProposalVersion | None:
    """Edit a draft: a changed text makes a new version; returns it (None if only the
    category or body changed)."""
    if proposal.stage != "draft":
        raise DeliberationError(_("Only a draft can be edited. Changes later in the process are made by amendment."))
    title, body = _check_text(title, body)
    _check_category(matter_category, deciding_body)
    changed_meta = (proposal.matter_category, proposal.deciding_body, proposal.authorisation_id) != (
        matter_category or None, deciding_body, authorisation.id if authorisation else None)
    proposal.matter_category = matter_category or None
    proposal.deciding_body = deciding_body
    proposal.authorisation = authorisation
    if changed_meta:
        record_event("proposal.category", actor=actor, village_id=proposal.village_id, obj=proposal,
                     payload={"matter_category": proposal.matter_category, "deciding_body": deciding_body,
                              "authorisation_id": proposal.authorisation_id})
    current = proposal.current_version
    if current and current.title == title and current.body == body:
        db.session.flush()
        return None
    return _new_version(proposal, actor, title, body, (note or "").strip() or None)


def record_amended_version(proposal: Proposal, actor: Person, *, body: str, title: str | None = None,
                           note: str) -> ProposalVersion:
    """An accepted amendment (consensus consultation) makes a new version of the text."""
    if proposal.stage != "consensus_consultation":
        raise DeliberationError(_("Amendments can be accepted only during the consensus consultation."))
    title, body = _check_text(title or proposal.title, body)
    return _new_version(proposal, actor, title, body, note)


def set_stage_deadline(proposal: Proposal, actor: Person, deadline: datetime | None) -> None:
    if proposal.is_terminal:
        raise DeliberationError(_("A finished proposal has no deadline."))
    proposal.stage_deadline = deadline
    db.session.flush()
    record_event("proposal.deadline", actor=actor, village_id=proposal.village_id, obj=proposal,
                 payload={"stage": proposal.stage, "deadline": clock.isoformat(deadline)})


def close_topic_consultation(proposal: Proposal, actor: Person) -> None:
    """The committee ends the topic consultation early."""
    if proposal.stage != "topic_consultation":
        raise DeliberationError(_("The topic consultation is not running."))
    if proposal.topic_consultation_closed_at is None:
        proposal.topic_consultation_closed_at = utcnow()
        db.session.flush()
        record_event("proposal.topic_consultation_closed", actor=actor, village_id=proposal.village_id,
                     obj=proposal)


def _past_or_now(when: datetime | None) -> datetime:
    now = utcnow()
    if when is None:
        return now
    if when > now:
        raise DeliberationError(_("The date cannot be in the future."))
    return when


def announce_assembly(proposal: Proposal, actor: Person, announced_at: datetime | None = None) -> None:
    """Record when the villagers' vote (assembly) was announced (公告), e.g. on the notice board."""
    if proposal.stage not in ("consensus_consultation", "villager_resolution"):
        raise DeliberationError(_("The villagers' vote is announced during the consensus consultation."))
    proposal.assembly_announced_at = _past_or_now(announced_at)
    db.session.flush()
    record_event("proposal.assembly_announced", actor=actor, village_id=proposal.village_id, obj=proposal,
                 payload={"announced_at": clock.isoformat(proposal.assembly_announced_at)})


def send_party_plan(proposal: Proposal, actor: Person, sent_at: datetime | None = None) -> None:
    """Record that the plan was given to the Party members before their review."""
    if proposal.stage not in ("committee_deliberation", "member_review"):
        raise DeliberationError(_("The plan goes to the Party members around the committees' deliberation."))
    proposal.party_plan_sent_at = _past_or_now(sent_at)
    db.session.flush()
    record_event("proposal.party_plan_sent", actor=actor, village_id=proposal.village_id, obj=proposal,
                 payload={"sent_at": clock.isoformat(proposal.party_plan_sent_at)})


def record_authorisation(village: Village, actor: Person, *, matter_category: str, granted_on: date,
                         valid_until: date | None, reference: str) -> Authorisation:
    m = matter(matter_category)
    if m is None or not m.art24:
        raise DeliberationError(_("Only the matters of article 24 need an authorisation."))
    if not (reference or "").strip():
        raise DeliberationError(_("Please say which villagers' assembly gave the authorisation."))
    if valid_until and valid_until < granted_on:
        raise DeliberationError(_("The end date is before the start date."))
    auth = Authorisation(village_id=village.id, matter_category=matter_category, granted_on=granted_on,
                         valid_until=valid_until, reference=reference.strip(), recorded_by_id=actor.id)
    db.session.add(auth)
    db.session.flush()
    record_event("authorisation.recorded", actor=actor, village_id=village.id, obj=auth,
                 payload={"matter_category": matter_category, "granted_on": granted_on.isoformat(),
                          "valid_until": valid_until.isoformat() if valid_until else None})
    return auth


# Suggestions (议题征集) ---------------------------------------------------------------

def file_suggestion(village: Village, actor: Person, *, title: str, body: str) -> Suggestion:
    title, body = _check_text(title, body)
    suggestion = Suggestion(village=village, title=title, body=body, author=actor)
    db.session.add(suggestion)
    db.session.flush()
    record_event("suggestion.filed", actor=actor, village_id=village.id, obj=suggestion, payload={"title": title})
    cosign_suggestion(suggestion, actor)  # the author is the first signature
    return suggestion


def _count_role(village_id: int, role: str) -> int:
    return db.session.scalar(select(func.count(func.distinct(RoleGrant.person_id)))
                             .where(RoleGrant.village_id == village_id, RoleGrant.role == role)) or 0


def adult_villager_count(village: Village) -> int:
    today = clock.today()
    people = db.session.scalars(select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
                                .where(RoleGrant.village_id == village.id, RoleGrant.role == "villager",
                                       Person.active.is_(True))).unique().all()
    return sum(1 for p in people if p.is_adult(today))


def signature_counts(suggestion: Suggestion) -> tuple[int, int]:
    """(adult villagers who signed, representatives who signed)."""
    today = clock.today()
    adults = sum(1 for s in suggestion.signatures
                 if s.person.has_role("villager", village_id=suggestion.village_id) and s.person.is_adult(today))
    reps = sum(1 for s in suggestion.signatures
               if s.person.has_role("representative", village_id=suggestion.village_id))
    return adults, reps


def threshold_reached(suggestion: Suggestion) -> bool:
    """One tenth of adult villagers (以上, boundary included) or one fifth of the representatives."""
    adults, reps = signature_counts(suggestion)
    all_adults = adult_villager_count(suggestion.village)
    all_reps = _count_role(suggestion.village_id, "representative")
    return (all_adults > 0 and adults * 10 >= all_adults) or (all_reps > 0 and reps * 5 >= all_reps)


def cosign_suggestion(suggestion: Suggestion, actor: Person) -> SuggestionSignature | None:
    if suggestion.status != "open":
        raise DeliberationError(_("This suggestion has already been taken up or answered."))
    if any(s.person_id == actor.id for s in suggestion.signatures):
        return None
    sig = SuggestionSignature(suggestion=suggestion, person=actor)
    db.session.add(sig)
    db.session.flush()
    record_event("suggestion.cosigned", actor=actor, village_id=suggestion.village_id, obj=suggestion)
    if suggestion.threshold_reached_at is None and threshold_reached(suggestion):
        suggestion.threshold_reached_at = utcnow()
        db.session.flush()
        record_event("suggestion.threshold_reached", village_id=suggestion.village_id, obj=suggestion,
                     payload={"signatures": len(suggestion.signatures)})
    return sig


def accept_suggestion(suggestion: Suggestion, actor: Person, *, matter_category: str | None = None) -> Proposal:
    """The committee takes the suggestion up: it becomes a draft proposal."""
    if suggestion.status != "open":
        raise DeliberationError(_("This suggestion has already been taken up or answered."))
    proposal = create_proposal(suggestion.village, actor, title=suggestion.title, body=suggestion.body,
                               matter_category=matter_category, suggestion=suggestion)
    suggestion.status = "accepted"
    suggestion.answered_by = actor
    suggestion.answered_at = utcnow()
    db.session.flush()
    record_event("suggestion.accepted", actor=actor, village_id=suggestion.village_id, obj=suggestion,
                 payload={"proposal_id": proposal.id})
    return proposal


def answer_suggestion(suggestion: Suggestion, actor: Person, *, answer: str) -> None:
    """The committee answers the suggestion without taking it up, giving its reasons."""
    if suggestion.status != "open":
        raise DeliberationError(_("This suggestion has already been taken up or answered."))
    answer = (answer or "").strip()
    if not answer:
        raise DeliberationError(_("Please write the answer."))
    suggestion.status = "answered"
    suggestion.answer = answer
    suggestion.answered_by = actor
    suggestion.answered_at = utcnow()
    db.session.flush()
    record_event("suggestion.answered", actor=actor, village_id=suggestion.village_id, obj=suggestion)


def suggestion_overdue(suggestion: Suggestion) -> bool:
    """A suggestion past the co-signature threshold must be taken up; until then it is overdue."""
    return suggestion.status == "open" and suggestion.threshold_reached_at is not None


def transition(proposal: Proposal, to_stage: str, actor: Person, reason: str | None = None):
    """Views call this; the engine does the work."""
    return engine.transition(proposal, to_stage, actor, reason)
