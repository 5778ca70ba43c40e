"""What other areas may ask of voting (the engine's guards, the record export)."""
from __future__ import annotations

from flask_babel import get_locale
from sqlalchemy import false, select

from app import clock
from app.deliberation.hooks import NO_POLL, PollOutcome
from app.extensions import db
from app.voting.models import Poll


def latest_poll(proposal, stage: str) -> Poll | None:
    return db.session.scalar(select(Poll).where(Poll.proposal_id == proposal.id, Poll.stage == stage)
                             .order_by(Poll.id.desc()).limit(1))


def poll_outcome(proposal, stage: str) -> PollOutcome:
    """The latest poll of this proposal for this stage (NO_POLL if none)."""
    poll = latest_poll(proposal, stage)
    if poll is None:
        return NO_POLL
    tally = poll.tally
    summary = ""
    if tally is not None:
        try:
            summary = tally.words(str(get_locale() or "zh"))
        except Exception:  # no request or app context: the Chinese words
            summary = tally.words_zh
    return PollOutcome(exists=True, is_open=not poll.is_closed, closed=poll.is_closed,
                       quorum_met=bool(poll.quorum_met), passed=bool(poll.passed), summary=summary)


def poll_words_in_reader_language(proposal, stage: str, words: str) -> str:
    polls = db.session.scalars(select(Poll).where(Poll.proposal_id == proposal.id, Poll.stage == stage,
                                                  Poll.status == "closed"))
    for poll in polls:
        tally = poll.tally
        if tally is not None and words in (tally.words_zh, tally.words_en):
            return tally.words(str(get_locale() or "zh"))
    return words


def poll_records(proposal) -> list[dict]:
    """Every poll of the proposal for the record export: window, rule, roster size,
    tally snapshot, receipts after close. Never a choice of a secret poll's voter."""
    polls = db.session.scalars(select(Poll).where(Poll.proposal_id == proposal.id).order_by(Poll.id))
    return [poll_record(p) for p in polls]


export_polls = poll_records  # the name the record export asks for


def open_choices(poll: Poll) -> dict[str, str]:
    """unit key → choice, for an open (non-secret) poll only."""
    from app.voting.models import Ballot

    if poll.secret:
        return {}
    return dict(db.session.execute(select(Ballot.voter_key, Ballot.choice).where(Ballot.poll_id == poll.id)).all())


def participations(poll: Poll):
    from app.voting.models import Participation

    return list(db.session.scalars(select(Participation).where(Participation.poll_id == poll.id)
                                   .order_by(Participation.unit_key)))


def receipts_query(poll: Poll):
    """The published receipt codes (after close only), sorted so they carry no order; a
    paper ballot has no code."""
    from app.voting.models import Participation

    q = select(Participation.receipt).where(Participation.poll_id == poll.id, Participation.receipt.is_not(None))
    if not poll.is_closed:
        q = q.where(false())
    return q.order_by(Participation.receipt)


def receipts(poll: Poll) -> list[str]:
    """The published receipt list (after close only), sorted so it carries no order."""
    return list(db.session.scalars(receipts_query(poll)))


def receipt_published(poll: Poll, code: str) -> bool:
    """Whether this code is in the published list, asked of the database."""
    from app.voting.models import Participation

    return db.session.scalar(receipts_query(poll).where(Participation.receipt == code).limit(1)) is not None


def poll_record(poll: Poll) -> dict:
    """One poll as a stable, machine-readable record."""
    choices = open_choices(poll) if poll.is_closed else {}
    parts = participations(poll)
    record = {
        "id": poll.id, "proposal_id": poll.proposal_id, "stage": poll.stage, "version_id": poll.version_id,
        "electorate": poll.electorate, "secret": poll.secret, "status": poll.status,
        "roster_size": len(poll.roster), "opened_at": clock.isoformat(poll.opened_at) if poll.opened_at else None,
        "opens_at": clock.isoformat(poll.opens_at), "closes_at": clock.isoformat(poll.closes_at),
        "closed_at": clock.isoformat(poll.closed_at) if poll.closed_at else None,
        "rule": poll.rule.to_dict(), "tally": poll.tally.to_dict() if poll.tally else None,
        "roster": [{"person_id": e.person_id, "name": e.name, "gender": e.gender, "household_id": e.household_id}
                   for e in poll.roster],
        "took_part": [{"person_id": p.cast_by_id, "name": p.cast_by.name, "channel": p.channel,
                       "entered_by_id": p.entered_by_id, **({"choice": choices[p.unit_key]}
                                                            if p.unit_key in choices else {})}
                      for p in parts],
        "receipts": receipts(poll),
        "meeting": None,
    }
    if poll.meeting is not None:
        m = poll.meeting
        record["meeting"] = {"opened_at": clock.isoformat(m.opened_at), "place": m.place, "minutes": m.minutes,
                             "attendance": [a.person_id for a in m.attendance],
                             "sign_in": [{"person_id": a.person_id, "signed_in_by_id": a.signed_in_by_id,
                                          "signed_in_at": clock.isoformat(a.signed_in_at),
                                          "paper_ballot_issued_by_id": a.ballot_issued_by_id,
                                          "paper_ballot_issued_at": clock.isoformat(a.ballot_issued_at)
                                          if a.ballot_issued_at else None} for a in m.attendance]}
    hall = poll.hall_count
    record["hall_count"] = None if hall is None else {
        "issued": hall.issued, "returned": hall.returned, "yes": hall.yes, "no": hall.no, "abstain": hall.abstain,
        "spoilt": hall.spoilt, "scrutineers": hall.scrutineers, "counter": hall.counter,
        "entered_by_id": hall.entered_by_id, "entered_at": clock.isoformat(hall.entered_at)}
    return record


def poll_facts(proposal_ids) -> dict[int, list[dict]]:
    """The window and quorum facts of every poll of many proposals, in one query, for
    the oversight dashboards' compliance checks (the keys export_polls gives them).
    `proposal_ids` is a list of ids or a select of them."""
    rows = db.session.execute(
        select(Poll.proposal_id, Poll.stage, Poll.opens_at, Poll.closes_at, Poll.opened_at, Poll.closed_at,
               Poll.tally_json.is_not(None), Poll.quorum_met)
        .where(Poll.proposal_id.in_(proposal_ids)).order_by(Poll.id))
    out: dict[int, list[dict]] = {}
    for pid, stage, opens, closes, opened, closed, tallied, quorum_met in rows:
        out.setdefault(pid, []).append({
            "stage": stage, "opens_at": opens, "closes_at": closes, "opened_at": opened, "closed_at": closed,
            "tally": {"quorum_met": quorum_met} if tallied else None})
    return out
