"""Forms that forgive: a page left open for hours still submits, and a failed CSRF
check gives the typed text back with a fresh token instead of losing it."""
from __future__ import annotations

import re
import time

from tests.conftest import Browser, csrf_token_from
from tests.factories import make_proposal, make_user

LONG_TEXT = "我觉得修路的钱应该先公示，\n再请大家一起商量怎么分摊。"


def test_a_form_left_open_for_two_hours_still_submits(client, db, login_as, monkeypatch):
    person = make_user()
    b = login_as(person)
    b.get("/inbox/settings")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 2 * 3600 + 60)
    resp = b.post("/inbox/settings", {"kinds": ["reply"]})
    assert resp.status_code == 302


SAME_ORIGIN = {"Origin": "http://localhost"}


def test_a_lost_session_gives_the_typed_opinion_back_with_a_fresh_token(client, db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    url = f"/proposals/{proposal.id}/consultation/topic/posts"
    resp = b.post(url, {"csrf_token": "stale", "stance": "concern", "body": LONG_TEXT}, headers=SAME_ORIGIN)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "请再按一次" in page
    assert LONG_TEXT.replace("\n", "") in page.replace("\n", "").replace("\r", "")
    assert f'action="{url}"' in page
    assert re.search(r'type="hidden" name="stance" value="concern"', page)
    # the retry form carries a token that works
    fresh = csrf_token_from(page)
    again = client.post(url, data={"csrf_token": fresh, "stance": "concern", "body": LONG_TEXT})
    assert again.status_code == 302


def test_typed_text_from_another_site_is_not_shown_back(client, db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    url = f"/proposals/{proposal.id}/consultation/topic/posts"
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost"},
                    {"Referer": "https://evil.example/x"}, {}):
        page = b.post(url, {"csrf_token": "stale", "stance": "concern", "body": LONG_TEXT},
                      headers=headers).get_data(as_text=True)
        assert "再请大家一起商量" not in page and f'action="{url}"' not in page, headers


def test_a_forged_vote_replayed_through_the_retry_page_changes_nothing(client, db, login_as):
    from app.voting.models import Participation
    from tests.voting.factories import make_poll

    poll, people, _ = make_poll(voters=1)
    victim = people[0]
    b = login_as(victim)
    for headers in ({}, SAME_ORIGIN, {"Sec-Fetch-Site": "same-origin"}):
        resp = b.client.post(f"/polls/{poll.id}/cast", data={"choice": "no"}, headers=headers)
        assert resp.status_code == 400
        page = resp.get_data(as_text=True)
        assert 'name="choice"' not in page and f'action="/polls/{poll.id}/cast"' not in page
        # Whatever the page carries, pressing its buttons sends no vote.
        for m in re.finditer(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page):
            assert "/cast" not in m.group(1)
    assert db.session.query(Participation).filter_by(poll_id=poll.id).count() == 0


def test_a_stage_move_is_never_pre_filled(client, db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["committee_member"], proposal.village))
    page = b.client.post(f"/proposals/{proposal.id}/move", data={"to": "consensus_consultation",
                                                               "reason": LONG_TEXT},
                         headers=SAME_ORIGIN).get_data(as_text=True)
    assert f'action="/proposals/{proposal.id}/move"' not in page
    assert not re.search(r'<input[^>]*name="to"', page)  # the typed reason may be shown to copy, nothing to press


def test_passwords_are_never_written_back(client, db):
    b = Browser(client)
    resp = b.post("/login", {"csrf_token": "stale", "phone": "13900000011", "password": "secret-words-123"})
    assert resp.status_code == 400
    assert "secret-words-123" not in resp.get_data(as_text=True)


def test_signed_out_person_gets_the_text_to_copy_and_a_sign_in_link(client, db):
    resp = client.post("/inbox/settings", data={"csrf_token": "x", "note": LONG_TEXT},
                       headers={"Referer": "http://localhost/inbox/settings"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "重新登录" in page and "next=/inbox/settings" in page.replace("%2F", "/")
    assert "再请大家一起商量怎么分摊" in page


def test_htmx_request_with_a_stale_token_gets_the_retry_page_in_place_of_the_body(client, db, login_as):
    b = login_as(make_user())
    resp = b.client.post("/inbox/read", data={"csrf_token": "stale"}, headers={"HX-Request": "true"})
    assert resp.status_code == 400
    assert resp.headers["HX-Retarget"] == "body"
