"""Refusals in words that keep the typed text: a vote after close, long minutes, a long
meeting place (issue 12 findings 10–12)."""
from datetime import timedelta

from app.accounts.models import utcnow
from app.clock import travel_to
from app.voting.models import Ballot
from tests.factories import make_user
from tests.voting.factories import make_poll


def test_a_vote_after_close_says_when_it_closed_and_that_nothing_was_saved(db, login_as):
    poll, people, _ = make_poll(hours=2)
    b = login_as(people[0])
    b.get(f"/polls/{poll.id}")
    with travel_to(utcnow() + timedelta(hours=3)):
        resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes"}, headers={"Referer": f"http://localhost/polls/{poll.id}"})
        assert resp.status_code == 303
        page = b.get(resp.location).get_data(as_text=True)
    assert "这次表决已于" in page and "您的选择没有保存" in page and "没有权限" not in page
    assert db.session.query(Ballot).count() == 0


def test_minutes_over_the_limit_name_the_limit_and_keep_the_text(db, login_as):
    poll, _, _ = make_poll()
    clerk = make_user(["clerk"], poll.village)
    b = login_as(clerk)
    assert b.post(f"/polls/{poll.id}/meeting/open", {"place": "村委会"}).status_code == 302
    b.get(f"/polls/{poll.id}/meeting")
    minutes = "会议记录第一句。" + "记" * 20001
    resp = b.post(f"/polls/{poll.id}/meeting/minutes", {"minutes": minutes})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "最多 20000 个字" in html and "会议记录第一句。" in html and "请填写会议记录" not in html


def test_a_long_meeting_place_is_named_with_its_limit_and_kept(db, login_as):
    poll, _, _ = make_poll()
    clerk = make_user(["clerk"], poll.village)
    b = login_as(clerk)
    b.get(f"/polls/{poll.id}/meeting")
    place = "村委会二楼大会议室" + "东" * 130
    resp = b.post(f"/polls/{poll.id}/meeting/open", {"place": place})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "“会议地点”最多 120 个字" in html and "村委会二楼大会议室" in html
