"""A new proposal taken from draft to archive by the committee, a villager, the clerk and
the township, on phones, with the app's clock moved by the test only (POST /_e2e/clock,
which exists only on the browser tests' server). Every printed form is read back and
compared with the record the committee exports; no page shows a raw code, a "Z"
timestamp or a Python literal; the forms are looked at on A4 and at 360 px."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.proposal_steps import (
    CHAIR, CLERK, OVERSEER, VILLAGER, actions, all_vote_in_hall, close_poll, create_draft, flash, move,
    phone_page, stage_badge, unique, write_summary,
)

BEIJING = ZoneInfo("Asia/Shanghai")
ARTIFACTS = Path(__file__).parent / "artifacts"
RAW = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+|\d{2}Z\b|\{'|\[\]|\bNone\b|\bTrue\b|\bFalse\b")
CODES = ("public_welfare", "villagers_assembly", "villager_resolution", "consensus_consultation", "publicized",
         "implementing", "concern", "not_upheld", "took_part", "adult_villagers", "topic_consultation")
FORMS = ("proposal", "minutes", "resolution", "notice")
# The 签到表 and 表决票 are looked at here (A4 and 360 px); their words are issue 13 item 4's
# and are checked by that item's own tests.
LAYOUT_ONLY = ("sign_in", "ballot")


@pytest.fixture()
def clock(live_server, chromium):
    """Moves the live server's clock; always put back to the real time."""
    context = chromium.new_context(base_url=live_server)
    state = {"days": 0.0}

    def _move(days: float) -> datetime:
        state["days"] += days
        resp = context.request.post("/_e2e/clock", form={"days": str(state["days"])})
        assert resp.ok, resp.text()
        return datetime.fromisoformat(resp.json()["now"])

    yield _move
    context.request.post("/_e2e/clock", form={"days": "0"})
    context.close()


def clean(page: Page) -> str:
    """The page's visible text, checked for raw codes, ISO/"Z" stamps and Python literals."""
    text = page.locator("body").inner_text()
    found = RAW.search(text)
    assert not found, (page.url, found.group(0), text[max(0, found.start() - 80):found.end() + 80])
    for code in CODES:
        assert code not in text, (page.url, code)
    return text


