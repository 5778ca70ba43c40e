"""Every change of state in the consultations, one function each. Services flush, never
commit; each writes its audit event in the caller's transaction.

:raises ConsultationError: with a message for the person when the input is refused.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import Household, Person, utcnow
from app.consultation import permissions as perm
from app.consultation.models import (
    MAX_POST_CHARS, SENSE_CHOICES, STANCES, Amendment, ConsultationSummary, Disagreement, Post, SenseCheck,
    Stakeholder,
)
from app.extensions import db
from app.records.audit import record_event
from app.errors import Refused
from app.notifications import api as notifications


class ConsultationError(Refused, ValueError):
    """Refused input; str(exc) is the message to show, in the person's language."""


def _audit(kind: str, actor, proposal, obj, **payload) -> None:
    record_event(f"consultation.{kind}", actor=actor, village_id=proposal.village_id,
                 township_id=proposal.village.township_id, obj=obj,
                 payload={"proposal_id": proposal.id, **payload})


def _clean(text: str | None, *, limit: int, empty: str, too_long: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ConsultationError(empty)
    if len(text) > limit:
        raise ConsultationError(too_long)
    return text


def _post_body(body: str | None) -> str:
    return _clean(body, limit=MAX_POST_CHARS, empty=_("Please write your opinion."),
                  too_long=_("An opinion can be at most %(n)d characters long.", n=MAX_POST_CHARS))


def add_post(proposal, actor: Person, *, thread: str, stance: str, body: str,
             on_behalf_of: Person | None = None) -> Post:
    """A new opinion in a thread; a clerk may write it down for a villager heard in person."""
    if not perm.can_post(actor, proposal, thread):
        raise ConsultationError(_("This consultation is not open for opinions now."))
    if stance not in STANCES:
        raise ConsultationError(_("Please choose what you think: support, concern, oppose, suggestion or question."))
    text = _post_body(body)
    author, entered_by = actor, None
    if on_behalf_of is not None and on_behalf_of.id != actor.id:
        if not perm.can_post_for_others(actor, proposal, thread):
            raise ConsultationError(_("Only the clerk can write down an opinion for someone else."))
        if on_behalf_of.village_id != proposal.village_id:
            raise ConsultationError(_("That person is not registered in this village."))
        author, entered_by = on_behalf_of, actor
    post = Post(proposal=proposal, thread=thread, stance=stance, body=text, author=author, entered_by=entered_by)
    db.session.add(post)
    db.session.flush()
    if entered_by is not None:
        _audit("opinion_entered_for_villager", actor, proposal, post, author_id=author.id, thread=thread)
    return post


def add_reply(parent: Post, actor: Person, *, body: str, stance: str | None = None) -> Post:
    """A reply to a top-level post (one level only, never to a hidden post)."""
    if parent.parent_id is not None:
        raise ConsultationError(_("You can only reply to an opinion, not to a reply."))
    if parent.is_hidden:
        raise ConsultationError(_("This opinion was hidden; it cannot be replied to."))
    if not perm.can_post(actor, parent.proposal, parent.thread):
        raise ConsultationError(_("This consultation is not open for opinions now."))
    if stance is not None and stance not in STANCES:
        stance = None
    reply = Post(proposal=parent.proposal, thread=parent.thread, parent=parent, stance=stance,
                 body=_post_body(body), author=actor)
    db.session.add(reply)
    db.session.flush()
    notifications.reply_posted(reply)
    return reply


def hide_post(post: Post, actor: Person, *, reason: str) -> Post:
    """Moderation: hide a post with a reason; it is never deleted."""
    if not perm.can_moderate(actor, post):
        raise ConsultationError(_("You cannot hide this post."))
    reason = _clean(reason, limit=500, empty=_("Please give the reason for hiding this post."),
                    too_long=_("The reason can be at most %(n)d characters long.", n=500))
    post.hidden_at, post.hidden_by, post.hidden_reason = utcnow(), actor, reason
    _audit("post_hidden", actor, post.proposal, post, reason=reason, author_id=post.author_id, thread=post.thread)
    return post


def _find_stakeholder_target(village, number: str) -> Household | Person | None:
    household = db.session.scalar(select(Household).where(Household.village_id == village.id,
                                                          Household.number == number))
    if household is not None:
        return household
    return db.session.scalar(select(Person).where(Person.village_id == village.id, Person.phone == number))


def add_stakeholder(proposal, actor: Person, *, number: str, reason: str) -> Stakeholder:
    """List a household (by 户号) or a person (by phone number) as directly affected."""
    if not perm.can_list_stakeholders(actor, proposal):
        raise ConsultationError(_("Stakeholders can be listed by the committee during the consultations."))
    number = (number or "").strip()
    reason = _clean(reason, limit=300, empty=_("Please say why they are affected."),
                    too_long=_("The reason can be at most %(n)d characters long.", n=300))
    target = _find_stakeholder_target(proposal.village, number) if number else None
    if target is None:
        raise ConsultationError(_("No household number or phone number %(number)s in this village.", number=number))
    is_household = isinstance(target, Household)
    existing = db.session.scalar(select(Stakeholder).where(
        Stakeholder.proposal_id == proposal.id,
        (Stakeholder.household_id if is_household else Stakeholder.person_id) == target.id))
    if existing is not None:
        raise ConsultationError(_("This household or person is already listed."))
    row = Stakeholder(proposal=proposal, reason=reason, added_by=actor,
                      household=target if is_household else None, person=None if is_household else target)
    db.session.add(row)
    db.session.flush()
    _audit("stakeholder_listed", actor, proposal, row, household_id=row.household_id, person_id=row.person_id,
           reason=reason)
    return row


def write_summary(proposal, actor: Person, *, heard: str, answer: str) -> ConsultationSummary:
    """The topic consultation's summary: what was heard and how the draft answers it."""
    if not perm.can_write_summary(actor, proposal):
        raise ConsultationError(_("The summary is written by the committee during the topic consultation."))
    heard = _clean(heard, limit=10000, empty=_("Please write what was heard."),
                   too_long=_("This text can be at most %(n)d characters long.", n=10000))
    answer = _clean(answer, limit=10000, empty=_("Please write how the draft answers it."),
                    too_long=_("This text can be at most %(n)d characters long.", n=10000))
    summary = db.session.scalar(select(ConsultationSummary).where(ConsultationSummary.proposal_id == proposal.id))
    if summary is None:
        summary = ConsultationSummary(proposal=proposal, heard=heard, answer=answer, written_by=actor)
        db.session.add(summary)
    else:
        summary.heard, summary.answer, summary.written_by, summary.written_at = heard, answer, actor, utcnow()
    db.session.flush()
    _audit("summary_written", actor, proposal, summary, heard=heard, answer=answer)
    return summary


def register_disagreement(post: Post, actor: Person, *, title: str) -> Disagreement:
    """Turn a post into a disagreement item (分歧点)."""
    if not perm.can_register_disagreement(actor, post):
        raise ConsultationError(_("This post cannot be made a disagreement item now."))
    title = _clean(title, limit=200, empty=_("Please name the point of disagreement."),
                   too_long=_("The point can be at most %(n)d characters long.", n=200))
    item = Disagreement(proposal=post.proposal, post=post, title=title, created_by=actor)
    db.session.add(item)
    db.session.flush()
    _audit("disagreement_registered", actor, post.proposal, item, post_id=post.id, title=title)
    return item


def _close(item: Disagreement, actor: Person, status: str, outcome: str) -> Disagreement:
    item.status, item.outcome, item.closed_by, item.closed_at = status, outcome, actor, utcnow()
    db.session.flush()
    _audit(f"disagreement_{status}", actor, item.proposal, item, outcome=outcome)
    return item


def resolve_disagreement(item: Disagreement, actor: Person, *, resolution: str) -> Disagreement:
    if not perm.can_close_disagreement(actor, item):
        raise ConsultationError(_("This item cannot be resolved now."))
    text = _clean(resolution, limit=5000, empty=_("Please write how it was resolved."),
                  too_long=_("This text can be at most %(n)d characters long.", n=5000))
    return _close(item, actor, "resolved", text)


def carry_disagreement(item: Disagreement, actor: Person, *, reason: str) -> Disagreement:
    """Keep a disagreement on record as unresolved: it goes to the vote as it is (保留意见)."""
    if not perm.can_close_disagreement(actor, item):
        raise ConsultationError(_("This item cannot be carried forward now."))
    text = _clean(reason, limit=5000, empty=_("Please write why the disagreement stays."),
                  too_long=_("This text can be at most %(n)d characters long.", n=5000))
    return _close(item, actor, "carried", text)


def propose_amendment(proposal, actor: Person, *, body: str, note: str,
                      disagreement: Disagreement | None = None) -> Amendment:
    """A proposed new wording of the whole text, usually answering a disagreement item."""
    if not perm.can_propose_amendment(actor, proposal):
        raise ConsultationError(_("Amendments can be proposed during the consensus consultation."))
    current = proposal.current_version
    body = _clean(body, limit=50000, empty=_("Please write the amended text."),
                  too_long=_("This text can be at most %(n)d characters long.", n=50000))
    note = _clean(note, limit=500, empty=_("Please say what the amendment changes."),
                  too_long=_("This text can be at most %(n)d characters long.", n=500))
    if current is not None and body == current.body.strip():
        raise ConsultationError(_("The amended text is the same as the current text."))
    if disagreement is not None and (disagreement.proposal_id != proposal.id or disagreement.status != "open"):
        raise ConsultationError(_("That disagreement item is no longer open."))
    amendment = Amendment(proposal=proposal, disagreement=disagreement, base_version=current, body=body,
                          note=note, proposed_by=actor)
    db.session.add(amendment)
    db.session.flush()
    _audit("amendment_proposed", actor, proposal, amendment, note=note,
           disagreement_id=disagreement.id if disagreement else None, base_version=current.number)
    return amendment


def accept_amendment(amendment: Amendment, actor: Person, *, resolution: str | None = None) -> Amendment:
    """Accept an amendment into a new version of the text; the item it answers is resolved."""
    from app.deliberation.services import DeliberationError, record_amended_version

    if not perm.can_decide_amendment(actor, amendment):
        raise ConsultationError(_("This amendment cannot be accepted now."))
    proposal = amendment.proposal
    if proposal.current_version is None or amendment.base_version_id != proposal.current_version.id:
        raise ConsultationError(_("The text has changed since this amendment was proposed. "
                                  "Please propose it again on the current text."))
    item = amendment.disagreement
    try:
        version = record_amended_version(proposal, actor, body=amendment.body,
                                         note=_("Amendment: %(note)s", note=amendment.note)[:500])
    except DeliberationError as exc:
        raise ConsultationError(str(exc)) from exc
    amendment.status, amendment.version, amendment.decided_by, amendment.decided_at = (
        "accepted", version, actor, utcnow())
    db.session.flush()
    _audit("amendment_accepted", actor, proposal, amendment, version_id=version.id, version=version.number,
           disagreement_id=item.id if item else None)
    if item is not None and item.status == "open":
        _close(item, actor, "resolved",
               (resolution or "").strip() or _("Resolved by the amendment in version %(n)d: %(note)s",
                                                n=version.number, note=amendment.note))
    return amendment


def decline_amendment(amendment: Amendment, actor: Person, *, reason: str) -> Amendment:
    if not perm.can_decide_amendment(actor, amendment):
        raise ConsultationError(_("This amendment cannot be declined now."))
    reason = _clean(reason, limit=500, empty=_("Please give the reason for declining."),
                    too_long=_("The reason can be at most %(n)d characters long.", n=500))
    amendment.status, amendment.decline_reason = "declined", reason
    amendment.decided_by, amendment.decided_at = actor, utcnow()
    db.session.flush()
    _audit("amendment_declined", actor, amendment.proposal, amendment, reason=reason)
    return amendment


def set_sense_check(proposal, actor: Person, choice: str) -> SenseCheck:
    """Non-binding: agree / unsure / concerned; one per person, changeable; not audited
    because it decides nothing."""
    if not perm.can_sense_check(actor, proposal):
        raise ConsultationError(_("The sense check is open during the consensus consultation."))
    if choice not in SENSE_CHOICES:
        raise ConsultationError(_("Please choose agree, unsure or concerned."))
    row = db.session.scalar(select(SenseCheck).where(SenseCheck.proposal_id == proposal.id,
                                                     SenseCheck.person_id == actor.id))
    if row is None:
        row = SenseCheck(proposal_id=proposal.id, person_id=actor.id, choice=choice)
        db.session.add(row)
    else:
        row.choice, row.updated_at = choice, utcnow()
    db.session.flush()
    return row
