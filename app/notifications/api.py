"""What other areas call to tell people something (通知). Each call adds to the
inbox in the caller's transaction; the text message goes out after it commits.

    notify(person, kind, text, url)           one person
    notify_many(people, kind, text, url)      several (each once)
    poll_opened(poll)                         everyone on the poll's roster
    reply_posted(reply)                       the author of the opinion replied to
    resolution_posted(proposal)               every active person of the village
    objection_answered(objection)             the person who filed it
    send_reminders(now)                       polls closing within 24 h, to those who have not voted

`text` may be a lazy string (flask_babel.lazy_gettext): it is then written in each
recipient's own language.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from flask import current_app, has_request_context, url_for
from flask_babel import LazyString

from app import clock
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts.models import Person, utcnow
from app.extensions import db
from app.notifications.models import KINDS, Notification
from app.notifications.services import add_notification

__all__ = ["KINDS", "notify", "notify_many", "poll_opened", "reply_posted", "resolution_posted",
           "objection_answered", "send_reminders"]

REMINDER_WINDOW = timedelta(hours=24)


def notify(person, kind: str, text, url: str, *, send: bool = True, key: str | None = None) -> Notification | None:
    """Tell one person; returns None when they turned this kind off (or already have `key`)."""
    return add_notification(person, kind, text, url, send=send, key=key)


def notify_many(people: Iterable, kind: str, text, url: str, *, send: bool = True,
                key: str | None = None) -> list[Notification]:
    """Tell each person once, however often they appear in `people`."""
    seen: set[int] = set()
    made = []
    for person in people:
        if person is None or person.id in seen:
            continue
        seen.add(person.id)
        note = add_notification(person, kind, text, url, send=send, key=key)
        if note is not None:
            made.append(note)
    return made


def _url(endpoint: str, **values) -> str:
    """A site-relative link; also from a command (seed-demo, close-due-polls), where
    there is no request to build it from."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def _poll_url(poll) -> str:
    return _url("voting.poll_detail", poll_id=poll.id)


def _proposal_url(proposal) -> str:
    return _url("deliberation.proposal_detail", proposal_id=proposal.id)


def poll_opened(poll) -> list[Notification]:
    """Call after open_poll(): each person on the frozen roster may vote."""
    title = poll.version.title if poll.version is not None else poll.proposal.title
    text = _l("Gongyi: a vote has opened on “%(title)s”. You may vote until %(until)s.",
              title=title, until=_when(poll.closes_at))
    return notify_many((entry.person for entry in poll.roster), "poll_opened", text, _poll_url(poll),
                       key=f"poll-opened:{poll.id}")


def reply_posted(reply) -> Notification | None:
    """Call after add_reply(): the author of the opinion hears that someone answered."""
    parent = reply.parent
    if parent is None or parent.author_id == reply.author_id:
        return None
    text = _l("Gongyi: %(name)s replied to your opinion on “%(title)s”.",
              name=reply.author.name, title=parent.proposal.title)
    url = _url("consultation.thread", proposal_id=parent.proposal_id, kind=parent.thread) + f"#post-{parent.id}"
    return notify(parent.author, "reply", text, url, key=f"reply:{reply.id}")


def resolution_posted(proposal) -> list[Notification]:
    """Call when a proposal enters the `publicized` stage (决议公示)."""
    people = db.session.scalars(select(Person).where(Person.village_id == proposal.village_id,
                                                     Person.active.is_(True)).order_by(Person.id))
    text = _l("Gongyi: the resolution on “%(title)s” is posted. Read it, and object if something is wrong.",
              title=proposal.title)
    return notify_many(people, "resolution_posted", text, _proposal_url(proposal),
                       key=f"resolution:{proposal.id}")


def objection_answered(objection) -> Notification | None:
    """Call after answer_objection(): the villager who objected reads the answer."""
    text = _l("Gongyi: your objection to “%(title)s” has been answered.", title=objection.proposal.title)
    return notify(objection.author, "objection_answered", text, _proposal_url(objection.proposal),
                  key=f"objection:{objection.id}")


def _when(moment: datetime) -> LazyString:
    """The time in the village's time zone, written the recipient's way."""
    return LazyString(clock.format_time, moment)


def voters_who_have_not_voted(poll) -> list[Person]:
    """People on the roster whose voting unit (the person, or the household) has no ballot."""
    from app.voting.models import Participation, RosterEntry

    voted = select(Participation.unit_key).where(Participation.poll_id == poll.id)
    return list(db.session.scalars(
        select(Person).join(RosterEntry, RosterEntry.person_id == Person.id)
        .where(RosterEntry.poll_id == poll.id, RosterEntry.unit_key.not_in(voted), Person.active.is_(True))
        .order_by(Person.id)))


def polls_closing_soon(now: datetime | None = None) -> list:
    from app.voting.models import Poll

    now = now or utcnow()
    return list(db.session.scalars(
        select(Poll).where(Poll.status == "open", Poll.opens_at <= now, Poll.closes_at > now,
                           Poll.closes_at <= now + REMINDER_WINDOW).order_by(Poll.id)))


def send_reminders(now: datetime | None = None) -> int:
    """One reminder per person and poll, however often this runs; returns how many went out."""
    count = 0
    for poll in polls_closing_soon(now):
        title = poll.version.title if poll.version is not None else poll.proposal.title
        text = _l("Gongyi: the vote on “%(title)s” closes at %(until)s and you have not voted yet.",
                  title=title, until=_when(poll.closes_at))
        count += len(notify_many(voters_who_have_not_voted(poll), "poll_closing", text, _poll_url(poll),
                                 key=f"poll-closing:{poll.id}"))
    return count
