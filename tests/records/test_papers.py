"""The paper forms, the PDF and the JSON are printed from the data, in words: a real
proposal is taken through its consultation and the villagers' vote, then each printed
text is read back and compared with what the database holds."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest

from app import clock
from app.accounts.models import utcnow
from app.consultation import services as consultation
from app.deliberation import engine
from app.extensions import db
from app.records import services as records
from app.voting import services as voting
from tests.factories import make_user

ZH = "zh_Hans"
RAW = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+|\bZ\b|\{'|': |\bNone\b|\bTrue\b|\bFalse\b")
CODES = ("public_welfare", "general", "villagers_assembly", "villager_resolution", "publicized", "concern",
         "support", "resolved", "carried", "not_upheld", "took_part", "adult_villagers")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "head")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "head")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture()
def walked(cast):
    """A proposal with stakeholders, opinions (one heard in person by the clerk), a summary,
    a villagers' vote that passed, an answered objection and a progress report."""
    from tests.factories import make_proposal

    village = cast.village
    clerk = make_user(["clerk", "villager"], village, name="周书记员")
    heard = make_user(["villager"], village, name="钱大妈", household="H-01")
    make_user(["villager"], village, name="孙大伯", household="H-02")  # listed, never heard
    voters = [make_user(["villager"], village) for _ in range(4)]
    p = make_proposal("topic_consultation", village, cast.committee, title="修建村口文化广场",
                      body="在村口建文化广场，占地三亩。", matter_category="public_welfare")
    consultation.add_stakeholder(p, cast.committee, number="H-01", reason="广场占用其承包地")
    consultation.add_stakeholder(p, cast.committee, number="H-02", reason="紧邻施工区")
    consultation.add_post(p, heard, thread="topic", stance="concern", body="占地补偿怎么算？")
    consultation.add_post(p, clerk, thread="topic", stance="support", body="早该建了。", on_behalf_of=cast.villager)
    consultation.write_summary(p, cast.committee, heard="多数支持；钱大妈担心占地补偿。", answer="按亩补偿写进方案第三条。")
    # Straight to the villagers' vote (the stages between are tested in the engine).
    p.stage = "villager_resolution"
    p.frozen_version = p.current_version
    p.assembly_announced_at = utcnow() - timedelta(days=20)
    db.session.flush()
    poll = voting.open_poll(p, cast.committee, closes_at=utcnow() + timedelta(hours=2))
    for person, choice in zip(voters + [heard, clerk, cast.committee], ["yes", "yes", "yes", "no", "abstain", "yes", "yes"]):
        voting.cast_ballot(poll, person, choice)
    voting.close_poll(poll, cast.committee)
    assert p.stage == "publicized"
    o = records.file_objection(p, cast.villager, "广场占用了晒谷场")
    records.answer_objection(o, cast.supervisor, "另择晒谷场，异议不成立", upheld=False)
    db.session.flush()
    return p, poll


def _form(login_as, who, p, form) -> str:
    resp = login_as(who).get(f"/proposals/{p.id}/forms/{form}")
    assert resp.status_code == 200
    return page_text(resp.get_data(as_text=True))


def _no_raw(text: str):
    assert not RAW.search(text), RAW.search(text).group(0)
    for code in CODES:
        assert code not in text, code


def test_the_proposal_form_names_the_category_the_body_and_the_time_in_beijing(walked, cast, login_as):
    p, _ = walked
    text = _form(login_as, cast.committee, p, "proposal")
    assert "事项类别 村公益事业的兴办和筹资筹劳方案及建设承包方案" in text
    assert "决策主体 村民会议" in text
    assert f"提议时间 {clock.format_time(p.created_at, ZH)}" in text
    assert "提议人 王主任" in text
    _no_raw(text)


def test_the_minutes_print_the_summary_sections_every_opinion_its_stance_and_who_heard_it_in_person(
        walked, cast, login_as):
    p, _ = walked
    text = _form(login_as, cast.committee, p, "minutes")
    assert "听取的意见 多数支持；钱大妈担心占地补偿。" in text
    assert "草案如何回应 按亩补偿写进方案第三条。" in text
    assert "担忧" in text and "占地补偿怎么算？" in text
    assert "支持" in text and "书记员周书记员现场听取并录入" in text
    # The household never heard is named, and the coverage is counted.
    assert "未听取意见的利益相关方 H-02 户（孙大伯）" in text
    assert "H-01 户（钱大妈） · 广场占用其承包地 · 已听取" in text
    assert "利益相关户 2 户，已听取 1 户" in text
    _no_raw(text)


