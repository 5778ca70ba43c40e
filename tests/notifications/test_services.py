"""Inbox entries, opt-outs, text messages after commit, and the reminder query."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import lazy_gettext as _l

from app.accounts.models import utcnow
from app.extensions import db
from app.notifications import api, services
from app.notifications.models import ALWAYS_SENT, KINDS, Notification, unread_count
from tests.factories import make_user
from tests.voting.factories import make_poll


@pytest.fixture()
def ctx(app, db):
    with app.test_request_context("/"):
        yield


def test_notify_puts_a_message_in_the_inbox_and_sends_it_after_commit(ctx, outbox):
    person = make_user()
    note = api.notify(person, "reply", "有人回复了您", "/inbox")
    assert note is not None and note.is_unread
    assert outbox == []  # nothing leaves before the transaction commits
    db.session.commit()
    assert outbox == [(person.phone, "有人回复了您 http://localhost/inbox")]
    assert unread_count(person) == 1


def test_a_rolled_back_change_sends_no_message(ctx, outbox):
    person = make_user()
    db.session.commit()
    api.notify(person, "reply", "不会发出", "/inbox")
    db.session.rollback()
    db.session.commit()
    assert outbox == []


def test_send_false_fills_the_inbox_only(ctx, outbox):
    person = make_user()
    assert api.notify(person, "reply", "只在站内", "/inbox", send=False) is not None
    db.session.commit()
    assert outbox == []


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ALWAYS_SENT])
def test_a_kind_turned_off_is_neither_stored_nor_sent(ctx, outbox, kind):
    person = make_user()
    services.set_choices(person, set(KINDS) - {kind})
    assert api.notify(person, kind, "关掉了", "/") is None
    others = [k for k in KINDS if k != kind]

    assert api.notify(person, others[0], "还开着", "/") is not None
    db.session.commit()
    assert [t for _, t in outbox] == ["还开着 http://localhost/"]


def test_a_notice_that_someone_else_acted_on_my_ballot_cannot_be_turned_off(ctx, outbox):
    person = make_user()
    services.set_choices(person, set())
    assert api.notify(person, "ballot_entered", "文书为您签到", "/") is not None
    db.session.commit()
    assert [t for _, t in outbox] == ["文书为您签到 http://localhost/"]


def test_choices_can_be_turned_back_on(ctx):
    person = make_user()
    services.set_choices(person, set())
    services.set_choices(person, set(KINDS))
    assert api.notify(person, "reply", "又开了", "/") is not None


def test_unknown_kind_is_a_programming_error(ctx):
    with pytest.raises(ValueError):
        api.notify(make_user(), "daily_check_in", "签到", "/")


def test_inactive_person_is_not_told(ctx):
    person = make_user()
    person.active = False
    assert api.notify(person, "reply", "x", "/") is None


def test_same_key_lands_once(ctx):
    person = make_user()
    assert api.notify(person, "reply", "一次", "/", key="k1") is not None
    assert api.notify(person, "reply", "一次", "/", key="k1") is None
    assert unread_count(person) == 1


def test_notify_many_tells_each_person_once(ctx):
    a, b = make_user(), make_user()
    made = api.notify_many([a, b, a, None], "resolution_posted", "决议已公示", "/")
    assert sorted(n.person_id for n in made) == sorted([a.id, b.id])


def test_lazy_text_is_written_in_each_recipients_language(ctx):
    zh, en = make_user(), make_user()
    en.language = "en"
    api.notify_many([zh, en], "reply", _l("Messages for me"), "/")
    texts = {n.person_id: n.text for n in db.session.query(Notification)}
    assert texts[zh.id] == "我的消息"
    assert texts[en.id] == "Messages for me"


def test_mark_all_read_empties_the_unread_count(ctx):
    person = make_user()
    api.notify(person, "reply", "1", "/")
    api.notify(person, "reply", "2", "/")
    assert services.mark_all_read(person) == 2
    assert unread_count(person) == 0


def test_opening_a_poll_tells_everyone_on_the_roster_once(ctx, outbox):
    poll, voters, opener = make_poll(voters=3)  # open_poll calls api.poll_opened
    told = {n.person_id for n in db.session.query(Notification).filter_by(kind="poll_opened")}
    assert {v.id for v in voters} <= told
    assert told == {e.person_id for e in poll.roster}
    assert api.poll_opened(poll) == []  # told already: nobody twice
    db.session.commit()
    assert sorted(p for p, _ in outbox) == sorted(e.person.phone for e in poll.roster)
    assert all(f"/polls/{poll.id}" in text for _, text in outbox)


def test_reminders_go_to_those_who_have_not_voted_and_only_once(ctx, outbox):
    from app.voting.services import cast_ballot

    poll, voters, opener = make_poll(voters=3, hours=10)
    cast_ballot(poll, voters[0], "yes")
    missing = {e.person_id for e in poll.roster} - {voters[0].id}
    assert {p.id for p in api.voters_who_have_not_voted(poll)} == missing
    assert api.send_reminders() == len(missing)
    assert api.send_reminders() == 0  # running the command again sends nothing new
    db.session.commit()
    reminders = [text for _, text in outbox if "还没有投票" in text]
    assert len(reminders) == len(missing)


def test_household_ballot_counts_for_every_member_of_the_household(ctx):
    from app.voting import services as voting
    from tests.voting.factories import ready_proposal

    proposal = ready_proposal()
    village = proposal.village
    husband = make_user(["villager"], village, household="0101")
    wife = make_user(["villager"], village, household="0101")
    neighbour = make_user(["villager"], village, household="0102")
    poll = voting.open_poll(proposal, proposal.created_by, closes_at=utcnow() + timedelta(hours=5),
                            household_mode=True)
    voting.cast_ballot(poll, husband, "no")
    waiting = {p.id for p in api.voters_who_have_not_voted(poll)}
    assert husband.id not in waiting and wife.id not in waiting
    assert neighbour.id in waiting


def test_polls_closing_later_than_a_day_get_no_reminder(ctx):
    poll, voters, opener = make_poll(voters=2, hours=48)
    assert poll not in api.polls_closing_soon()
    assert poll in api.polls_closing_soon(utcnow() + timedelta(hours=25))


def test_events_can_be_told_from_a_command_without_a_request(app, db):
    from tests.consultation.factories import committee_and_proposal, make_post

    with app.app_context():
        committee, proposal = committee_and_proposal()
        opinion = make_post(proposal)
        reply = make_post(proposal, committee, parent=opinion, body="谢谢您的意见。")
        note = api.reply_posted(reply)
        assert note is not None and note.person_id == opinion.author_id
        assert note.url.startswith(f"/proposals/{proposal.id}/consultation/topic")
        assert api.reply_posted(make_post(proposal, opinion.author, parent=opinion)) is None  # own reply
        notes = api.resolution_posted(proposal)
        assert {n.person_id for n in notes} >= {committee.id, opinion.author_id}


def test_objection_answered_tells_the_villager_who_objected(ctx):
    from app.records.models import Objection
    from tests.factories import make_proposal

    proposal = make_proposal("publicized")
    villager = make_user(["villager"], proposal.village)
    objection = Objection(proposal_id=proposal.id, author_id=villager.id, body="账目不清楚。",
                          reply_due_at=utcnow() + timedelta(days=5))
    db.session.add(objection)
    db.session.flush()
    note = api.objection_answered(objection)
    assert note.person_id == villager.id and note.kind == "objection_answered"
    assert note.url == f"/proposals/{proposal.id}"
