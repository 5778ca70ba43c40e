"""No dead ends: the page says before the text is frozen what the villagers' vote will
need, a vote's opening can be scheduled, a refusal gives the earliest date, and closing
the topic consultation with affected households unheard warns (and names them)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.accounts.models import utcnow
from app.clock import travel_to
from app.consultation import services as consultation
from app.consultation.models import Stakeholder
from app.extensions import db
from app.voting.models import Poll
from tests.factories import make_proposal, make_user


def _text(resp) -> str:
    return re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))


def test_before_the_text_is_frozen_the_page_names_the_assembly_notice_and_the_earliest_vote_day(db, login_as):
    committee = make_user(["committee_member", "villager"], name="王主任")
    p = make_proposal("consensus_consultation", committee.village, committee)
    with travel_to(datetime(2026, 12, 1, 2, 0)):  # 10:00 on 1 December, Beijing
        page = _text(login_as(committee).get(f"/proposals/{p.id}"))
    assert "村民会议须提前 10 天公告：今天公告，最早 2026年12月12日 可以表决。" in page


def test_after_the_announcement_the_page_names_the_day_it_was_given(db, login_as):
    committee = make_user(["committee_member", "villager"])
    p = make_proposal("consensus_consultation", committee.village, committee)
    p.assembly_announced_at = datetime(2026, 11, 30, 16, 30)  # 00:30 on 1 December, Beijing
    db.session.flush()
    with travel_to(datetime(2026, 12, 3, 2, 0)):
        page = _text(login_as(committee).get(f"/proposals/{p.id}"))
    assert "村民会议已于 2026年12月1日 公告：最早 2026年12月12日 可以表决。" in page


def test_before_the_committee_votes_the_page_names_the_party_plan_notice_and_after_it_the_day_it_was_sent(db, login_as):
    from app.deliberation.engine import next_stage_needs

    committee = make_user(["committee_member", "villager"])
    p = make_proposal("committee_deliberation", committee.village, committee)
    with travel_to(datetime(2026, 12, 1, 2, 0)):
        page = _text(login_as(committee).get(f"/proposals/{p.id}"))
        assert "党员须提前 3 天收到方案：今天送达，最早 2026年12月5日 可以审议。" in page
        assert not any("村民会议" in n for n in next_stage_needs(p))  # not the assembly's notice yet
    p.party_plan_sent_at = datetime(2026, 11, 30, 16, 30)  # 00:30 on 1 December, Beijing
    db.session.flush()
    with travel_to(datetime(2026, 12, 2, 2, 0)):
        page = _text(login_as(committee).get(f"/proposals/{p.id}"))
    assert "方案已于 2026年12月1日 送达党员：最早 2026年12月5日 可以审议。" in page


def test_a_date_typed_for_the_announcement_is_a_beijing_day(db, login_as):
    committee = make_user(["committee_member", "villager"])
    p = make_proposal("consensus_consultation", committee.village, committee)
    b = login_as(committee)
    p.created_at = datetime(2026, 11, 1, 2, 0)
    b.get(f"/proposals/{p.id}")
    resp = b.post(f"/proposals/{p.id}/announce", {"when": "2026-11-20", "paper_note": "村务公开栏，村监委会签收"})
    assert resp.status_code in (302, 303)
    db.session.refresh(p)
    assert p.assembly_announced_at == datetime(2026, 11, 20, 4, 0)  # noon of 20 November in Beijing
    assert clock.local_date(p.assembly_announced_at).isoformat() == "2026-11-20"


def _ready_for_the_vote(committee, announced):
    p = make_proposal("villager_resolution", committee.village, committee)
    p.frozen_version = p.current_version
    p.assembly_announced_at = announced
    for _ in range(3):
        make_user(["villager"], committee.village)
    db.session.flush()
    return p


def test_the_vote_form_opens_at_the_earliest_allowed_moment_by_default_and_a_too_early_opening_is_refused_with_it(
        db, login_as):
    committee = make_user(["committee_member", "villager"])
    announced = utcnow() - timedelta(days=3)
    p = _ready_for_the_vote(committee, announced)
    earliest = clock.notice_earliest(p.village.rule_profile, announced, 10)
    b = login_as(committee)
    page = b.get(f"/proposals/{p.id}").get_data(as_text=True)
    local = clock.to_local(earliest).strftime("%Y-%m-%dT%H:%M")
    assert f'name="opens_at" type="datetime-local" value="{local}"' in page
    too_early = clock.to_local(earliest - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    closes = clock.to_local(earliest + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    resp = b.post(f"/proposals/{p.id}/polls",
                  {"opens_at": too_early, "closes_at": closes, "secret": "y"}, follow_redirects=True)
    text = _text(resp)
    assert clock.format_time(earliest) in text  # the refusal gives the earliest allowed moment
    assert db.session.scalar(select(Poll.id).where(Poll.proposal_id == p.id)) is None


def test_a_vote_opening_can_be_scheduled_and_takes_no_ballot_before_it_opens(db, login_as):
    committee = make_user(["committee_member", "villager"])
    p = _ready_for_the_vote(committee, utcnow() - timedelta(days=30))
    opens = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    closes = opens + timedelta(hours=6)
    b = login_as(committee)
    b.get(f"/proposals/{p.id}")
    resp = b.post(f"/proposals/{p.id}/polls", {"opens_at": clock.to_local(opens).strftime("%Y-%m-%dT%H:%M"),
                                              "closes_at": clock.to_local(closes).strftime("%Y-%m-%dT%H:%M"),
                                              "secret": "y"})
    assert resp.status_code in (302, 303)
    poll = db.session.scalar(select(Poll).where(Poll.proposal_id == p.id))
    assert (poll.opens_at, poll.closes_at) == (opens, closes)  # typed in Beijing time, stored in UTC
    assert not poll.accepting_ballots()
    page = _text(b.get(f"/proposals/{p.id}"))
    assert f"{clock.format_time(opens)}" in page


def test_closing_the_topic_consultation_with_a_household_unheard_warns_and_names_it(db, login_as):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    heard = make_user(["villager"], village, name="钱大妈", household="H-01")
    make_user(["villager"], village, name="孙大伯", household="H-02")
    p = make_proposal("topic_consultation", village, committee)
    consultation.add_stakeholder(p, committee, number="H-01", reason="占地")
    consultation.add_stakeholder(p, committee, number="H-02", reason="紧邻")
    consultation.add_post(p, heard, thread="topic", stance="concern", body="补偿怎么算？")
    b = login_as(committee)
    page = _text(b.get(f"/proposals/{p.id}"))
    assert "尚未听取意见：H-02 户（孙大伯）。仍可结束议题协商" in page
    resp = b.post(f"/proposals/{p.id}/close-topic", {}, follow_redirects=True)
    text = _text(resp)
    assert "有 1 个利益相关户或人尚未发表意见：H-02 户（孙大伯）。" in text
    db.session.refresh(p)
    assert p.topic_consultation_closed_at is not None  # a warning, not a block
    assert db.session.scalar(select(Stakeholder.id).where(Stakeholder.proposal_id == p.id)) is not None


def test_an_english_page_shows_the_vote_arithmetic_in_english(db, login_as):
    from app.voting import services as voting

    committee = make_user(["committee_member", "villager"])
    p = _ready_for_the_vote(committee, utcnow() - timedelta(days=30))
    poll = voting.open_poll(p, committee, closes_at=utcnow() + timedelta(hours=1))
    for person in [e.person for e in poll.roster]:
        voting.cast_ballot(poll, person, "yes")
    voting.close_poll(poll, committee)  # the reason is written in Chinese, the closer's language
    committee.language = "en"
    db.session.flush()
    html = login_as(committee).get(f"/proposals/{p.id}").get_data(as_text=True)
    history = html.split("id=\"timeline-h\"")[1]
    assert "took part" in history
    assert "应到" not in history and "实到" not in history
    # Dates an English reader cannot misread: "2 Dec 2026, 03:57", never "12/2/26".
    assert re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", history)
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", html)
