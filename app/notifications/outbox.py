"""The durable outbox of text messages: a row per message, written in the transaction
that caused it, sent after that transaction commits by the job queue's worker, one
message per short transaction, with a growing pause after a gateway failure."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import utcnow
from app.extensions import db
from app.notifications.models import OutboxMessage

log = logging.getLogger("gongyi.outbox")
MAX_ATTEMPTS = 8
FIRST_PAUSE = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(hours=1)
BATCH = 200
_ADDED = "gongyi_outbox_added"


def queue_message(phone: str, text: str) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction."""
    message = OutboxMessage(phone=phone, text=text[:800])
    db.session.add(message)
    db.session.info[_ADDED] = True
    return message


def pause_after(attempts: int) -> timedelta:
    return min(FIRST_PAUSE * (2 ** max(attempts - 1, 0)), LONGEST_PAUSE)


def deliver_due(session: Session | None = None) -> int:
    """Send every message that is due; returns how many went out. A message is claimed
    (pending → sending) before it is sent, so two workers never send it twice."""
    from app.accounts.messaging import get_backend

    s = session or db.session
    backend = get_backend()
    sent = 0
    now = utcnow()
    ids = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                                        OutboxMessage.next_attempt_at <= now)
                         .order_by(OutboxMessage.id).limit(BATCH)))
    s.commit()
    for message_id in ids:
        claimed = s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                        OutboxMessage.status == "pending")
                            .values(status="sending")).rowcount
        s.commit()
        if not claimed:
            continue
        message = s.get(OutboxMessage, message_id)
        try:
            backend.send(message.phone, message.text)
        except Exception as exc:  # noqa: BLE001 — any gateway failure is retried
            message.attempts += 1
            message.last_error = str(exc)[:300]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
                log.error("gave up sending message %s to %s: %s", message.id, message.phone, exc)
            else:
                message.status = "pending"
                message.next_attempt_at = utcnow() + pause_after(message.attempts)
                log.warning("message %s to %s failed (%s); retrying later", message.id, message.phone, exc)
        else:
            message.status = "sent"
            message.sent_at = utcnow()
            message.attempts += 1
            sent += 1
        s.commit()
    return sent


def after_commit(session) -> None:
    """New messages were committed: the worker is told at once (tests: sent at once,
    on the committed connection, in a session of its own)."""
    if not session.info.pop(_ADDED, False):
        return
    from app.jobs import deliver_outbox, huey

    if not huey.immediate:
        deliver_outbox()
        return
    bind = session.get_bind()
    with Session(bind=bind, join_transaction_mode="create_savepoint") as own:
        deliver_due(own)


def after_rollback(session) -> None:
    session.info.pop(_ADDED, None)
