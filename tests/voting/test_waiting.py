"""The villager's home page starts with what waits for them: the votes they have not
cast, with the exact end in Beijing time and one big button to go and vote."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from app.accounts.models import utcnow
from app.voting import services
from tests.factories import make_user
from tests.voting.factories import make_voters, ready_proposal


def _beijing_midnight_after(days: int) -> datetime:
    """24:00 Beijing time (16:00 UTC) `days` days from now."""
    now = utcnow()
    return datetime(now.year, now.month, now.day, 16, 0) + timedelta(days=days)


@pytest.fixture()
def open_vote(db):
    proposal = ready_proposal("villager_resolution", title="村口道路硬化方案")
    voter, = make_voters(proposal.village, 1)
    closes = _beijing_midnight_after(3)
    poll = services.open_poll(proposal, proposal.created_by, closes_at=closes, secret=True)
    return poll, voter, closes


def _main(html: str) -> str:
    return html.split('<main', 1)[1]


def test_the_home_page_starts_with_the_vote_waiting_and_its_exact_end(open_vote, login_as):
    poll, voter, closes = open_vote
    day = closes + timedelta(hours=8) - timedelta(days=1)  # 16:00 UTC is 24:00 of that Beijing day
    main = _main(login_as(voter).get("/").get_data(as_text=True))
    line = f"您有 1 项表决待投，{day.month} 月 {day.day} 日 24 时截止"
    assert line in main
    # it comes first: straight after the greeting, before the roles and the proposals
    first_h2 = re.search(r"<h2[^>]*>(.*?)</h2>", main, re.S).group(1)
    assert line in first_h2
    button = re.search(r'<a class="btn primary big go-vote" href="([^"]+)">去投票</a>', main)
    assert button and button.group(1) == f"/polls/{poll.id}"
    assert main.index("去投票") < main.index(poll.village.name)  # before the card naming the village


def test_the_waiting_vote_goes_once_the_person_has_voted(open_vote, login_as):
    poll, voter, _closes = open_vote
    services.cast_ballot(poll, voter, "yes")
    assert "去投票" not in login_as(voter).get("/").get_data(as_text=True)


def test_a_household_member_whose_household_voted_has_nothing_waiting(db, login_as):
    proposal = ready_proposal("villager_resolution")
    first = make_user(["villager"], proposal.village, household="9-001")
    second = make_user(["villager"], proposal.village, household="9-001")
    poll = services.open_poll(proposal, proposal.created_by, closes_at=_beijing_midnight_after(2),
                              household_mode=True)
    assert "去投票" in login_as(second).get("/").get_data(as_text=True)
    services.cast_ballot(poll, first, "no")
    assert "去投票" not in login_as(second).get("/").get_data(as_text=True)


def test_nothing_waits_for_someone_not_on_the_roster_or_of_another_village(open_vote, login_as):
    poll, _voter, _closes = open_vote
    later = make_user(["villager"], poll.village)  # joined after the roster was frozen
    stranger = make_user(["villager"])
    for person in (later, stranger):
        assert "去投票" not in login_as(person).get("/").get_data(as_text=True)


def test_a_closed_or_not_yet_open_vote_does_not_wait(db, login_as):
    proposal = ready_proposal("villager_resolution")
    voter, = make_voters(proposal.village, 1)
    services.open_poll(proposal, proposal.created_by, opens_at=utcnow() + timedelta(days=1),
                       closes_at=_beijing_midnight_after(3))
    assert "去投票" not in login_as(voter).get("/").get_data(as_text=True)


def test_two_votes_waiting_name_the_first_end_and_lead_to_the_list(db, login_as):
    a = ready_proposal("villager_resolution", title="甲方案")
    village = a.village
    b = ready_proposal("villager_resolution", village=village, author=a.created_by, title="乙方案")
    voter, = make_voters(village, 1)
    services.open_poll(a, a.created_by, closes_at=_beijing_midnight_after(5))
    first = services.open_poll(b, b.created_by, closes_at=utcnow() + timedelta(hours=30))
    main = _main(login_as(voter).get("/").get_data(as_text=True))
    assert "您有 2 项表决待投" in main and 'href="/polls">去投票' in main
    assert main.index("乙方案") < main.index("甲方案")  # soonest end first
    assert f"{(first.closes_at + timedelta(hours=8)).strftime('%H:%M')}" in main


def test_the_waiting_vote_in_english_has_no_chinese(open_vote, login_as):
    poll, voter, closes = open_vote
    b = login_as(voter)
    b.post("/language", {"lang": "en"})
    main = _main(b.get("/").get_data(as_text=True))
    assert "You have 1 vote to cast, closing" in main and "24:00" in main and "Go and vote" in main
    assert "去投票" not in main
