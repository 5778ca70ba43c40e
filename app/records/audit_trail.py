"""A proposal's audit trail (审计记录) in words, for its overseer and its committee:
every event about it, who did what and when, whether each event still matches its
hash, which rows it bound, and whether a signed checkpoint already covers it."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.records.audit import hash_of
from app.records.record import audit_events_of

KIND_LABELS = {
    "proposal.created": _l("Proposal written"),
    "proposal.version": _l("New version of the text"),
    "proposal.category": _l("Matter category set"),
    "proposal.deadline": _l("Stage deadline set"),
    "proposal.transition": _l("Moved to another stage"),
    "proposal.topic_consultation_closed": _l("Topic consultation closed"),
    "proposal.assembly_announced": _l("The villagers' vote was announced"),
    "proposal.party_plan_sent": _l("Plan sent to the Party members"),
    "consultation.opinion_entered_for_villager": _l("Opinion written down for a villager"),
    "consultation.post_hidden": _l("Opinion hidden"),
    "consultation.stakeholder_listed": _l("Affected household listed"),
    "consultation.summary_written": _l("Consultation summary written"),
    "consultation.disagreement_registered": _l("Point of disagreement raised"),
    "consultation.disagreement_resolved": _l("Point of disagreement resolved"),
    "consultation.disagreement_carried": _l("Point of disagreement carried to the vote"),
    "consultation.amendment_proposed": _l("Amendment proposed"),
    "consultation.amendment_accepted": _l("Amendment accepted"),
    "consultation.amendment_declined": _l("Amendment declined"),
    "poll_opened": _l("Vote opened"),
    "ballot_cast": _l("Ballot cast"),
    "poll_closed": _l("Vote closed"),
    "poll_tallied": _l("Votes counted"),
    "meeting_opened": _l("Meeting opened"),
    "meeting_sign_in": _l("Signed in at the meeting"),
    "meeting_minutes": _l("Meeting minutes written"),
    "objection.filed": _l("Objection filed"),
    "objection.answered": _l("Objection answered"),
    "report.posted": _l("Implementation report posted"),
    "report.opinion": _l("Supervision committee's opinion"),
    "record.filed": _l("Record filed by the township"),
    "record.exported": _l("Record exported"),
}
OTHER_KIND = _l("Recorded change")

TABLE_LABELS = {
    "proposal": _l("the proposal"), "proposal_version": _l("text version"), "stage_change": _l("stage move"),
    "authorisation": _l("authorisation"), "suggestion": _l("suggestion"), "suggestion_signature": _l("co-signature"),
    "poll": _l("vote"), "roster_entry": _l("roster"), "poll_participation": _l("participation"),
    "poll_meeting": _l("meeting"), "poll_attendance": _l("sign-in"), "consultation_post": _l("opinion"),
    "stakeholder": _l("affected household"), "consultation_summary": _l("consultation summary"),
    "disagreement": _l("point of disagreement"), "amendment": _l("amendment"), "sense_check": _l("quick poll"),
    "role_grant": _l("role"), "objection": _l("objection"), "report": _l("report"), "report_photo": _l("photo"),
    "filing": _l("filing"), "ballot": _l("ballots at close"),
}


def chain_label(chain: str) -> str:
    """A chain's key in words: the village's or township's name, or the installation."""
    from app.accounts.models import Township, Village
    from app.extensions import db

    if chain[:1] in ("v", "t") and chain[1:].isdigit():
        place = db.session.get(Village if chain[0] == "v" else Township, int(chain[1:]))
        if place is not None:
            return place.name
        return str(_l("village no. %(id)s", id=chain[1:]) if chain[0] == "v" else
                   _l("township no. %(id)s", id=chain[1:]))
    return str(_l("the whole installation"))


@dataclass
class TrailItem:
    chain: str
    seq: int
    at: object
    label: str
    actor: object
    intact: bool
    bound: list[str]
    covered: bool  # a signed checkpoint of its chain at or after this event exists


def proposal_trail(proposal) -> list[TrailItem]:
    from sqlalchemy import func, select

    from app.accounts.models import Person
    from app.extensions import db
    from app.records.models import AuditCheckpoint

    events = audit_events_of(proposal)
    actors = {p.id: p for p in db.session.query(Person).filter(
        Person.id.in_({e.actor_id for e in events if e.actor_id}))} if events else {}
    chains = {e.chain for e in events}
    signed = dict(db.session.execute(select(AuditCheckpoint.chain, func.max(AuditCheckpoint.seq))
                                     .where(AuditCheckpoint.chain.in_(chains))
                                     .group_by(AuditCheckpoint.chain)).all()) if events else {}
    items = []
    for e in events:
        intact = hash_of(e) == e.hash
        rows = json.loads(e.payload).get("rows", {}) if intact else {}
        bound = [f"{TABLE_LABELS.get(name, name)} {key}" for name, keys in sorted(rows.items()) for key in keys]
        items.append(TrailItem(e.chain, e.seq, e.at, str(KIND_LABELS.get(e.kind, OTHER_KIND)), actors.get(e.actor_id),
                               intact, bound, e.seq <= signed.get(e.chain, 0)))
    return items