def test_the_resolution_states_the_date_the_rule_the_arithmetic_and_the_result(walked, cast, login_as):
    p, poll = walked
    text = _form(login_as, cast.committee, p, "resolution")
    tally = poll.tally
    assert (tally.yes, tally.no, tally.abstain, tally.passed) == (5, 1, 1, True)
    assert clock.format_day(poll.closed_at, ZH) in text
    assert "同意票须超过实到人数的半数" in text
    assert tally.words_zh in text
    assert "结论 通过" in text
    assert "日期：＿" not in text
    _no_raw(text)


def test_the_notice_names_the_exact_end_of_its_period(walked, cast, login_as):
    p, _ = walked
    text = _form(login_as, cast.committee, p, "notice")
    posted = [h for h in p.history if h.to_stage == "publicized"][-1].at
    end = clock.period_end(posted, p.village.rule_profile.publicity_days)
    assert f"{clock.format_time(posted, ZH)} 起 7 日，公示期至{clock.period_end_text(end, ZH)}" in text
    assert "24时" in text
    assert "广场占用了晒谷场" in text and "不成立" in text and "共 1 件" in text
    _no_raw(text)


def test_the_pdf_carries_what_the_forms_carry(walked, cast, login_as):
    p, poll = walked
    resp = login_as(cast.committee).client.get(f"/proposals/{p.id}/record.pdf")
    assert resp.status_code == 200
    text = _pdf_text(resp.data)
    for expected in ("决策主体：村民会议", "多数支持；钱大妈担心占地补偿。", "按亩补偿写进方案第三条。",
                     "担忧", "占地补偿怎么算？", "书记员周书记员现场听取并录入", "利益相关户2户，已听取1户",
                     squash(poll.tally.words_zh), "同意票须超过实到人数的半数", "公示期至", "24时",
                     squash(clock.format_time(p.created_at, ZH))):
        assert expected in text, expected
    for code in ("public_welfare", "resolved/carried", "topic：", "villager_resolution", "proposal.transition",
                 "poll.opened"):
        assert code not in text, code
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text.split("十、审计链")[0])


def test_the_json_has_one_time_format_with_the_offset_and_adds_stakeholders_and_coverage(walked, cast, login_as):
    p, _ = walked
    doc = login_as(cast.committee).get(f"/api/v1/proposals/{p.id}/record").get_json()
    stamps = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                if k != "payload":
                    walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}T", value):
            stamps.append((key, value))

    walk(doc)
    assert len(stamps) > 10
    for key, value in stamps:
        if key == "hashed_at":  # the one exception: an audit event's time exactly as its hash covers it
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}", value), value
            continue
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00", value), (key, value)
    assert datetime.fromisoformat(doc["proposal"]["created_at"]).utcoffset() == timedelta(hours=8)
    names = {s["name"]: s["heard"] for s in doc["stakeholders"]}
    assert names == {"H-01 户（钱大妈）": True, "H-02 户（孙大伯）": False}
    assert doc["coverage"]["households_total"] == 2 and doc["coverage"]["households_heard"] == 1
    assert doc["coverage"]["unheard_in_topic_consultation"] == ["H-02 户（孙大伯）"]


@pytest.mark.parametrize("stage", ["draft", "topic_consultation", "committee_deliberation", "member_review",
                                   "consensus_consultation", "villager_resolution"])
def test_the_committee_exports_the_record_at_every_stage_and_villagers_only_from_the_posting(
        cast, proposal_in, login_as, stage):
    p = proposal_in(stage)
    committee = login_as(cast.committee)
    assert committee.get(f"/api/v1/proposals/{p.id}/record").status_code == 200
    assert committee.client.get(f"/proposals/{p.id}/record.pdf").status_code == 200
    page = committee.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert f"/proposals/{p.id}/record.pdf" in page
    villager = login_as(cast.villager)
    assert villager.get(f"/api/v1/proposals/{p.id}/record").status_code in (403, 404)
    assert villager.client.get(f"/proposals/{p.id}/record.pdf").status_code in (403, 404)


def test_the_csv_prints_words_and_beijing_time(cast, proposal_in, login_as):
    p = proposal_in("publicized")
    p.stage_entered_at = datetime(2026, 12, 1, 17, 30)  # 01:30 on 2 December in Beijing
    db.session.flush()
    text = login_as(cast.overseer).get(f"/villages/{cast.village.id}/proposals.csv").get_data(as_text=True)
    row = next(r for r in text.splitlines() if str(p.title) in r)
    assert "2026年12月2日 01:30" in row and "决议公开" in row
    assert "publicized" not in row and "2026-12-01T" not in row


def test_an_engine_period_is_what_the_page_names(cast, proposal_in, login_as):
    p = proposal_in("publicized")
    p.stage_entered_at = datetime(2026, 12, 1, 18, 27, 20)
    db.session.flush()
    page = page_text(login_as(cast.villager).get(f"/proposals/{p.id}").get_data(as_text=True))
    assert "公示期至2026年12月9日24时" in page
    with clock.travel_to(datetime(2026, 12, 9, 15, 59)):
        assert engine.blockers(p)
