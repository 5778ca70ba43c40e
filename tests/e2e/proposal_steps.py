"""Steps of the process as the committee and the clerk take them on the pages, shared by
the browser tests that bring a proposal of their own through the stages (the live
server is shared, so a test that moves a proposal on uses one it created itself)."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, PHONE

CHAIR = "13900000001"       # 王建国, committee chair
CLERK = "13900000006"       # 杨丽娟, clerk
VILLAGER = "13900000011"    # 赵淑珍, villager
OVERSEER = "13900000100"    # 吴振华, township overseer
VILLAGE_ID = 1              # 幸福村


def unique(title: str) -> str:
    """A title no other test uses, so tests find their own proposal on a shared server."""
    return f"{title}（{uuid.uuid4().hex[:6]}）"


def phone_page(chromium, live_server, phone: str) -> Page:
    """A new phone (own cookies) signed in as `phone`; close it with page.context.close()."""
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                   base_url=live_server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/login")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    return page


def flash(page: Page):
    return page.get_by_role("status").filter(has=page.locator(".flash"))


def actions(page: Page):
    return page.get_by_role("region", name="两委成员操作")


def blockers(page: Page):
    return page.get_by_role("region", name="还需要做什么")


def stage_badge(page: Page):
    """The stage shown under the proposal's title."""
    return page.locator("#proposal-text").get_by_role("paragraph").first


def create_draft(page: Page, title: str, body: str, matter: str = "其他村务") -> str:
    """Write a new proposal; returns the path of its page."""
    page.goto(f"/villages/{VILLAGE_ID}/proposals")
    page.get_by_role("link", name="起草新议题").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("起草新议题")
    page.get_by_role("textbox", name="标题").fill(title)
    page.get_by_role("textbox", name="议题内容").fill(body)
    page.get_by_role("combobox", name="事项类别").select_option(label=matter)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(flash(page)).to_contain_text("草稿已保存")
    path = re.sub(r"^https?://[^/]+", "", page.url)
    assert re.fullmatch(r"/proposals/\d+", path), path
    return path


def edit_draft(page: Page, path: str, body: str, note: str) -> None:
    page.goto(path)
    actions(page).get_by_role("link", name="修改草稿").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("修改草稿")
    page.get_by_role("textbox", name="议题内容").fill(body)
    page.get_by_role("textbox", name="改了什么（记入版本说明）").fill(note)
    page.get_by_role("button", name="保存草稿").click()
    expect(flash(page)).to_contain_text("草稿已保存")


def move(page: Page, button: str, reason: str | None = None) -> None:
    """Press one of the committee's move buttons on the proposal page."""
    form = actions(page).locator("form").filter(has=page.get_by_role("button", name=button))
    if reason is not None:
        form.get_by_role("textbox", name="理由").fill(reason)
    form.get_by_role("button", name=button).click()


def write_summary(page: Page, path: str) -> None:
    page.goto(path)
    page.get_by_role("link", name="协商情况总结").click()
    page.get_by_role("textbox", name="听取到的意见").fill("走访了沿线农户，大家都赞成，有人担心施工时间。")
    page.get_by_role("textbox", name="方案如何回应").fill("草案写明施工避开农忙时节。")
    page.get_by_role("button", name="保存协商情况总结").click()
    expect(flash(page)).to_contain_text("协商情况总结已保存")


HALL_COUNT_FIELD = {"同意": "同意", "反对": "反对", "弃权": "弃权"}


