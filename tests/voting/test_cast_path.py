"""The vote cast near the floor: its statements counted, its reads outside the write lock,
the poll rechecked inside it, and a retried submission (the same request key) never
counted twice (issue 14, items 1 and 5)."""
import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from app.accounts.models import Person, utcnow
from app.extensions import db as _db
from app.records.models import AuditEvent
from app.voting import services
from app.voting import views as voting_views
from app.voting.models import Ballot, Participation, Poll
from tests.conftest import ON_POSTGRES, CSRF_RE
from tests.factories import PASSWORD
from tests.statements import counting_statements
from tests.voting.factories import make_poll

RECEIPT = re.compile(r"<code>([A-Z2-9]{4}-[A-Z2-9]{4})</code>")
KEY = re.compile(r'name="request_key" value="([^"]+)"')

SECRET = ("villager_resolution", True)
OPEN = ("committee_deliberation", False)


def _audit(statement: str) -> bool:
    """A statement of the audit append (the chain's head and its events)."""
    return bool(re.search(r"\baudit_\w+", statement))


def _cast_statements(db, login_as, stage, secret):
    poll, people, _ = make_poll(stage, voters=2, secret=secret)
    db.session.commit()
    b = login_as(people[0])
    b.get(f"/polls/{poll.id}")
    b.post(f"/polls/{poll.id}/confirm", {"choice": "yes"})
    with counting_statements() as seen:
        resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": "k" * 22})
    assert resp.status_code == 302 and resp.location.endswith(f"/polls/{poll.id}")
    assert _db.session.scalar(select(func.count()).select_from(Participation)
                              .where(Participation.poll_id == poll.id)) == 1
    statements = [s for s in seen if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")]
    audit = [s for s in statements if _audit(s)]
    return statements, audit


@pytest.mark.parametrize("stage,secret", [SECRET, OPEN], ids=["secret", "open"])
def test_a_cast_runs_at_most_four_statements_besides_the_audit_append(db, login_as, stage, secret):
    statements, audit = _cast_statements(db, login_as, stage, secret)
    others = [s for s in statements if not _audit(s)]
    # The read, the recheck, the participation upsert (and an open poll's ballot upsert).
    assert len(others) <= 4, others
    assert audit, "the cast wrote no audit event"


@pytest.mark.parametrize("stage,secret", [SECRET, OPEN], ids=["secret", "open"])
def test_a_cast_runs_at_most_six_statements_in_all(db, login_as, stage, secret):
    statements, _ = _cast_statements(db, login_as, stage, secret)
    # Everything included: the read, the recheck, the upserts, the audit append.
    assert len(statements) <= 6, statements


def test_the_cast_reads_the_person_roles_poll_and_roster_entry_in_one_statement(db, login_as):
    statements, _ = _cast_statements(db, login_as, *SECRET)
    first = statements[0]
    for table in ("person", "role_grant", "poll", "roster_entry"):
        assert re.search(rf"\b{table}\b", first), table
    assert not any(re.search(r"FROM roster_entry|FROM role_grant", s) for s in statements[1:])


def _sign_out_everywhere(person):
    person.rotate_session_token()  # a new sign-in elsewhere


def _deactivate(person):
    person.active = False


@pytest.mark.parametrize("change", [_sign_out_everywhere, _deactivate], ids=["stale-token", "inactive"])
def test_the_cast_loader_keeps_the_session_token_and_active_checks(db, login_as, change):
    poll, people, _ = make_poll(voters=1)
    db.session.commit()
    b = login_as(people[0])
    b.get(f"/polls/{poll.id}")
    change(people[0])
    db.session.commit()
    resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes"})
    assert resp.status_code == 302 and "/login" in resp.location
    assert db.session.query(Participation).count() == 0


def test_a_person_not_on_the_roster_still_gets_403_at_the_cast(db, login_as):
    from tests.factories import make_user

    poll, _, _ = make_poll(voters=1)
    outsider = make_user(["villager"], poll.village)  # registered after the roster froze
    db.session.commit()
    b = login_as(outsider)
    b.get(f"/polls/{poll.id}")
    assert b.post(f"/polls/{poll.id}/cast", {"choice": "yes"}).status_code == 403
    assert db.session.query(Participation).count() == 0



@pytest.mark.parametrize("target", ["other_village", "missing", "beyond_ids"])
def test_a_hand_made_cast_to_another_villages_or_no_poll_is_404_and_writes_nothing(db, login_as, target):
    from tests.factories import make_user

    poll, _, _ = make_poll(voters=1)  # an open poll of one village
    stranger = make_user(["villager"])  # a villager of another village, signed in
    db.session.commit()
    events = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    b = login_as(stranger)
    poll_id = {"other_village": poll.id, "missing": poll.id + 1000, "beyond_ids": 2**31}[target]
    resp = b.post(f"/polls/{poll_id}/cast", {"choice": "yes", "request_key": "k" * 22})
    assert resp.status_code == 404
    assert "Traceback" not in resp.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(Participation)) == 0
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


