"""Inbox pages: only the owner's messages, opening marks read, choices are saved."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.notifications import api
from app.notifications.models import ALWAYS_SENT, KINDS, Notification, opted_out_kinds, unread_count
from tests.factories import make_user


@pytest.fixture()
def person(app, db):
    return make_user(name="收信人")


def _note(person, text="一条消息", url="/"):
    with_ctx = api.notify(person, "reply", text, url, send=False)
    db.session.flush()
    return with_ctx


@pytest.mark.parametrize("url", ["/inbox", "/inbox/settings"])
def test_anonymous_is_sent_to_sign_in(client, url):
    resp = client.get(url)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_inbox_lists_my_messages_and_the_header_counts_them(app, person, login_as):
    with app.test_request_context():
        _note(person, "您的意见有人回复了")
    b = login_as(person)
    page = b.get("/inbox").get_data(as_text=True)
    assert "您的意见有人回复了" in page
    assert 'class="count">1<' in b.get("/").get_data(as_text=True)


def test_inbox_never_shows_another_persons_messages(app, person, login_as):
    other = make_user(name="别人")
    with app.test_request_context():
        _note(other, "别人的消息")
    b = login_as(person)
    assert "别人的消息" not in b.get("/inbox").get_data(as_text=True)


def test_opening_a_message_marks_it_read_and_goes_to_its_page(app, person, login_as):
    with app.test_request_context():
        note = _note(person, url="/inbox/settings")
    b = login_as(person)
    b.get("/inbox")
    resp = b.post(f"/inbox/{note.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/inbox/settings")
    assert db.session.get(Notification, note.id).read_at is not None


def test_opening_another_persons_message_is_forbidden(app, person, login_as):
    other = make_user()
    with app.test_request_context():
        note = _note(other)
    b = login_as(person)
    b.get("/inbox")
    assert b.post(f"/inbox/{note.id}/open").status_code == 403
    assert b.post("/inbox/999999/open").status_code == 404


def test_a_message_never_sends_the_reader_to_another_site(app, person, login_as):
    with app.test_request_context():
        note = _note(person, url="https://evil.example/")
    b = login_as(person)
    b.get("/inbox")
    assert b.post(f"/inbox/{note.id}/open").headers["Location"].endswith("/inbox")


def test_mark_all_read(app, person, login_as):
    with app.test_request_context():
        _note(person)
        _note(person)
    b = login_as(person)
    b.get("/inbox")
    assert b.post("/inbox/read").status_code == 302
    assert unread_count(person) == 0


def test_settings_turn_kinds_off_and_on(app, person, login_as):
    b = login_as(person)
    page = b.get("/inbox/settings").get_data(as_text=True)
    choosable = [k for k in KINDS if k not in ALWAYS_SENT]
    assert page.count('type="checkbox"') == len(choosable) and page.count("checked") == len(choosable)
    b.post("/inbox/settings", {"kinds": ["reply", "poll_opened"]})
    assert opted_out_kinds(person) == set(choosable) - {"reply", "poll_opened"}
    b.get("/inbox/settings")
    b.post("/inbox/settings", {"kinds": choosable})
    assert opted_out_kinds(person) == set()


def test_settings_refuse_an_unknown_kind(app, person, login_as):
    b = login_as(person)
    b.get("/inbox/settings")
    resp = b.post("/inbox/settings", {"kinds": ["daily_check_in"]})
    assert resp.status_code == 200
    assert opted_out_kinds(person) == set()


def test_send_reminders_command(app, runner):
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "0" in result.output
