"""Voting pages: who gets what, the two-step ballot, receipts, htmx partials, meetings."""
import re
from datetime import timedelta

from datetime import date

import pytest
from sqlalchemy import func, select

from app.accounts.models import utcnow
from app.extensions import db as _db
from app.voting import services
from app.voting.models import Ballot, Participation, Poll
from tests.factories import make_user
from tests.voting.factories import make_poll, ready_proposal

RECEIPT = re.compile(r"<code>([A-Z2-9]{4}-[A-Z2-9]{4})</code>")


@pytest.fixture()
def english(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture()
def open_poll(db, english):
    poll, people, opener = make_poll(voters=3)
    db.session.commit()
    return poll, people, opener


def count(poll):
    """Ballots cast so far (a secret poll's are sealed on the participation row until close)."""
    return _db.session.scalar(select(func.count()).select_from(Participation).where(Participation.poll_id == poll.id))


def test_anonymous_visitors_are_sent_to_the_login_page(open_poll, client):
    poll, _, _ = open_poll
    resp = client.get(f"/polls/{poll.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_person_of_another_village_gets_not_found(open_poll, login_as):
    poll, _, _ = open_poll
    b = login_as(make_user(["villager", "committee_member"]))
    assert b.get(f"/polls/{poll.id}").status_code == 404
    assert b.get(f"/polls/{poll.id}/receipts").status_code == 404
    assert b.post(f"/polls/{poll.id}/confirm", {"choice": "yes"}).status_code == 404


def test_the_township_overseer_sees_the_poll_but_cannot_vote(open_poll, login_as):
    poll, _, _ = open_poll
    overseer = make_user(["overseer"], township=poll.village.township)
    b = login_as(overseer)
    assert b.get(f"/polls/{poll.id}").status_code == 200
    assert b.post(f"/polls/{poll.id}/confirm", {"choice": "yes"}).status_code == 403


def test_a_voter_sees_three_big_choices_with_icons(open_poll, login_as):
    poll, people, _ = open_poll
    b = login_as(people[0])
    html = b.get(f"/polls/{poll.id}").get_data(as_text=True)
    for choice in ("yes", "no", "abstain"):
        assert f'name="choice" value="{choice}"' in html
        assert f"icon-{choice}" in html
    assert "style=" not in html


def test_choosing_shows_the_choice_before_anything_is_cast(open_poll, login_as):
    poll, people, _ = open_poll
    b = login_as(people[0])
    b.get(f"/polls/{poll.id}")
    resp = b.post(f"/polls/{poll.id}/confirm", {"choice": "no"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "You chose" in html and 'name="choice" value="no"' in html and f"/polls/{poll.id}/cast" in html
    assert count(poll) == 0


def test_casting_shows_the_receipt_once_and_then_says_you_have_voted(open_poll, login_as):
    poll, people, _ = open_poll
    b = login_as(people[0])
    b.get(f"/polls/{poll.id}")
    resp = b.post(f"/polls/{poll.id}/cast", {"choice": "yes"})
    assert resp.status_code == 302
    first = b.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert RECEIPT.search(first)
    again = b.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert not RECEIPT.search(again)
    assert "You have voted" in again and "change your vote until" in again
    assert count(poll) == 1


def test_an_htmx_request_gets_only_the_ballot_region_and_a_vary_header(open_poll, login_as):
    poll, people, _ = open_poll
    b = login_as(people[0])
    b.get(f"/polls/{poll.id}")
    full = b.get(f"/polls/{poll.id}")
    part = b.get(f"/polls/{poll.id}", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in part.get_data(as_text=True) and f'id="ballot-{poll.id}"' in part.get_data(as_text=True)
    assert "HX-Request" in part.headers["Vary"] and "HX-Request" in full.headers["Vary"]
    confirm = b.post(f"/polls/{poll.id}/confirm", {"choice": "yes"}, headers={"HX-Request": "true"})
    assert "<html" not in confirm.get_data(as_text=True) and "You chose" in confirm.get_data(as_text=True)
    cast = b.post(f"/polls/{poll.id}/cast", {"choice": "yes"}, headers={"HX-Request": "true"})
    assert cast.status_code == 200 and RECEIPT.search(cast.get_data(as_text=True))


def test_a_form_without_its_csrf_token_is_refused(open_poll, login_as, client):
    poll, people, _ = open_poll
    login_as(people[0])
    resp = client.post(f"/polls/{poll.id}/cast", data={"choice": "yes"})
    assert resp.status_code == 400 and count(poll) == 0


def test_a_villager_not_on_the_roster_cannot_vote(open_poll, login_as):
    poll, _, _ = open_poll
    late = make_user(["villager"], poll.village)
    _db.session.commit()
    b = login_as(late)
    assert "not on its list of voters" in b.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert b.post(f"/polls/{poll.id}/cast", {"choice": "yes"}).status_code == 403


def test_a_poll_past_its_closing_time_closes_when_first_opened(open_poll, login_as):
    poll, people, _ = open_poll
    services.cast_ballot(poll, people[0], "yes")
    poll.closes_at = utcnow() - timedelta(minutes=1)
    poll.opens_at = utcnow() - timedelta(hours=1)
    _db.session.commit()
    b = login_as(people[1])
    html = b.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert _db.session.get(Poll, poll.id).is_closed
    assert "took part" in html and "<svg" in html


def test_a_committee_member_opens_the_poll_and_a_villager_may_not(db, english, login_as):
    proposal = ready_proposal("committee_deliberation")
    make_user(["committee_member"], proposal.village)
    villager = make_user(["villager"], proposal.village)
    db.session.commit()
    closes = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    b = login_as(villager)
    b.get("/")
    assert b.post(f"/proposals/{proposal.id}/polls", {"closes_at": closes}).status_code == 403
    b.client.post("/logout", data={"csrf_token": b.token})
    b = login_as(proposal.created_by)
    resp = b.post(f"/proposals/{proposal.id}/polls", {"closes_at": closes})
    assert resp.status_code == 302 and "/polls/" in resp.headers["Location"]
    poll = db.session.scalar(select(Poll).where(Poll.proposal_id == proposal.id))
    assert poll.electorate == "committees" and not poll.secret


def test_opening_without_notice_shows_the_reason(db, english, login_as):
    proposal = ready_proposal("villager_resolution")
    proposal.assembly_announced_at = None
    db.session.commit()
    b = login_as(proposal.created_by)
    b.get("/")
    closes = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    resp = b.post(f"/proposals/{proposal.id}/polls", {"closes_at": closes}, follow_redirects=True)
    assert "announced" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Poll).where(Poll.proposal_id == proposal.id)) is None


def test_the_committee_may_close_early_only_when_everyone_has_voted(open_poll, login_as):
    poll, people, opener = open_poll
    b = login_as(opener)
    b.get(f"/polls/{poll.id}")
    assert b.post(f"/polls/{poll.id}/close", {}).status_code == 403
    for p in people + [opener]:
        services.cast_ballot(poll, p, "yes")
    _db.session.commit()
    b.get(f"/polls/{poll.id}")
    assert b.post(f"/polls/{poll.id}/close", {}).status_code == 302
    assert _db.session.get(Poll, poll.id).is_closed


def test_the_receipt_can_be_looked_up_in_the_published_list_after_close(open_poll, login_as):
    poll, people, opener = open_poll
    receipt = services.cast_ballot(poll, people[0], "yes")
    services.close_poll(poll, opener)
    _db.session.commit()
    b = login_as(people[0])
    html = b.get(f"/polls/{poll.id}/receipts?code={receipt}").get_data(as_text=True)
    assert receipt in html and "Found: your vote was counted" in html
    html = b.get(f"/polls/{poll.id}/receipts?code=AAAA-BBBB").get_data(as_text=True)
    assert "not in the list" in html


def test_the_meeting_page_is_for_the_clerk_and_not_for_a_villager(open_poll, login_as):
    poll, people, _ = open_poll
    clerk = make_user(["clerk"], poll.village)
    _db.session.commit()
    assert login_as(people[0]).get(f"/polls/{poll.id}/meeting").status_code == 403


def test_in_an_open_vote_the_clerk_signs_in_an_attendee_and_enters_an_in_hall_ballot(db, english, login_as):
    poll, people, _ = make_poll("member_review", voters=2, secret=False)
    clerk = make_user(["clerk"], poll.village)
    _db.session.commit()
    b = login_as(clerk)
    assert b.get(f"/polls/{poll.id}/meeting").status_code == 200
    assert b.post(f"/polls/{poll.id}/meeting/open", {"place": "村委会"}).status_code == 302
    b.get(f"/polls/{poll.id}/meeting")
    resp = b.post(f"/polls/{poll.id}/meeting/sign-in", {"person_id": people[0].id}, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="meeting-roster"' in html
    assert f"{people[0].name} is signed in." in html and f"signed in by {clerk.name}" in html
    assert b.post(f"/polls/{poll.id}/meeting/ballot", {"person_id": people[0].id, "choice": "no"}).status_code == 302
    assert services.count_ballots(poll.id)["no"] == 1
    assert b.post(f"/polls/{poll.id}/meeting/minutes", {"minutes": "九时开会"}).status_code == 302
    assert _db.session.get(Poll, poll.id).meeting.minutes == "九时开会"


def test_htmx_meeting_actions_show_their_message_in_place_and_never_later(db, english, login_as):
    poll, people, _ = make_poll(voters=3)
    clerk = make_user(["clerk"], poll.village)
    _db.session.commit()
    b = login_as(clerk)
    b.post(f"/polls/{poll.id}/meeting/open", {"place": "村委会"})
    b.get(f"/polls/{poll.id}/meeting")
    for p in people:
        html = b.post(f"/polls/{poll.id}/meeting/sign-in", {"person_id": p.id},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
        assert f"{p.name} is signed in." in html
    later = b.get(f"/polls/{poll.id}/meeting").get_data(as_text=True)
    assert "is signed in." not in later


def test_in_a_secret_poll_the_hall_gets_paper_ballots_and_the_count_is_entered_as_totals(open_poll, login_as):
    poll, people, _ = open_poll
    clerk = make_user(["clerk"], poll.village)
    _db.session.commit()
    b = login_as(clerk)
    b.post(f"/polls/{poll.id}/meeting/open", {"place": "村委会"})
    b.get(f"/polls/{poll.id}/meeting")
    for p in people[:2]:
        b.post(f"/polls/{poll.id}/meeting/sign-in", {"person_id": p.id})
    html = b.get(f"/polls/{poll.id}/meeting").get_data(as_text=True)
    assert 'name="choice"' not in html  # no per-person choice buttons in a secret poll
    assert f"Hand a paper ballot to {people[0].name}" in html
    # A hand-made per-person hall ballot is refused and changes nothing.
    b.post(f"/polls/{poll.id}/meeting/ballot", {"person_id": people[0].id, "choice": "no"})
    assert count(poll) == 0
    html = b.post(f"/polls/{poll.id}/meeting/paper-ballot", {"person_id": people[0].id},
                  headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"Paper ballot handed to {people[0].name}." in html and "paper ballot handed out" in html
    bad = b.post(f"/polls/{poll.id}/meeting/count", {"issued": 1, "returned": 1, "yes": 1, "no": 1, "abstain": 0,
                                                     "spoilt": 0, "scrutineers": "王一, 李二", "counter": "赵三"})
    assert bad.status_code == 400 and "add up" in bad.get_data(as_text=True)
    ok = b.post(f"/polls/{poll.id}/meeting/count", {"issued": 1, "returned": 1, "yes": 0, "no": 1, "abstain": 0,
                                                    "spoilt": 0, "scrutineers": "王一, 李二", "counter": "赵三"})
    assert ok.status_code == 302
    html = b.get(f"/polls/{poll.id}/meeting").get_data(as_text=True)
    assert "王一、李二" in html and "赵三" in html
    # The voter's own page says their paper ballot counts.
    v = login_as(people[0]).get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "paper ballot was handed to you" in v


def test_the_meeting_roster_is_sorted_by_household_and_searchable(db, english, login_as):
    poll, people, _ = make_poll(voters=0)
    village = poll.village
    poll.proposal.stage = "villager_resolution"
    from tests.factories import make_user as mk
    twin_a = mk(["villager"], village, name="刘玉梅", household="12", birth_date=date(1950, 3, 1))
    twin_b = mk(["villager"], village, name="刘玉梅", household="3", birth_date=date(1990, 3, 1))
    _db.session.flush()
    from app.voting.models import RosterEntry
    for p in (twin_a, twin_b):
        _db.session.add(RosterEntry(poll_id=poll.id, person_id=p.id, household_id=p.household_id, name=p.name,
                                    unit_key=f"p{p.id}"))
    twin_a.household.group_name = "二"
    clerk = make_user(["clerk"], village)
    _db.session.commit()
    b = login_as(clerk)
    b.post(f"/polls/{poll.id}/meeting/open", {"place": "村委会"})
    html = b.get(f"/polls/{poll.id}/meeting").get_data(as_text=True)
    assert html.index("household 3") < html.index("household 12")
    assert "group 二" in html and "years" in html
    found = b.get(f"/polls/{poll.id}/meeting?q={twin_b.phone}").get_data(as_text=True)
    assert "household 3" in found and "household 12" not in found
    by_name = b.get(f"/polls/{poll.id}/meeting?q=刘玉").get_data(as_text=True)
    assert by_name.count("Sign in 刘玉梅") == 2


def test_my_polls_lists_the_village_polls(open_poll, login_as):
    poll, people, _ = open_poll
    html = login_as(people[0]).get("/polls").get_data(as_text=True)
    assert f"/polls/{poll.id}" in html


def test_the_export_of_an_open_poll_names_choices_after_close(db, english, login_as):
    poll, people, opener = make_poll("committee_deliberation", voters=2)
    services.cast_ballot(poll, people[0], "yes")
    services.close_poll(poll, opener)
    db.session.commit()
    data = login_as(people[1]).get(f"/polls/{poll.id}/record.json").get_json()
    assert data["tally"]["yes"] == 1
    assert {"person_id": people[0].id, "choice": "yes"}.items() <= data["took_part"][0].items()


def test_the_proposal_page_section_offers_committee_members_the_open_poll_form(db, english, login_as):
    from flask import current_app

    if "deliberation.proposal_detail" not in current_app.view_functions:
        pytest.skip("the proposal page is not there")
    proposal = ready_proposal("committee_deliberation")
    db.session.commit()
    html = login_as(proposal.created_by).get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f"/proposals/{proposal.id}/polls" in html


def test_the_list_of_votes_closes_polls_whose_time_has_passed(open_poll, login_as):
    poll, people, _ = open_poll
    poll.opens_at = utcnow() - timedelta(hours=2)
    poll.closes_at = utcnow() - timedelta(hours=1)
    _db.session.commit()
    login_as(people[0]).get("/polls")
    assert _db.session.get(Poll, poll.id).is_closed


def test_exports_and_json_answers_are_never_stored_by_a_browser_or_proxy(open_poll, login_as):
    poll, people, opener = open_poll
    b = login_as(opener)
    resp = b.get(f"/polls/{poll.id}/record.json")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    csv = b.get(f"/villages/{poll.village_id}/proposals.csv")
    assert csv.status_code == 200 and csv.headers["Cache-Control"] == "no-store"


def test_the_printed_sign_in_sheet_names_who_signed_in_whom_and_the_ballots_carry_no_name(open_poll, login_as):
    poll, people, opener = open_poll
    clerk = make_user(["clerk"], poll.village, name="文书小王")
    meeting = services.open_meeting(poll, clerk, place="村委会议室")
    services.cast_ballot(poll, people[2], "yes")
    for p in people[:2]:
        services.sign_in(meeting, p, clerk)
    services.issue_paper_ballot(meeting, people[0], clerk)
    _db.session.commit()
    b = login_as(clerk)
    sheet = b.get(f"/proposals/{poll.proposal_id}/forms/sign_in").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", sheet)
    assert "会议：村民会议（村民决议）" in text and "villager_resolution" not in sheet
    assert "应到 4 人" in text and "实到（签到）2 人" in text and "已在手机上投票 1 人" in text
    assert "发出表决票 1 张" in text
    assert text.count("文书小王") >= 3  # who signed them in, and who handed the ballot
    assert "已领（文书小王发）" in text
    ballots = b.get(f"/proposals/{poll.proposal_id}/forms/ballot").get_data(as_text=True)
    assert ballots.count('class="paper-ballot"') == 3  # 4 on the roster, 1 voted by phone
    assert "无记名投票表决票" in ballots and "同意" in ballots
    assert not any(p.name in ballots for p in people)


def _closed_poll_with_ballots(voters: int):
    poll, people, opener = make_poll(voters=voters)
    receipts = [services.cast_ballot(poll, p, "yes") for p in people]
    services.close_poll(poll, opener)
    _db.session.commit()
    return poll, people, receipts


def test_the_receipts_page_comes_in_pages_and_its_statements_do_not_grow(db, english, login_as, monkeypatch):
    from app.voting import views
    from tests.statements import statements_for

    monkeypatch.setattr(views, "RECEIPTS_PAGE", 2)
    monkeypatch.setattr(views, "PEOPLE_PAGE", 2)
    small, people, _ = _closed_poll_with_ballots(3)
    large, more, receipts = _closed_poll_with_ballots(9)
    b = login_as(more[0])
    first = b.get(f"/polls/{large.id}/receipts").get_data(as_text=True)
    assert len(RECEIPT.findall(first)) == 2 and "Page 1 of 5" in first
    assert f"/polls/{large.id}/receipts?page=2" in first and f"/polls/{large.id}/receipts?people=2" in first
    # Every published code is on one of the pages, each once; the lookup finds one on a later page.
    seen = []
    for n in range(1, 6):
        seen += RECEIPT.findall(b.get(f"/polls/{large.id}/receipts?page={n}").get_data(as_text=True))
    assert sorted(seen) == sorted(receipts)
    last = sorted(receipts)[-1]
    assert "Found: your vote was counted" in b.get(f"/polls/{large.id}/receipts?code={last}").get_data(as_text=True)
    # Who took part: names in pages too, the other list's page kept in the links.
    names = set()
    for n in range(1, 6):
        html = b.get(f"/polls/{large.id}/receipts?page=2&people={n}").get_data(as_text=True)
        names |= {p.name for p in more if p.name in html}
    assert names == {p.name for p in more}
    assert "Who took part (9 of 10 on the list)" in first  # the committee member who opened it did not vote
    at_large = statements_for(b, f"/polls/{large.id}/receipts")
    at_small = statements_for(login_as(people[0]), f"/polls/{small.id}/receipts")  # another village
    assert at_small == at_large
