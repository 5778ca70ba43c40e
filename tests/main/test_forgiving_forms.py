"""Forms that forgive: a page left open for hours still submits, and a failed CSRF
check gives the typed text back with a fresh token instead of losing it."""
from __future__ import annotations

import re
import time

from tests.conftest import Browser, csrf_token_from
from tests.factories import make_user

LONG_TEXT = "我觉得修路的钱应该先公示，\n再请大家一起商量怎么分摊。"


def test_a_form_left_open_for_two_hours_still_submits(client, db, login_as, monkeypatch):
    person = make_user()
    b = login_as(person)
    b.get("/inbox/settings")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 2 * 3600 + 60)
    resp = b.post("/inbox/settings", {"kinds": ["reply"]})
    assert resp.status_code == 302


def test_a_lost_session_gives_the_text_back_with_a_fresh_token(client, db, login_as):
    person = make_user()
    b = login_as(person)
    resp = b.post("/inbox/settings", {"csrf_token": "stale", "kinds": "reply", "note": LONG_TEXT})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "请再按一次" in page
    assert LONG_TEXT.replace("\n", "") in page.replace("\n", "").replace("\r", "")
    assert 'action="/inbox/settings"' in page
    assert re.search(r'type="hidden" name="kinds" value="reply"', page)
    # the retry form carries a token that works
    fresh = csrf_token_from(page)
    again = client.post("/inbox/settings", data={"csrf_token": fresh, "kinds": "reply"})
    assert again.status_code == 302


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