# The idempotency key

def _cast_form(b, poll, choice):
    """Choose, then read the cast form of the confirm step: its request key."""
    page = b.get(f"/polls/{poll.id}").get_data(as_text=True)
    if not KEY.search(page):  # the receipt of the last cast, shown once
        page = b.get(f"/polls/{poll.id}").get_data(as_text=True)
    html = b.post(f"/polls/{poll.id}/confirm", {"choice": choice, "request_key": KEY.search(page).group(1)}
                  ).get_data(as_text=True)
    cast_form = html[html.index(f'action="/polls/{poll.id}/cast"'):]
    return KEY.search(cast_form).group(1)


def _events(poll):
    return _db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.kind == "ballot_cast", AuditEvent.object_id == poll.id))


def _receipt_after(b, resp):
    assert resp.status_code == 302
    return RECEIPT.search(b.get(resp.location).get_data(as_text=True)).group(1)


@pytest.fixture()
def voting(db, login_as):
    poll, people, _ = make_poll(voters=2)
    db.session.commit()
    return poll, login_as(people[0])


def test_every_rendered_vote_form_carries_a_fresh_request_key(voting):
    poll, b = voting
    first = KEY.findall(b.get(f"/polls/{poll.id}").get_data(as_text=True))
    second = KEY.findall(b.get(f"/polls/{poll.id}").get_data(as_text=True))
    assert len(first) == 1 and len(second) == 1 and first != second
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", first[0])
    assert _cast_form(b, poll, "yes") != _cast_form(b, poll, "yes")


def test_the_same_submission_sent_twice_is_cast_once_with_the_same_receipt(voting):
    poll, b = voting
    key = _cast_form(b, poll, "no")
    first = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "no", "request_key": key}))
    again = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "no", "request_key": key}))
    assert again == first
    part = _db.session.scalars(select(Participation).where(Participation.poll_id == poll.id)).one()
    assert part.times_cast == 1 and part.receipt == first and part.request_key == key
    assert _events(poll) == 1


def test_a_new_key_is_a_real_change_of_vote_counted_once(db, voting):
    poll, b = voting
    first = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "yes",
                                                                "request_key": _cast_form(b, poll, "yes")}))
    key = _cast_form(b, poll, "no")
    second = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "no", "request_key": key}))
    assert second != first
    part = _db.session.scalars(select(Participation).where(Participation.poll_id == poll.id)).one()
    assert part.times_cast == 2 and part.receipt == second
    assert _events(poll) == 2
    services.close_poll(db.session.get(Poll, poll.id))
    db.session.commit()
    assert list(_db.session.scalars(select(Ballot.choice).where(Ballot.poll_id == poll.id))) == ["no"]


def test_a_replay_after_the_poll_closed_gets_the_closed_message_and_changes_nothing(db, voting):
    poll, b = voting
    key = _cast_form(b, poll, "yes")
    receipt = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": key}))
    services.close_poll(db.session.get(Poll, poll.id))
    db.session.commit()
    events = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": key},
                  headers={"Referer": f"http://localhost/polls/{poll.id}"})
    assert resp.status_code == 303
    page = b.get(resp.location).get_data(as_text=True)
    assert "这次表决已于" in page and "您的选择没有保存" in page and receipt not in page
    part = _db.session.scalars(select(Participation).where(Participation.poll_id == poll.id)).one()
    assert part.times_cast == 1 and part.receipt == receipt
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_a_form_without_a_request_key_still_casts_every_time(voting):
    poll, b = voting
    _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "yes"}))
    _receipt_after(b, b.post(f"/polls/{poll.id}/cast", {"choice": "yes"}))
    part = _db.session.scalars(select(Participation).where(Participation.poll_id == poll.id)).one()
    assert part.times_cast == 2 and part.request_key is None
    assert _events(poll) == 2


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space in it", "<script>alert(1)</script>", "ключ-ключ"])
def test_a_malformed_request_key_is_refused_and_nothing_is_cast(voting, key):
    poll, b = voting
    assert b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": key}).status_code == 400
    assert _db.session.query(Participation).count() == 0


