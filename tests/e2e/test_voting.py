"""Voting in the browser: a villager votes on the demo proposal that waits in the
villagers' vote (choose, see the choice again, cast, get a receipt); on a proposal this
file brings to the villagers' vote itself, the clerk runs the meeting in the hall and
records two ballots, and closing the poll counts it and posts the resolution.

The demo's homestead poll stays open for the other browser tests: nothing here closes it,
and the villager who votes on it here is one the demo leaves without a vote."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.proposal_steps import (
    CHAIR, CLERK, VILLAGER, actions, all_vote_in_hall, bring_to_consensus, days_ago, flash, move, open_poll,
    phone_page, record_date, stage_badge, unique,
)

DEMO_VOTER = "13900000045"  # an adult villager of 幸福村 who has not voted on the demo poll
HOMESTEAD = "2027年度宅基地安排方案"


def ballot(page: Page):
    return page.locator("section.ballot")


def vote_on_phone(page: Page, choice: str, shown: str) -> str:
    """On the poll page: choose, check the confirmation, cast; returns the receipt code."""
    ballot(page).get_by_role("button", name=choice, exact=True).click()
    expect(ballot(page)).to_contain_text("您的选择：")
    expect(ballot(page).locator(".confirm-choice")).to_have_text(shown)
    ballot(page).get_by_role("button", name="确认投票").click()
    receipt = ballot(page).get_by_role("status")
    expect(receipt).to_contain_text("您的票已记录。")
    expect(receipt).to_contain_text("您的回执码：")
    expect(receipt).to_contain_text("在")
    expect(receipt).to_contain_text("之前，您还可以更改投票。")
    code = receipt.locator("code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9-]{6,}", code), code
    return code


def test_a_villager_votes_on_the_demo_proposal_and_gets_a_receipt(page, sign_in):
    sign_in(DEMO_VOTER)
    name = re.fullmatch(r"(.+)，您好", page.get_by_role("heading", level=1).inner_text().strip()).group(1)
    page.get_by_role("link", name="现在投票").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("幸福村的表决")
    page.get_by_role("link", name=HOMESTEAD).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"表决: {HOMESTEAD}")

    # Changing one's mind before casting: back to the three choices.
    ballot(page).get_by_role("button", name="反对", exact=True).click()
    expect(ballot(page).locator(".confirm-choice")).to_have_text("反对")
    ballot(page).get_by_role("link", name="返回重新选择").click()

    code = vote_on_phone(page, "同意", "同意")
    ballot(page).get_by_role("link", name="完成").click()
    # The receipt is shown only once; afterwards the page says the vote is in and can change.
    expect(page.get_by_text(code)).to_have_count(0)
    voted = ballot(page).get_by_text(re.compile("^您已投票。在.+之前还可以更改；以最后一次选择为准。"))
    expect(voted).to_be_visible()
    expect(ballot(page).get_by_role("button", name="同意", exact=True)).to_be_visible()

    # The secret ballot shows on the list of who took part, never with the choice.
    page.get_by_role("link", name="回执码和参加人员").click()
    me = page.locator("ul.people li").filter(has_text=name)
    expect(me).to_have_count(1)
    expect(me).to_contain_text("手机投票")
    expect(page.locator("ul.people .tag")).to_have_count(0)


def test_hall_ballots_and_closing_count_the_vote_and_post_the_resolution(page, sign_in, chromium, live_server):
    chair = sign_in(CHAIR)
    clerk = phone_page(chromium, live_server, CLERK)
    villager = phone_page(chromium, live_server, VILLAGER)
    try:
        title = unique("修建村文化活动中心")
        path = bring_to_consensus(chair, clerk, title, "在村委会旁建设文化活动中心一处，面积300平方米。")
        # The villagers' assembly must be announced ten days before its vote: record when it was.
        record_date(chair, "登记：村民表决已公告", days_ago(12))
        move(chair, "定稿，进入村民表决")
        expect(stage_badge(chair)).to_contain_text("村民决议")
        poll = open_poll(chair, path)
        # Not everyone has voted: no button closes the poll early.
        expect(chair.get_by_role("button", name="结束表决并计票")).to_have_count(0)

        villager.goto(path)
        villager.get_by_role("link", name="去投票").click()
        code = vote_on_phone(villager, "同意", "同意")

        clerk.goto(poll)
        clerk.get_by_role("link", name="现场会议：签到和现场表决").click()
        clerk.get_by_role("textbox", name="会议地点").fill("村委会会议室")
        clerk.get_by_role("button", name="开始会议").click()
        roster = clerk.locator("#meeting-roster")
        heading = roster.get_by_role("heading", level=2)
        expect(heading).to_contain_text("已到0人")
        total = int(re.search(r"应到(\d+)人", heading.inner_text()).group(1))
        people = [n.strip() for n in roster.locator(".roster-name strong").all_inner_texts()]
        first, second = [n for n in people if n != "赵淑珍" and people.count(n) == 1][:2]  # names told apart
        for present, name in enumerate((first, second, "赵淑珍"), start=1):
            roster.get_by_role("button", name=f"为{name}签到").click()
            expect(heading).to_contain_text(f"已到{present}人")
        # A secret poll: no per-person choice buttons; a paper ballot for each attendee...
        expect(roster.get_by_role("button", name=re.compile(": 同意$"))).to_have_count(0)
        for name in (first, second):
            roster.get_by_role("button", name=f"给{name}发表决票").click()
            expect(roster.locator(".roster-row").filter(has_text=name)).to_contain_text("已领表决票")
            expect(roster.get_by_role("status")).to_contain_text(f"已给 {name} 发表决票。")
        # ...but not for 赵淑珍, who voted by phone: her phone ballot stands.
        zhao = roster.locator(".roster-row").filter(has_text="赵淑珍")
        expect(zhao).to_contain_text("已手机投票")
        expect(zhao.get_by_role("button")).to_have_count(0)
        expect(roster.get_by_text("已领表决票")).to_have_count(2)

        # Everyone else gets a paper ballot; the scrutineers count: all yes but one no.
        all_vote_in_hall(clerk, poll, "同意", against=1)
        chair.goto(poll)
        chair.get_by_role("button", name="结束表决并计票").click()
        expect(flash(chair)).to_contain_text("表决已结束并完成计票")
        results = chair.get_by_role("region", name=re.compile("^结果"))
        expect(results.get_by_role("heading")).to_contain_text("通过")
        expect(results.get_by_role("img")).to_have_accessible_name(
            f"同意{total - 1}，反对1，弃权0，未参加0")
        expect(results).to_contain_text("王监票、李监票")  # the scrutineers, named with the hall totals

        chair.goto(path)
        expect(stage_badge(chair)).to_contain_text("决议公开")

        # Who took part and how: the paper ballots name the clerk who handed them out.
        chair.goto(poll + "/receipts")
        for name in (first, second):
            expect(chair.locator("ul.people li").filter(has_text=name)).to_contain_text("会场纸质表决票，由杨丽娟发放")
        expect(chair.locator("ul.people li").filter(has_text="赵淑珍")).to_contain_text("手机投票")

        # The villager finds the receipt in the published list.
        villager.goto(poll)
        villager.get_by_role("link", name="在公布的回执码名单中查找您的回执码").click()
        villager.get_by_role("textbox", name="您的回执码").fill(code)
        villager.get_by_role("button", name="查询").click()
        expect(villager.get_by_role("status")).to_contain_text("已找到：您的票已计入。")
    finally:
        clerk.context.close()
        villager.context.close()
