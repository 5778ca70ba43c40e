"""What waits for a person: the open votes they may cast and have not cast yet, shown
first on their home page with the exact end ("12 月 9 日 24 时截止") and one big button."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import url_for
from flask_babel import format_date, get_locale, to_user_timezone
from sqlalchemy import select

from app.extensions import db
from app.voting.models import Participation, Poll, RosterEntry
from app.voting.views import bp


def polls_awaiting(user) -> list[Poll]:
    """Open polls of the person's village whose roster holds them, accepting ballots now,
    for which their voting unit (they, or their household) has not voted; soonest end first."""
    if not getattr(user, "is_authenticated", False) or user.village_id is None:
        return []
    rows = db.session.execute(
        select(Poll, RosterEntry.unit_key).join(RosterEntry, RosterEntry.poll_id == Poll.id)
        .where(RosterEntry.person_id == user.id, Poll.village_id == user.village_id, Poll.status == "open")
        .order_by(Poll.closes_at, Poll.id)).all()
    waiting = []
    for poll, unit_key in rows:
        if not poll.accepting_ballots():
            continue
        voted = db.session.scalar(select(Participation.id).where(Participation.poll_id == poll.id,
                                                                 Participation.unit_key == unit_key))
        if voted is None:
            waiting.append(poll)
    return waiting


def deadline_words(moment: datetime) -> str:
    """The end of a period in the reader's zone, as people say it: a poll closing at
    midnight ends "12 月 9 日 24 时" (the 9th's last hour), not "12 月 10 日 0:00"."""
    local = to_user_timezone(moment)
    midnight = local.time() == time(0, 0)
    day = local.date() - timedelta(days=1) if midnight else local.date()
    if str(get_locale() or "zh").startswith("zh"):
        return f"{day.month} 月 {day.day} 日 " + ("24 时" if midnight else local.strftime("%H:%M"))
    return f"{format_date(day, 'd MMMM')}, " + ("24:00" if midnight else local.strftime("%H:%M"))


def go_vote_url(polls: list[Poll]) -> str:
    """One vote waiting: straight to it; several: to the list of votes."""
    if len(polls) == 1:
        return url_for("voting.poll_detail", poll_id=polls[0].id)
    return url_for("voting.my_polls")


@bp.app_context_processor
def _waiting_context():
    return {"polls_awaiting": polls_awaiting, "deadline_words": deadline_words, "go_vote_url": go_vote_url}