def all_vote_in_hall(page: Page, poll_path: str, choice: str = "同意", *, against: int = 0) -> None:
    """The clerk (or a committee member) starts the meeting of a poll and signs in everyone
    on its roster. In a secret poll each one who has not voted by phone gets a paper
    ballot, and the scrutineers' count (`against` of them 反对, the rest `choice`) is
    entered as totals; in an open vote the clerk enters an in-hall ballot for each."""
    page.goto(poll_path + "/meeting")
    start = page.get_by_role("button", name="开始会议")
    if start.count():
        start.click()
    roster = page.locator("#meeting-roster")
    expect(roster.get_by_role("heading", name=re.compile("^签到表"))).to_be_visible()
    while True:
        sign = roster.get_by_role("button", name=re.compile("^为.+签到$"))
        if sign.count() == 0:
            break
        before = sign.count()
        sign.first.click()
        expect(sign).to_have_count(before - 1)
    paper = roster.get_by_role("button", name=re.compile("^给.+发表决票$"))
    if paper.count() or page.get_by_role("heading", name="纸质表决票计票结果").count():
        while paper.count():
            before = paper.count()
            paper.first.click()
            expect(paper).to_have_count(before - 1)
        handed = int(re.search(r"已发表决票：(\d+)", roster.inner_text()).group(1))
        count = page.locator("#hall-count")
        values = {"发出票数": handed, "收回票数": handed, "同意": 0, "反对": 0, "弃权": 0, "废票": 0}
        values[HALL_COUNT_FIELD[choice]] += handed - against
        values["反对"] += against
        for label, value in values.items():
            count.get_by_label(label, exact=True).fill(str(value))
        count.get_by_label(re.compile("^监票人")).fill("王监票、李监票")
        count.get_by_label("计票人", exact=True).fill("赵计票")
        count.get_by_role("button", name="录入计票结果").click()
        expect(page.locator("#hall-count")).to_contain_text("王监票、李监票")
        return
    rows = roster.locator(".roster-row").filter(has_not=page.locator(".tag"))
    while rows.count():
        before = rows.count()
        rows.first.get_by_role("button", name=re.compile(f": {choice}$")).click()
        expect(rows).to_have_count(before - 1)


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


RECORDED = {"登记：方案已送达党员": "已登记方案送达党员。", "登记：村民表决已公告": "已登记村民表决公告。"}


def written_before(page: Page, day: str) -> None:
    """Set-up the pages cannot do: the proposal on this page was written before `day`
    (the app's clock cannot be moved from the browser; a notice may not predate it)."""
    import os
    import sqlite3

    proposal_id = int(re.search(r"/proposals/(\d+)", page.url).group(1))
    earlier = (date.fromisoformat(day) - timedelta(days=1)).isoformat() + " 00:00:00.000000"
    with sqlite3.connect(os.environ["GONGYI_E2E_DB"]) as conn:
        conn.execute("UPDATE proposal SET created_at = ? WHERE id = ? AND created_at > ?",
                     (earlier, proposal_id, earlier))


PAPER_NOTICE = "纸质公告（仅日期早于今天时填写：在哪里张贴、谁签收）"


def record_date(page: Page, button: str, day: str) -> None:
    """Fill the date of a committee record ("plan sent", "vote announced") and save it;
    a day before today is documented by its paper notice, as the service requires."""
    form = actions(page).locator("form").filter(has=page.get_by_role("button", name=button))
    form.get_by_label("日期（不填就是今天）").fill(day)
    if day != date.today().isoformat():
        written_before(page, day)
        form.get_by_label(PAPER_NOTICE).fill("村务公开栏张贴，照片存档，两委签字")
    form.get_by_role("button", name=button).click()
    expect(flash(page)).to_contain_text(RECORDED[button])


def open_poll(page: Page, path: str) -> str:
    """Open the vote of the proposal's current stage; returns the poll page's path."""
    page.goto(path)
    page.get_by_role("button", name="开始表决").click()
    expect(flash(page)).to_contain_text("表决已开始")
    poll_path = re.sub(r"^https?://[^/]+", "", page.url)
    assert re.fullmatch(r"/polls/\d+", poll_path), poll_path
    return poll_path


def close_poll(page: Page, poll_path: str) -> None:
    page.goto(poll_path)
    page.get_by_role("button", name="结束表决并计票").click()
    expect(flash(page)).to_contain_text("表决已结束并完成计票")


def bring_to_consensus(chair: Page, clerk: Page, title: str, body: str) -> str:
    """Draft → topic consultation (summary, closed early) → the committees' open vote →
    the Party members' vote (plan recorded as sent in time) → consensus consultation,
    every step on the pages; everyone votes yes in the hall. Returns the proposal's path."""
    path = create_draft(chair, title, body)
    move(chair, "开始议题协商")
    write_summary(chair, path)
    chair.goto(path)
    actions(chair).get_by_role("button", name="现在结束议题协商").click()
    expect(flash(chair)).to_contain_text("议题协商已结束")
    move(chair, "进入两委初议")
    expect(stage_badge(chair)).to_have_text("两委初议")
    record_date(chair, "登记：方案已送达党员", days_ago(10))
    poll = open_poll(chair, path)
    all_vote_in_hall(clerk, poll)
    close_poll(chair, poll)
    chair.goto(path)
    expect(stage_badge(chair)).to_have_text("党员审议")
    poll = open_poll(chair, path)
    all_vote_in_hall(clerk, poll)
    close_poll(chair, poll)
    chair.goto(path)
    expect(stage_badge(chair)).to_have_text("共识协商")
    return path