def test_a_secret_polls_paper_ballot_is_not_replaced_by_a_phone_cast_with_a_key(db, login_as):
    from tests.factories import make_user

    poll, people, _ = make_poll(voters=1)
    clerk = make_user(["clerk"], poll.village)
    services.open_meeting(poll, clerk)
    services.sign_in(poll.meeting, people[0], clerk)
    services.issue_paper_ballot(poll.meeting, people[0], clerk)
    db.session.commit()
    b = login_as(people[0])
    b.client.set_cookie("lang", "en")
    b.get(f"/polls/{poll.id}")
    resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": "a" * 22})
    assert resp.status_code == 302
    assert "It cannot be replaced by phone." in b.get(resp.location).get_data(as_text=True)
    part = _db.session.scalars(select(Participation).where(Participation.poll_id == poll.id)).one()
    assert part.channel == "in_person" and part.sealed is None and part.request_key is None


def test_a_replayed_cast_keeps_the_audit_chain_and_the_bound_rows_verifying(db, voting):
    from app.records.integrity import verify_everything

    poll, b = voting
    key = _cast_form(b, poll, "abstain")
    for _ in range(2):
        b.post(f"/polls/{poll.id}/cast", {"choice": "abstain", "request_key": key})
    b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": _cast_form(b, poll, "yes")})
    result = verify_everything()
    assert result.ok, result


def test_a_cast_whose_commit_fails_gets_our_page_and_voting_again_counts_once(db, voting):
    from flask import has_request_context
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    poll, b = voting
    key = _cast_form(b, poll, "yes")

    def lost_connection(session):
        if has_request_context():  # the cast's commit, not the test's set-up
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    session = _db.session()
    event.listen(session, "before_commit", lost_connection)
    try:
        resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes", "request_key": key})
    finally:
        event.remove(session, "before_commit", lost_connection)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert "您的投票没有保存" in html and "再投一次" in html and "没有丢失" not in html
    assert _db.session.query(Participation).count() == 0 and _events(poll) == 0
    resent = dict(re.findall(r'<input type="hidden" name="(choice|request_key)" value="([^"]+)">', html))
    assert resent == {"choice": "yes", "request_key": key}
    receipt = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", resent))  # "Vote again"
    again = _receipt_after(b, b.post(f"/polls/{poll.id}/cast", resent))  # and pressed once more
    assert again == receipt and _events(poll) == 1
    assert _db.session.scalars(select(Participation.times_cast)).one() == 1


# Real commits: the write lock, and a close racing a cast

def _sign_in(app, phone):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    m = CSRF_RE.search(html)
    token = m.group(1) or m.group(2)
    resp = client.post("/login", data={"csrf_token": token, "phone": phone, "password": PASSWORD})
    assert resp.status_code == 302
    return client


def _page_key_and_token(client, poll_id):
    html = client.get(f"/polls/{poll_id}").get_data(as_text=True)
    m = CSRF_RE.search(html)
    return m.group(1) or m.group(2), KEY.search(html).group(1)


def _committed_poll(app, secret=True):
    with app.app_context():
        stage = "villager_resolution" if secret else "committee_deliberation"
        poll, people, _ = make_poll(stage, voters=2, secret=secret)
        _db.session.commit()
        return poll.id, [(p.id, p.phone) for p in people]


