"""Changes to inboxes and choices. Text messages go out only after the transaction
that caused them commits, so a rolled-back vote never sends "your vote opened".

Inbox changes are not written to the audit chain: they are private conveniences, not
steps of the village's decision, and the events that cause them are audited already.
"""
from __future__ import annotations

import logging

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.accounts.models import utcnow
from app.extensions import db
from app.notifications.models import ALWAYS_SENT, KINDS, Notification, NotificationOptOut, opted_out_kinds

log = logging.getLogger("gongyi.notifications")


def _locale_of(person) -> str:
    languages = current_app.config["LANGUAGES"]
    return person.language if person.language in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _render(text, person) -> str:
    """A lazy string is rendered in the recipient's language, not the actor's."""
    with force_locale(_locale_of(person)):
        return str(text)


def _absolute(url: str) -> str:
    if url.startswith("/") and has_request_context():
        return request.url_root.rstrip("/") + url
    return url


def add_notification(person, kind: str, text, url: str, *, send: bool = True,
                     key: str | None = None) -> Notification | None:
    """Put a message in the person's inbox (and queue a text message), unless they turned
    this kind off, are inactive, or already have the message with this key."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if person is None or not person.active or (kind not in ALWAYS_SENT and kind in opted_out_kinds(person)):
        return None
    if key is not None and db.session.scalar(
            select(Notification.id).where(Notification.person_id == person.id, Notification.key == key)):
        return None
    body = _render(text, person)[:500]
    note = Notification(person_id=person.id, kind=kind, text=body, url=url, key=key,
                        sent_by_message=bool(send and person.phone))
    db.session.add(note)
    db.session.flush()
    if note.sent_by_message:
        from app.notifications.outbox import queue_message

        queue_message(person.phone, f"{body} {_absolute(url)}".strip())
    return note


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()


def mark_all_read(person) -> int:
    result = db.session.execute(update(Notification)
                                .where(Notification.person_id == person.id, Notification.read_at.is_(None))
                                .values(read_at=utcnow()))
    db.session.flush()
    return result.rowcount or 0


def set_choices(person, wanted: set[str]) -> None:
    """Keep exactly the kinds in `wanted` turned on for this person."""
    current = {o.kind: o for o in db.session.scalars(
        select(NotificationOptOut).where(NotificationOptOut.person_id == person.id))}
    for kind in (k for k in KINDS if k not in ALWAYS_SENT):
        if kind in wanted and kind in current:
            db.session.delete(current[kind])
        elif kind not in wanted and kind not in current:
            db.session.add(NotificationOptOut(person_id=person.id, kind=kind))
    db.session.flush()


@event.listens_for(Session, "after_commit")
def _send_pending(session) -> None:
    # The outbox rows are committed with the change that caused them; the worker sends them.
    from app.notifications.outbox import after_commit

    try:
        after_commit(session)
    except Exception:  # the queue being away must not undo what was committed: the sweep sends later
        log.exception("could not hand the outbox to the job queue")


@event.listens_for(Session, "after_rollback")
def _drop_pending(session) -> None:
    from app.notifications.outbox import after_rollback

    after_rollback(session)