def bj_day(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def bj_time(iso: str) -> str:
    local = datetime.fromisoformat(iso).astimezone(BEIJING)
    return f"{bj_day(local)} {local:%H:%M}"


def record(page: Page, path: str) -> dict:
    resp = page.request.get(f"/api/v1/proposals/{path.rsplit('/', 1)[1]}/record")
    assert resp.ok
    return resp.json()


def open_vote(page: Page, path: str, *, secret: bool | None = None) -> str:
    page.goto(path)
    if secret is False:
        page.get_by_role("checkbox", name=re.compile("无记名")).uncheck()
    page.get_by_role("button", name="开始表决").click()
    expect(flash(page)).to_contain_text("表决已开始")
    poll_path = re.sub(r"^https?://[^/]+", "", page.url)
    assert re.fullmatch(r"/polls/\d+", poll_path), poll_path
    return poll_path


def look_at(page: Page, path: str, name: str, *, words: bool = True) -> str:
    """The form at A4 (a 794 px screenshot) and at 360 px; returns its text."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(path)
    text = clean(page) if words else page.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"paper-{name}-360.png"), full_page=True)
    # At 360 px nothing is wider than the screen (the minutes' text column was one character wide).
    assert page.evaluate("document.documentElement.scrollWidth") <= 361, name
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=str(ARTIFACTS / f"paper-{name}-a4.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    return text


def test_a_new_proposal_from_draft_to_archive_with_the_clock_moved(chromium, live_server, clock):
    chair = phone_page(chromium, live_server, CHAIR)
    clerk = phone_page(chromium, live_server, CLERK)
    villager = phone_page(chromium, live_server, VILLAGER)
    overseer = phone_page(chromium, live_server, OVERSEER)
    try:
        title = unique("村西排水沟清淤")
        path = create_draft(chair, title, "清理村西排水沟淤泥约300米，由村集体收入支付。", matter="其他村务")
        clean(chair)
        move(chair, "开始议题协商")
        expect(stage_badge(chair)).to_have_text("议题协商")
        clean(chair)

        # A villager gives an opinion on her phone.
        villager.goto(path)
        villager.get_by_role("link", name="查看意见并发表您的看法").click()
        thread = villager.locator("#thread-topic")
        thread.get_by_role("radio", name=re.compile("^担忧")).check()
        thread.get_by_role("textbox", name="您的意见").fill("清淤的泥堆在哪里？别堆在路边。")
        thread.get_by_role("button", name="发表我的意见").click()
        expect(villager.locator("#thread-topic")).to_contain_text("清淤的泥堆在哪里？")
        clean(villager)

        write_summary(chair, path)
        chair.goto(path)
        actions(chair).get_by_role("button", name="现在结束议题协商").click()
        expect(flash(chair)).to_contain_text("议题协商已结束")
        move(chair, "进入两委初议")
        expect(stage_badge(chair)).to_have_text("两委初议")
        # Before the committee votes, the page says what the Party members' review will need.
        expect(chair.locator("#blockers")).to_contain_text("党员须提前 3 天收到方案")
        actions(chair).locator("form").filter(has=chair.get_by_role("button", name="登记：方案已送达党员")) \
            .get_by_role("button", name="登记：方案已送达党员").click()
        expect(flash(chair)).to_contain_text("已登记方案送达党员。")
        poll = open_vote(chair, path)
        all_vote_in_hall(clerk, poll)
        close_poll(chair, poll)
        chair.goto(path)
        expect(stage_badge(chair)).to_have_text("党员审议")
        clean(chair)

        # The plan went out today: the review may be held on the fourth day at the earliest.
        clock(4)
        poll = open_vote(chair, path)
        all_vote_in_hall(clerk, poll)
        close_poll(chair, poll)
        chair.goto(path)
        expect(stage_badge(chair)).to_have_text("共识协商")

        # Before the text is frozen: the assembly's ten days' notice and the earliest day.
        now = clock(0).astimezone(BEIJING)
        earliest = (now + timedelta(days=11)).date()
        expect(chair.locator("#blockers")).to_contain_text(
            f"村民会议须提前 10 天公告：今天公告，最早 {bj_day(earliest)} 可以表决。")
        clean(chair)
        actions(chair).locator("form").filter(has=chair.get_by_role("button", name="登记：村民表决已公告")) \
            .get_by_role("button", name="登记：村民表决已公告").click()
        expect(flash(chair)).to_contain_text("已登记村民表决公告。")
        move(chair, "定稿，进入村民表决")
        expect(stage_badge(chair)).to_have_text("村民决议")
        # The vote form opens at the earliest allowed moment by default.
        expect(chair.locator("input[name=opens_at]")).to_have_value(f"{earliest.isoformat()}T00:00")

        clock(11)
        poll = open_vote(chair, path, secret=False)
        all_vote_in_hall(clerk, poll)
        close_poll(chair, poll)
        chair.goto(path)
        expect(stage_badge(chair)).to_have_text("决议公开")
        page_text = clean(chair)
        data = record(chair, path)
        posted = [h for h in data["stage_history"] if h["to"] == "publicized"][-1]
        last = datetime.fromisoformat(posted["at"]).astimezone(BEIJING).date() + timedelta(days=7)
        assert f"公示期至{bj_day(last)}24时" in page_text

        # Every printed form, read back and compared with the exported record.
        forms = {name: look_at(chair, f"{path}/forms/{name}", name) for name in FORMS}
        for name in LAYOUT_ONLY:
            look_at(chair, f"{path}/forms/{name}", name, words=False)
        assert f"提议时间 {bj_time(data['proposal']['created_at'])}" in forms["proposal"].replace("\t", " ")
        assert "其他村务" in forms["proposal"] and "村民会议" in forms["proposal"]
        assert "担忧" in forms["minutes"] and "清淤的泥堆在哪里？" in forms["minutes"]
        summary = next(t for t in data["threads"] if t["kind"] == "topic")["summary"]
        assert summary["heard"] in forms["minutes"] and summary["answer"] in forms["minutes"]
        vote = next(p for p in data["polls"] if p["stage"] == "villager_resolution")
        tally = vote["tally"]
        assert tally["words_zh"] in forms["resolution"]
        assert bj_day(datetime.fromisoformat(vote["closed_at"]).astimezone(BEIJING)) in forms["resolution"]
        assert "同意票须超过实到人数的半数" in forms["resolution"] and "结论\t通过" in forms["resolution"] \
            or "结论 通过" in forms["resolution"]
        assert f"公示期至{bj_day(last)}24时" in forms["notice"]
        assert tally["words_zh"] in forms["notice"]

        # The PDF carries what the forms carry.
        from pypdf import PdfReader

        pdf = chair.request.get(f"{path.replace('/proposals/', '/proposals/')}/record.pdf")
        assert pdf.ok
        pdf_text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.body())).pages))
        for expected in ("清淤的泥堆在哪里？", "担忧", summary["heard"], re.sub(r"\s", "", tally["words_zh"]),
                         f"公示期至{bj_day(last)}24时", "同意票须超过实到人数的半数"):
            assert re.sub(r"\s", "", expected) in pdf_text, expected

        # The notice period ends at 24:00 of its last day; then the work is carried out.
        clock(8)
        chair.goto(path)
        move(chair, "开始实施")
        expect(stage_badge(chair)).to_have_text("实施中")
        for body, final in (("已清理200米，淤泥运到村北空地。", False), ("全部完工，实际支出1.2万元。", True)):
            chair.goto(path)
            report = chair.locator("form.rec-form").filter(has=chair.get_by_role("button", name="发布报告"))
            report.locator("textarea").first.fill(body)
            if final:
                report.get_by_role("checkbox").check()
            report.get_by_role("button", name="发布报告").click()
            expect(chair.locator("#records")).to_contain_text(body)
        chair.goto(path)
        expect(chair.locator("#records")).to_contain_text("全部完工，实际支出1.2万元。")
        move(chair, "公开实施结果")
        expect(stage_badge(chair)).to_have_text("实施结果公开")
        clean(chair)

        overseer.goto(path)
        overseer.get_by_role("textbox", name=re.compile("备案意见|意见")).fill("程序完整，同意备案。")
        overseer.get_by_role("button", name="备案并归档").click()
        overseer.goto(path)
        expect(stage_badge(overseer)).to_have_text("已归档")
        clean(overseer)
        villager.goto(path)
        clean(villager)
    finally:
        for p in (chair, clerk, villager, overseer):
            p.context.close()