@pytest.mark.skipif(ON_POSTGRES, reason="the write lock of SQLite")
def test_on_sqlite_the_write_lock_is_taken_after_every_read(committing_app):
    poll_id, people = _committed_poll(committing_app)
    client = _sign_in(committing_app, people[0][1])
    token, key = _page_key_and_token(client, poll_id)
    with committing_app.app_context():
        with counting_statements() as seen:
            resp = client.post(f"/polls/{poll_id}/cast", data={"csrf_token": token, "choice": "yes",
                                                               "request_key": key})
    assert resp.status_code == 302
    begins = [i for i, s in enumerate(seen) if s.strip().upper().startswith("BEGIN")]
    assert [seen[i].strip().upper() for i in begins] == ["BEGIN IMMEDIATE"], seen
    # The one read comes first, without a BEGIN: a single statement is its own snapshot
    # in SQLite, and it holds no lock once it has run.
    read, locked = seen[:begins[0]], seen[begins[0]:]
    assert len(read) == 1 and "roster_entry" in read[0]
    assert not any(re.search(r"FROM (person|role_grant|roster_entry)\b", s) for s in locked), locked
    assert re.search(r"FROM poll\b", locked[1])  # the recheck comes first under the lock


def test_a_poll_closed_between_the_read_and_the_write_refuses_the_vote_in_words(committing_app, monkeypatch):
    poll_id, people = _committed_poll(committing_app)
    client = _sign_in(committing_app, people[0][1])
    token, key = _page_key_and_token(client, poll_id)
    real = voting_views.write_transaction

    @contextmanager
    def closed_meanwhile(session, **options):
        with committing_app.app_context():  # another request closes the poll meanwhile
            services.close_poll(_db.session.get(Poll, poll_id))
            _db.session.commit()
        with real(session, **options):
            yield session

    monkeypatch.setattr(voting_views, "write_transaction", closed_meanwhile)
    resp = client.post(f"/polls/{poll_id}/cast", data={"csrf_token": token, "choice": "yes", "request_key": key},
                       headers={"Referer": f"http://localhost/polls/{poll_id}"})
    monkeypatch.undo()
    assert resp.status_code == 303
    page = client.get(resp.location).get_data(as_text=True)
    assert "这次表决已于" in page and "您的选择没有保存" in page
    with committing_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Participation)) == 0
        assert _db.session.get(Poll, poll_id).tally.took_part == 0


def _tally(app, poll_id):
    with app.app_context():
        return _db.session.get(Poll, poll_id).tally


def _second_connection_waits(app, hold, wait) -> list:
    """`hold()` runs in this thread and keeps its transaction open; `wait(outcome)` runs in
    a thread (a connection) of its own and must block on the lock that `hold` took until
    this thread commits. Returns what `wait` appended to its outcome."""
    outcome = []

    def second():
        with app.app_context():
            wait(outcome)

    with app.app_context():
        hold()
        other = threading.Thread(target=second)
        other.start()
        other.join(1.0)
        assert other.is_alive() and not outcome  # it waits for the first transaction's lock
        _db.session.commit()
    other.join(30)
    return outcome


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks of PostgreSQL between two connections")
def test_on_postgresql_a_close_waits_for_a_cast_in_progress_and_counts_it(committing_app):
    poll_id, people = _committed_poll(committing_app)

    def cast():
        poll, voter = _db.session.get(Poll, poll_id), _db.session.get(Person, people[0][0])
        _db.session.commit()
        services.cast_ballot(poll, voter, "yes")  # holds the poll row FOR SHARE, not committed yet

    def close(outcome):
        services.close_poll(_db.session.get(Poll, poll_id))
        _db.session.commit()
        outcome.append("closed")

    assert _second_connection_waits(committing_app, cast, close) == ["closed"]
    tally = _tally(committing_app, poll_id)
    assert tally.took_part == 1 and tally.yes == 1 and tally.lost == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks of PostgreSQL between two connections")
def test_on_postgresql_a_cast_waiting_for_a_close_is_refused_not_sealed_after_it(committing_app):
    poll_id, people = _committed_poll(committing_app)

    def close():
        services.close_poll(_db.session.get(Poll, poll_id))  # holds the poll row FOR UPDATE

    def cast(outcome):
        poll, voter = _db.session.get(Poll, poll_id), _db.session.get(Person, people[0][0])
        _db.session.commit()  # read before the close committed: the poll looked open
        try:
            services.cast_ballot(poll, voter, "yes")
            _db.session.commit()
            outcome.append("cast")
        except services.PollNotOpen:
            _db.session.rollback()
            outcome.append("refused")

    assert _second_connection_waits(committing_app, close, cast) == ["refused"]
    with committing_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Participation)) == 0
    assert _tally(committing_app, poll_id).took_part == 0
