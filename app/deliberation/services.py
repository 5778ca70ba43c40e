"""Every change of state of proposals, versions and suggestions (except stage moves,
which only the engine makes). Services flush, never commit."""
from __future__ import annotations

from datetime import date, datetime, time


from flask_babel import gettext as _
from sqlalchemy import func, select

from app import clock
from app.accounts.models import Person, RoleGrant, Village, utcnow
from app.deliberation import engine
from app.deliberation.matters import BODIES, matter
from app.deliberation.models import (
    Authorisation, NoticeFact, Proposal, ProposalVersion, Suggestion, SuggestionSignature, notice_facts,
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
    if authorisation is not None and authorisation.village_id != proposal.village_id:
        raise DeliberationError(_("This is not an authorisation of this village."))
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


PAPER_NOTE_MAX = 300
CORRECTION_REASON_MAX = 1000
_FACT_COLUMN = {"assembly_announced": "assembly_announced_at", "party_plan_sent": "party_plan_sent_at"}
_FACT_STAGES = {"assembly_announced": ("consensus_consultation", "villager_resolution"),
                "party_plan_sent": ("committee_deliberation", "member_review")}


class FactDateError(DeliberationError):
    """A fact's date the proposal's history or the clock does not allow; `field` names
    the form field the message belongs to."""

    def __init__(self, message: str, field: str = "when"):
        super().__init__(message)
        self.field = field


def _fact_moment(proposal: Proposal, day: date | None, paper_note: str | None) -> tuple[datetime, str | None]:
    """The moment a notice happened: the moment it is recorded, unless an earlier day is
    given with the paper notice that documents it. Never before the proposal existed,
    never in the future (days are Beijing calendar days).

    :raises FactDateError: naming the field and the allowed range."""
    now = utcnow()
    note = (paper_note or "").strip() or None
    if note is not None and len(note) > PAPER_NOTE_MAX:
        raise FactDateError(_("“Paper notice” can have at most %(n)d characters.", n=PAPER_NOTE_MAX), "paper_note")
    today = clock.local_date(now)
    if isinstance(day, datetime):
        day = clock.local_date(day)
    if day is None or day == today:
        return now, None
    if day > today:
        raise FactDateError(_("The date cannot be in the future (today is %(day)s).", day=clock.format_day(today)))
    created = proposal.created_at or now
    if day < clock.local_date(created):
        raise FactDateError(_("The date cannot be before the proposal was written (%(day)s).",
                              day=clock.format_day(clock.local_date(created))))
    if note is None:
        raise FactDateError(_("A date before today needs the paper notice that shows it (where it was posted, "
                              "who signed for it)."), "paper_note")
    # Noon of that Beijing day: the day is what the notice periods count.
    noon = clock.from_local(datetime.combine(day, time(12, 0)))
    return max(noon, created), note


def _record_notice(proposal: Proposal, actor: Person, kind: str, when: date | None,
                   paper_note: str | None) -> NoticeFact:
    column = _FACT_COLUMN[kind]
    if getattr(proposal, column) is not None:
        raise FactDateError(_("This is already recorded (%(day)s). A wrong date is corrected with a reason, "
                              "which the township sees.", day=clock.format_day(getattr(proposal, column))))
    happened, note = _fact_moment(proposal, when, paper_note)
    fact = NoticeFact(proposal=proposal, kind=kind, happened_at=happened, recorded_by=actor, paper_note=note)
    db.session.add(fact)
    setattr(proposal, column, happened)
    db.session.flush()
    record_event(f"proposal.{kind}", actor=actor, village_id=proposal.village_id, obj=proposal,
                 payload={"at": clock.isoformat(happened), "recorded_at": clock.isoformat(fact.recorded_at),
                          "paper_note": note, "fact_id": fact.id})
    return fact


def correct_notice(proposal: Proposal, actor: Person, kind: str, when: date | None, *, reason: str,
                   paper_note: str | None = None) -> NoticeFact:
    """A wrong notice date is corrected by a new fact that names the old one and why;
    the old row stays, the township's dashboard shows the correction."""
    if kind not in _FACT_COLUMN:
        raise DeliberationError(_("There is no such notice."))
    if proposal.stage not in _FACT_STAGES[kind]:
        raise DeliberationError(_("This notice cannot be corrected in this stage."))
    previous = next(iter(reversed([f for f in notice_facts(proposal, kind)])), None)
    if previous is None or getattr(proposal, _FACT_COLUMN[kind]) is None:
        raise DeliberationError(_("There is nothing to correct yet: record the notice first."))
    reason = (reason or "").strip()
    if not reason:
        raise FactDateError(_("Please write why the date is corrected."), "reason")
    if len(reason) > CORRECTION_REASON_MAX:
        raise FactDateError(_("“Reason” can have at most %(n)d characters.", n=CORRECTION_REASON_MAX), "reason")
    happened, note = _fact_moment(proposal, when, paper_note)
    fact = NoticeFact(proposal=proposal, kind=kind, happened_at=happened, recorded_by=actor, paper_note=note,
                      corrects=previous, reason=reason)
    db.session.add(fact)
    setattr(proposal, _FACT_COLUMN[kind], happened)
    db.session.flush()
    record_event(f"proposal.{kind}_corrected", actor=actor, village_id=proposal.village_id, obj=proposal,
                 payload={"at": clock.isoformat(happened), "was": clock.isoformat(previous.happened_at),
                          "reason": reason, "paper_note": note, "fact_id": fact.id, "corrects": previous.id})
    return fact


def announce_assembly(proposal: Proposal, actor: Person, announced_on: date | None = None, *,
                      paper_note: str | None = None) -> NoticeFact:
    """Record that the villagers' vote (assembly) was announced (公告), once.

    :raises FactDateError: a date before the proposal, in the future, earlier than today
        without a paper notice, or a second announcement."""
    if proposal.stage not in _FACT_STAGES["assembly_announced"]:
        raise DeliberationError(_("The villagers' vote is announced during the consensus consultation."))
    return _record_notice(proposal, actor, "assembly_announced", announced_on, paper_note)


def send_party_plan(proposal: Proposal, actor: Person, sent_on: date | None = None, *,
                    paper_note: str | None = None) -> NoticeFact:
    """Record that the plan was given to the Party members before their review, once."""
    if proposal.stage not in _FACT_STAGES["party_plan_sent"]:
        raise DeliberationError(_("The plan goes to the Party members around the committees' deliberation."))
    return _record_notice(proposal, actor, "party_plan_sent", sent_on, paper_note)


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
