"""A proposal's complete record (档案) as one stable JSON document — the public contract
for archives and other tools, documented field by field in docs/record-format.md."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.records.models import AuditEvent, Filing, Objection, Report

FORMAT_VERSION = "1.0"
OWN_OBJECTS = ("objection", "report", "filing")


def _t(value: datetime | None) -> str | None:
    """Every time of the record in one format: ISO 8601 with the zone's offset."""
    return clock.isoformat(value)


def _person(p) -> dict | None:
    return {"id": p.id, "name": p.name} if p is not None else None


def export_polls(proposal) -> list[dict]:
    from app.voting.api import export_polls as polls_of

    return polls_of(proposal)


def poll_facts(proposal_ids) -> dict[int, list[dict]]:
    """Window and quorum facts of many proposals' polls at once (for the dashboards)."""
    from app.voting.api import poll_facts as facts_of

    return facts_of(proposal_ids)


def export_threads(proposal) -> list[dict]:
    from app.consultation.api import export_threads as threads_of

    return threads_of(proposal)


def export_disagreements(proposal) -> list[dict]:
    from app.consultation.api import export_disagreements as disagreements_of

    return disagreements_of(proposal)


def export_stakeholders(proposal) -> list[dict]:
    """The directly affected households and people (利益相关方), named, and whether heard."""
    from app.consultation import api

    cov = api.coverage(proposal)
    return [{"id": s.id, "household_id": s.household_id,
             "household_number": s.household.number if s.household else None, "person_id": s.person_id,
             "name": api.stakeholder_name(s), "reason": s.reason, "heard": s.id in cov.heard_ids,
             "added_at": _t(s.added_at)} for s in api.stakeholders_of(proposal)]


def export_coverage(proposal) -> dict:
    """How many of them were heard (in either consultation), and who was not heard in the topic consultation."""
    from app.consultation import api

    cov = api.coverage(proposal)
    return {"households_total": cov.households_total, "households_heard": cov.households_heard,
            "people_total": cov.people_total, "people_heard": cov.people_heard,
            "unheard_in_topic_consultation": api.unheard_in_topic(proposal)}


def objections_of(proposal) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.proposal_id == proposal.id)
                                   .order_by(Objection.id)))


def reports_of(proposal) -> list[Report]:
    return list(db.session.scalars(select(Report).where(Report.proposal_id == proposal.id).order_by(Report.id)))


def filing_of(proposal) -> Filing | None:
    return db.session.scalar(select(Filing).where(Filing.proposal_id == proposal.id))


def audit_events_of(proposal) -> list[AuditEvent]:
    """The proposal's own events and those of anything that names it in its payload
    (`"proposal_id": N`, as every area writes it), in installation order (which is each
    chain's order too)."""
    pid = proposal.id
    return list(db.session.scalars(select(AuditEvent).where(or_(
        (AuditEvent.object_type == "proposal") & (AuditEvent.object_id == pid),
        AuditEvent.payload.like(f'%"proposal_id":{pid},%'),
        AuditEvent.payload.like(f'%"proposal_id":{pid}}}%'),
    )).order_by(AuditEvent.id)))


def checkpoint_seen(filing: Filing) -> str | None:
    """The checkpoint the township saw when it filed, as `audit verify --checkpoint` takes it."""
    if not filing.checkpoint_seq:
        return None
    chain = "" if filing.checkpoint_chain in (None, "i") else f"{filing.checkpoint_chain}:"
    return f"{chain}{filing.checkpoint_seq}:{filing.checkpoint_hash}"


def audit_dict(e: AuditEvent) -> dict:
    """An event as the record carries it: every field its hash covers, `hashed_at` being
    the time exactly as hashed (UTC, microseconds), so a township can re-hash it."""
    return {"chain": e.chain, "seq": e.seq, "at": _t(e.at), "hashed_at": e.at.isoformat(timespec="microseconds"),
            "kind": e.kind, "village_id": e.village_id, "township_id": e.township_id, "actor_id": e.actor_id,
            "object_type": e.object_type, "object_id": e.object_id, "payload": json.loads(e.payload),
            "prev_hash": e.prev_hash, "hash": e.hash}


def objection_dict(o: Objection) -> dict:
    return {"id": o.id, "status": o.status, "body": o.body, "author": _person(o.author),
            "filed_at": _t(o.filed_at), "reply_due_at": _t(o.reply_due_at), "answer": o.answer,
            "upheld": o.upheld, "answered_by": _person(o.answered_by), "answered_at": _t(o.answered_at),
            "overdue": o.is_overdue()}


def report_dict(r: Report) -> dict:
    return {"id": r.id, "kind": r.kind, "body": r.body, "author": _person(r.author), "posted_at": _t(r.posted_at),
            "photos": [{"id": p.id, "content_type": p.content_type, "size": p.size, "sha256": p.sha256}
                       for p in r.photos],
            "opinion": ({"text": r.opinion, "by": _person(r.opinion_by), "at": _t(r.opinion_at)}
                        if r.opinion_at else None)}


