"""Text messages go out from a durable outbox, sent by the job queue's worker, retried
with a growing pause when the gateway fails; a poll for many people sends nothing
inside the request (issue 12)."""
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import jobs
from app.accounts.models import utcnow
from app.clock import travel_to
from app.extensions import db
from app.notifications import api
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_due, pause_after
from tests.conftest import ON_POSTGRES
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def ctx(app, db):
    with app.test_request_context():
        yield


class FlakyGateway:
    def __init__(self, failures):
        self.failures, self.sent = failures, []

    def send(self, phone, text):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway timeout")
        self.sent.append((phone, text))


def test_a_message_is_a_row_committed_with_its_cause_and_marked_sent(ctx, outbox):
    person = make_user()
    api.notify(person, "reply", "有人回复了您", "/inbox")
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == "pending" and outbox == []
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == "sent" and len(outbox) == 1


def test_a_failing_gateway_is_retried_with_a_growing_pause(app, ctx, monkeypatch):
    gateway = FlakyGateway(failures=2)
    monkeypatch.setitem(app.extensions, "gongyi_messages", gateway)
    person = make_user()
    api.notify(person, "reply", "请查看", "/inbox")
    db.session.commit()  # first attempt fails
    row = db.session.scalar(select(OutboxMessage))
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 1 and "timeout" in row.last_error
    assert deliver_due() == 0  # not due yet
    with travel_to(utcnow() + pause_after(1) + timedelta(seconds=1)):
        assert deliver_due() == 0  # second failure
    db.session.refresh(row)
    assert row.attempts == 2 and pause_after(2) == 2 * pause_after(1)
    with travel_to(row.next_attempt_at + timedelta(seconds=1)):
        assert deliver_due() == 1
    db.session.refresh(row)
    assert row.status == "sent" and gateway.sent == [(person.phone, "请查看 http://localhost/inbox")]


def test_a_message_left_sending_by_nobody_is_never_sent_twice(app, ctx, monkeypatch):
    gateway = FlakyGateway(failures=0)
    monkeypatch.setitem(app.extensions, "gongyi_messages", gateway)
    row = OutboxMessage(phone="13900000001", text="x", status="sent")
    db.session.add(row)
    db.session.commit()
    assert deliver_due() == 0 and gateway.sent == []


def test_opening_a_poll_for_many_sends_nothing_inside_the_request(app, db, monkeypatch):
    """Not immediate (as in production): the request only writes the outbox rows."""
    from tests.voting.factories import make_poll

    enqueued = []
    monkeypatch.setattr(jobs.huey, "immediate", False)
    monkeypatch.setattr(jobs, "deliver_outbox", lambda: enqueued.append(1))
    sent = []
    monkeypatch.setitem(app.extensions, "gongyi_messages", FlakyGateway(0))
    with app.test_request_context():
        poll, people, _ = make_poll(voters=40)
        api.poll_opened(poll)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == "pending")) >= 40
        assert app.extensions["gongyi_messages"].sent == sent == [] and enqueued == [1]


def _worker_env(app):
    env = dict(os.environ)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if ON_POSTGRES:
        url += "?options=-csearch_path%3Dcommitting"
    env.update(DATABASE_URL=url, MESSAGE_BACKEND="log", SECRET_KEY="worker-test")
    env.pop("JOBS_IMMEDIATE", None)
    return env


def test_a_real_worker_process_runs_an_import_and_sends_the_outbox(committing_app):
    """The worker started as `make run` starts it, against a database that commits."""
    from app.accounts import imports
    from app.accounts.models import PeopleImport, Person
    from tests.accounts.test_imports import _csv
    from tests.factories import make_village

    app = committing_app
    with app.app_context():
        village = make_village()
        chair = make_user(["committee_member"], village)
        record = imports.start_import(village, chair, _csv(60), "名册.csv")
        db.session.add(OutboxMessage(phone="13900000001", text="表决开始了"))
        db.session.commit()
        record_id, village_id = record.id, village.id
        jobs.huey.immediate = False
        try:
            jobs.huey.flush()
            imports.enqueue(record)
            jobs.deliver_outbox()
        finally:
            jobs.huey.immediate = True
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
                              cwd=ROOT, env=_worker_env(app), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.get(PeopleImport, record_id).status
                sent = db.session.scalar(select(OutboxMessage.status))
                db.session.remove()
            if status in ("done", "failed") and sent == "sent":
                break
            time.sleep(0.5)
        assert (status, sent) == ("done", "sent")
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Person)
                                     .where(Person.village_id == village_id)) == 61
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode(errors="replace")
    assert "Worker started" in output
