"""The process engine in the browser: a committee member drafts and edits a proposal,
compares its versions, runs the topic consultation and meets the engine's blockers and
refusals; a villager has no move buttons; no stage can be skipped through the pages.
Each test brings a proposal of its own, so the order of the tests does not matter."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.proposal_steps import (
    CHAIR, VILLAGER, actions, blockers, create_draft, edit_draft, flash, move, phone_page, stage_badge, unique,
    write_summary,
)

FIRST_TEXT = "在村委会门前空地建设一个快递代收点，由村集体出资。"
SECOND_TEXT = "在村委会门前空地建设一个快递代收点，由村集体出资，每天早八点到晚六点有人值守。"


def test_a_draft_edited_once_has_two_versions_and_a_readable_diff(page, sign_in):
    sign_in(CHAIR)
    title = unique("建设快递代收点")
    path = create_draft(page, title, FIRST_TEXT)
    expect(stage_badge(page)).to_contain_text("草拟")
    expect(page.get_by_role("link", name="文本的全部版本（1 个）")).to_be_visible()
    expect(page.get_by_role("link", name="改了什么")).to_have_count(0)

    edit_draft(page, path, SECOND_TEXT, "写明值守时间")
    expect(page.get_by_role("link", name="文本的全部版本（2 个）")).to_be_visible()
    expect(page.locator("#proposal-text")).to_contain_text("每天早八点到晚六点有人值守")

    page.get_by_role("link", name="改了什么").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("从第 1 版到第 2 版改了什么")
    expect(page.get_by_text("写明值守时间")).to_be_visible()
    inserted = page.locator("#diff").get_by_role("insertion")
    expect(inserted).to_have_count(1)
    expect(inserted).to_have_text("，每天早八点到晚六点有人值守")
    expect(page.locator("#diff").get_by_role("deletion")).to_have_count(0)


def test_topic_consultation_closed_early_still_blocked_by_the_missing_summary(page, sign_in):
    sign_in(CHAIR)
    path = create_draft(page, unique("村委会门前硬化"), "把村委会门前的泥地硬化成水泥地面，约200平方米。")
    move(page, "开始议题协商")
    expect(flash(page)).to_contain_text("已完成：议题进入“议题协商”")
    expect(stage_badge(page)).to_contain_text("议题协商")

    # While it runs, the blockers name both things that stop the next step.
    expect(blockers(page)).to_contain_text("下一步：进入两委初议")
    expect(blockers(page).get_by_role("listitem")).to_have_text(
        ["议题协商还在进行：请等到结束，或提前结束。", "还没有写协商情况总结。"])

    actions(page).get_by_role("button", name="现在结束议题协商").click()
    expect(flash(page)).to_contain_text("议题协商已结束")
    expect(actions(page).get_by_role("button", name="现在结束议题协商")).to_have_count(0)
    expect(blockers(page).get_by_role("listitem")).to_have_text(["还没有写协商情况总结。"])

    # Trying anyway: the engine refuses and says why; nothing moves.
    move(page, "进入两委初议")
    expect(flash(page)).to_contain_text("现在还不行：")
    expect(flash(page)).to_contain_text("还没有写协商情况总结。")
    expect(stage_badge(page)).to_contain_text("议题协商")

    # With the summary written, the same button works.
    write_summary(page, path)
    page.goto(path)
    expect(blockers(page)).to_contain_text("条件都已具备，可以进入下一步。")
    move(page, "进入两委初议")
    expect(flash(page)).to_contain_text("已完成：议题进入“两委初议”")
    expect(stage_badge(page)).to_contain_text("两委初议")
    expect(page.get_by_role("region", name="这个议题的各个环节").get_by_role("listitem")
           .filter(has_text="议题协商")).to_contain_text("王建国")


def test_a_withdrawal_without_a_reason_is_refused_with_a_message(page, sign_in):
    sign_in(CHAIR)
    path = create_draft(page, unique("村口设置减速带"), "在村口主路设置减速带两条。")
    form = actions(page).locator("form").filter(has=page.get_by_role("button", name="撤回"))
    # The reason box is required in the browser; empty it the way a too-quick tap would
    # arrive (spaces only), and the engine still asks for the reason.
    form.get_by_role("textbox", name="理由").fill("   ")
    form.get_by_role("button", name="撤回").click()
    expect(flash(page)).to_contain_text("请填写这一步的理由。")
    page.goto(path)
    expect(stage_badge(page)).to_contain_text("草拟")


def test_no_stage_can_be_skipped_through_the_pages(page, sign_in):
    sign_in(CHAIR)
    path = create_draft(page, unique("修建村级篮球场"), "在文化广场东侧修建标准篮球场一个。")
    move(page, "开始议题协商")
    expect(stage_badge(page)).to_contain_text("议题协商")
    # The only buttons are the next stage, closing the consultation, the deadline and, last
    # and in its own box with its reason, withdrawing.
    buttons = actions(page).get_by_role("button")
    labels = [b.strip() for b in buttons.all_inner_texts()]
    assert labels == ["进入两委初议", "现在结束议题协商", "保存截止时间", "撤回"], labels
    withdraw = actions(page).get_by_role("group", name="撤回")
    expect(withdraw.get_by_role("textbox", name="“撤回”的理由")).to_be_visible()
    expect(withdraw.get_by_role("button", name="撤回")).to_be_visible()
    for later in ("进入党员审议", "进入共识协商", "定稿，进入村民表决", "公开决议", "备案"):
        expect(page.get_by_role("button", name=later)).to_have_count(0)

    # A form edited by hand to jump straight to the villagers' vote is refused.
    next_form = actions(page).locator("form").filter(has=page.get_by_role("button", name="进入两委初议"))
    next_form.locator("input[name=to]").evaluate("el => el.value = 'villager_resolution'")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/move")) as answer:
        next_form.get_by_role("button", name="进入两委初议").click()
    assert answer.value.status == 400
    expect(page.get_by_text("任何环节都不能跳过")).to_be_visible()  # the engine says why
    page.goto(path)
    expect(stage_badge(page)).to_contain_text("议题协商")


def test_a_villager_sees_the_blockers_but_no_move_buttons(page, sign_in, chromium, live_server):
    sign_in(CHAIR)
    title = unique("村卫生室延长开放时间")
    path = create_draft(page, title, "村卫生室周末也开放半天。")
    move(page, "开始议题协商")
    expect(actions(page).get_by_role("button", name="进入两委初议")).to_be_visible()

    villager = phone_page(chromium, live_server, VILLAGER)
    try:
        villager.goto(path)
        expect(villager.get_by_role("heading", level=1)).to_have_text(title)
        expect(blockers(villager)).to_contain_text("还没有写协商情况总结。")
        expect(actions(villager)).to_have_count(0)
        for label in ("进入两委初议", "撤回", "现在结束议题协商", "修改草稿"):
            expect(villager.get_by_role("button", name=label)).to_have_count(0)
            expect(villager.get_by_role("link", name=label)).to_have_count(0)
        response = villager.goto(path + "/edit")
        assert response.status == 403
    finally:
        villager.context.close()