def build_record(proposal) -> dict:
    """The complete record, built from the database only."""
    from app.records.checkpoints import checkpoint_dict, village_checkpoint

    filing = filing_of(proposal)
    events = audit_events_of(proposal)
    seq_of = {e.id: e.seq for e in events}
    return {
        "format_version": FORMAT_VERSION,
        "proposal": {
            "id": proposal.id, "village_id": proposal.village_id, "village": proposal.village.name,
            "township_id": proposal.village.township_id, "township": proposal.village.township.name,
            "title": proposal.title, "matter_category": proposal.matter_category,
            "deciding_body": proposal.deciding_body, "authorisation_id": proposal.authorisation_id,
            "stage": proposal.stage, "stage_entered_at": _t(proposal.stage_entered_at),
            "stage_deadline": _t(proposal.stage_deadline), "created_at": _t(proposal.created_at),
            "created_by": _person(proposal.created_by),
            "assembly_announced_at": _t(proposal.assembly_announced_at),
            "party_plan_sent_at": _t(proposal.party_plan_sent_at),
            "frozen_version": proposal.frozen_version.number if proposal.frozen_version else None,
        },
        "versions": [{"number": v.number, "title": v.title, "body": v.body, "note": v.note,
                      "created_by": _person(v.created_by), "created_at": _t(v.created_at)}
                     for v in proposal.versions],
        "stage_history": [{"from": h.from_stage, "to": h.to_stage, "at": _t(h.at), "actor": _person(h.actor),
                           "reason": h.reason, "audit_seq": seq_of.get(h.audit_event_id)} for h in proposal.history],
        "stakeholders": export_stakeholders(proposal),
        "coverage": export_coverage(proposal),
        "polls": export_polls(proposal),
        "threads": export_threads(proposal),
        "disagreements": export_disagreements(proposal),
        "objections": [objection_dict(o) for o in objections_of(proposal)],
        "reports": [report_dict(r) for r in reports_of(proposal)],
        "filing": ({"overseer": _person(filing.overseer), "comment": filing.comment, "filed_at": _t(filing.filed_at),
                    "checkpoint_seen": checkpoint_seen(filing)}
                   if filing else None),
        "checkpoint": checkpoint_dict(village_checkpoint(proposal.village)),
        "audit": [audit_dict(e) for e in events],
    }


def record_json(proposal) -> str:
    return json.dumps(build_record(proposal), ensure_ascii=False, indent=2, default=str)


MEETING_TITLES = {
    "committee_deliberation": "村党组织和村民委员会联席会议（两委初议）",
    "member_review": "党员大会（党员审议）",
    "villager_resolution": "村民会议（村民决议）",
}
REPRESENTATIVES_TITLE = "村民代表会议（村民决议）"


def _local(moment) -> str:
    """A stored UTC time in Beijing time, to the minute, for a paper form."""
    from flask_babel import force_locale

    with force_locale("zh_Hans"):
        return clock.format_time(moment) if moment else ""


def sign_in_roster(proposal) -> dict:
    """签到表: the proposal's latest meeting in words, who should sign in (the frozen
    roster of its latest poll, else the village's registered people), who signed in,
    who signed them in and when, and (secret poll) who was handed a paper ballot."""
    from app.accounts.models import Person

    try:
        from app.voting.models import Participation, Poll
    except ModuleNotFoundError:
        Poll = None
    if Poll is not None:
        poll = db.session.scalar(select(Poll).where(Poll.proposal_id == proposal.id).order_by(Poll.id.desc()))
        if poll is not None:
            title = (REPRESENTATIVES_TITLE if poll.electorate == "representatives"
                     else MEETING_TITLES.get(poll.stage, ""))
            meeting = poll.meeting
            attendance = {a.person_id: a for a in meeting.attendance} if meeting else {}
            phone = set(db.session.scalars(select(Participation.unit_key).where(
                Participation.poll_id == poll.id, Participation.channel == "online")))
            people = []
            for e in sorted(poll.roster, key=lambda e: ((e.household.number if e.household else "~"), e.name, e.id)):
                a = attendance.get(e.person_id)
                people.append({
                    "name": e.name, "household": e.household.number if e.household else None,
                    "signed_in": a is not None, "signed_in_by": a.signed_in_by.name if a else "",
                    "signed_in_at": _local(a.signed_in_at) if a else "",
                    "ballot_issued": bool(a and a.ballot_issued_at),
                    "ballot_issued_by": a.ballot_issued_by.name if a and a.ballot_issued_by else "",
                    "voted_by_phone": e.unit_key in phone})
            return {"title": title, "secret": poll.secret, "place": meeting.place if meeting else "",
                    "opened_at": _local(meeting.opened_at) if meeting else "", "people": people,
                    "present": len(attendance), "issued": sum(1 for p in people if p["ballot_issued"]),
                    "phone_voters": len(phone), "poll": poll}
    people = db.session.scalars(select(Person).where(Person.village_id == proposal.village_id, Person.active.is_(True))
                                .order_by(Person.id))
    return {"title": "", "secret": False, "place": "", "opened_at": "", "present": 0, "issued": 0, "phone_voters": 0,
            "poll": None,
            "people": [{"name": p.name, "household": p.household.number if p.household else None, "signed_in": False,
                        "signed_in_by": "", "signed_in_at": "", "ballot_issued": False, "ballot_issued_by": "",
                        "voted_by_phone": False} for p in people]}


def paper_ballots(proposal) -> dict:
    """表决票: the text voted on and how many identical ballots to print (one for each
    voter of the roster who has not voted by phone). A secret poll's ballot carries no
    name and no number, so a ballot cannot be traced to the person it was handed to."""
    roster = sign_in_roster(proposal)
    poll = roster["poll"]
    count = 1
    if poll is not None:
        units = len({e.unit_key for e in poll.roster})
        count = max(1, min(500, units - roster["phone_voters"]))
    return {"title": roster["title"], "secret": roster["secret"], "count": count, "poll": poll,
            "closes_at": _local(poll.closes_at) if poll else ""}
