"""Demo polls for `flask seed-demo`: app/demo.py calls these after the proposals exist.
Everything goes through the services (open, sign in, cast, close), so the demo record
is what a real village would have, audit chain included."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.accounts.models import Person, utcnow
from app.extensions import db
from app.voting import services
from app.voting.models import Poll


def _person(phone: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.phone == phone))


def open_demo_poll(proposal, actor, votes: dict[str, str] | None = None, *, in_hall: dict[str, str] | None = None,
                   clerk: Person | None = None, hours: int = 72, secret: bool | None = None,
                   household_mode: bool = False) -> Poll:
    """Open the poll of the proposal's current stage (or reuse the open one) and cast
    `votes` (phone → yes/no/abstain) by phone and `in_hall` at a meeting: in a secret
    poll as paper ballots whose totals the scrutineers enter, in an open one through the
    clerk. People not on the roster are skipped. The poll stays open."""
    stage = proposal.stage
    poll = db.session.scalar(select(Poll).where(Poll.proposal_id == proposal.id, Poll.stage == stage)
                             .order_by(Poll.id.desc()).limit(1))
    if poll is None:
        poll = services.open_poll(proposal, actor, closes_at=utcnow() + timedelta(hours=hours), secret=secret,
                                  household_mode=household_mode)
    if poll.is_closed:
        return poll
    for phone, choice in (votes or {}).items():
        person = _person(phone)
        if person is not None and poll.roster_entry_for(person) is not None:
            services.cast_ballot(poll, person, choice)
    if in_hall:
        clerk = clerk or actor
        meeting = services.open_meeting(poll, clerk, place="村委会议室")
        paper = {"yes": 0, "no": 0, "abstain": 0}
        for phone, choice in in_hall.items():
            person = _person(phone)
            if person is None or poll.roster_entry_for(person) is None:
                continue
            services.sign_in(meeting, person, clerk)
            if poll.secret:  # a paper ballot (表决票), counted by the scrutineers below
                services.issue_paper_ballot(meeting, person, clerk)
                paper[choice] += 1
            else:
                services.cast_ballot(poll, person, choice, channel="in_person", entered_by=clerk)
        if poll.secret and poll.hall_count is None and sum(paper.values()):
            supervisors = [p.name for p in services.electorate_people(proposal.village, "adult_villagers",
                                                                      utcnow().date())
                           if p.has_role("supervisor", proposal.village_id)][:2] or [clerk.name]
            n = sum(paper.values())
            services.record_hall_count(poll, clerk, issued=n, returned=n, spoilt=0, scrutineers="、".join(supervisors),
                                       counter=clerk.name, **paper)
        if not meeting.minutes:
            text = ("现场会议按程序进行：签到、发放表决票、宣读表决事项、无记名投票、监票人当众唱票计票。" if poll.secret
                    else "现场会议按程序进行：签到、宣读表决事项、现场表决。")
            services.record_minutes(meeting, text, clerk)
    db.session.flush()
    return poll


def run_poll(proposal, actor, votes: dict[str, str] | None = None, *, in_hall: dict[str, str] | None = None,
             clerk: Person | None = None, secret: bool | None = None, household_mode: bool = False) -> Poll:
    """Open, cast (some in the hall through the clerk) and close the poll of the
    proposal's current stage; the engine then moves the proposal on (passed → next
    stage; failed or no quorum → draft, or rejected for the villagers' vote)."""
    poll = open_demo_poll(proposal, actor, votes, in_hall=in_hall, clerk=clerk, secret=secret,
                          household_mode=household_mode)
    if not poll.is_closed:
        services.close_poll(poll, actor=actor)
    db.session.flush()
    return poll


def everyone(proposal, stage: str, choice: str = "yes", *, skip: int = 0) -> dict[str, str]:
    """phone → choice for the whole body that votes in `stage`, leaving out the last
    `skip` people (to demonstrate a missing quorum)."""
    from app.voting.tally import electorate_for

    electorate = electorate_for(stage, proposal.deciding_body)
    people = services.electorate_people(proposal.village, electorate, clock.today())
    if skip:
        people = people[:-skip]
    return {p.phone: choice for p in people}
