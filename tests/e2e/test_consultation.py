"""The consensus consultation in the browser, on a 360 px phone: a villager posts an
opinion with a stance and sees it appear without a reload; a committee member makes it a
disagreement item, which stops the move to the villagers' vote until an amendment resolves
it (a new version, shown in the diff); then the consultation can end. The test brings a
proposal of its own to the consensus consultation, so the demo's stay as they are."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.proposal_steps import (
    CHAIR, CLERK, VILLAGER, blockers, bring_to_consensus, flash, move, phone_page, stage_badge, unique,
)

TEXT = "硬化村东小路约300米，宽3米，费用由村集体收入支付。"
AMENDED = "硬化村东小路约300米，宽3米，费用由村集体收入支付。路两侧各留50厘米排水沟。"
OPINION = "路修好了下雨天的积水往哪里排？我家就在路边，怕水淹进院子。"


def test_an_opinion_becomes_a_disagreement_resolved_by_an_amendment(page, sign_in, chromium, live_server):
    chair = sign_in(CHAIR)
    clerk = phone_page(chromium, live_server, CLERK)
    villager = phone_page(chromium, live_server, VILLAGER)
    try:
        path = bring_to_consensus(chair, clerk, unique("硬化村东小路"), TEXT)

        # The villager, on a phone 360 px wide, gives an opinion with a stance.
        assert villager.viewport_size["width"] == 360
        villager.goto(path)
        villager.get_by_role("link", name="查看意见并发表您的看法").click()
        thread = villager.locator("#thread-consensus")
        expect(thread.get_by_role("list", name="各类意见的数量").get_by_role("listitem")
               .filter(has_text="担忧")).to_contain_text("0")
        villager.evaluate("window.__sameDocument = true")
        url_before = villager.url
        thread.get_by_role("radio", name=re.compile("^担忧")).check()
        thread.get_by_role("textbox", name="您的意见").fill(OPINION)
        thread.get_by_role("button", name="发表我的意见").click()
        post = villager.locator("#thread-consensus article.post").filter(has_text=OPINION)
        expect(post).to_be_visible()
        expect(post).to_contain_text("赵淑珍")
        expect(post).to_contain_text("担忧")
        expect(villager.locator("#thread-consensus").get_by_role("list", name="各类意见的数量")
               .get_by_role("listitem").filter(has_text="担忧")).to_contain_text("1")
        # It came in through htmx: the same document, the same address, an empty form.
        assert villager.evaluate("window.__sameDocument === true")
        assert villager.url == url_before
        expect(villager.locator("#thread-consensus").get_by_role("textbox", name="您的意见")).to_have_value("")

        # A committee member makes the opinion a point of disagreement.
        chair.goto(path)
        chair.get_by_role("link", name="查看意见并发表您的看法").click()
        chair_post = chair.locator("article.post").filter(has_text=OPINION)
        chair_post.get_by_text("列为分歧点").click()
        chair_post.get_by_role("textbox", name="分歧点").fill("下雨天的排水")
        chair_post.get_by_role("button", name="登记分歧点").click()
        expect(flash(chair)).to_contain_text("分歧点已登记。")
        item = chair.locator("article.item").filter(has_text="下雨天的排水")
        expect(item).to_contain_text("待处理")
        expect(item).to_contain_text(OPINION)

        # While it is open, the consensus consultation cannot end.
        chair.goto(path)
        expect(blockers(chair)).to_contain_text("还有 1 个分歧点未处理")
        move(chair, "定稿，进入村民表决")
        expect(flash(chair)).to_contain_text("现在还不行：")
        expect(flash(chair)).to_contain_text("还有 1 个分歧点未处理")
        expect(stage_badge(chair)).to_contain_text("共识协商")

        # An amendment answers it and is taken into the text as a new version.
        chair.goto(path + "/consultation/disagreements")
        chair.get_by_text("提出修改意见").click()
        chair.get_by_role("combobox", name="针对哪个分歧点？").select_option(label="下雨天的排水")
        chair.get_by_role("textbox", name="改了什么，为什么改？").fill("两侧留排水沟")
        chair.get_by_role("textbox", name="修改后的完整正文").fill(AMENDED)
        chair.get_by_role("button", name="提交修改意见").click()
        amendment = chair.locator("article.amendment").filter(has_text="两侧留排水沟")
        amendment.get_by_text("采纳进正文").click()
        amendment.get_by_role("textbox", name="如何解决了这个分歧（可不填）").fill("正文写明两侧留排水沟。")
        amendment.get_by_role("button", name="采纳：生成新版本").click()
        expect(flash(chair)).to_contain_text("修改意见已采纳：方案现在是第 2 版。")
        expect(chair.locator("article.item").filter(has_text="下雨天的排水")).to_contain_text("已解决")
        expect(chair.get_by_text("所有分歧点都已解决或保留。")).to_be_visible()

        chair.locator("article.amendment").filter(has_text="两侧留排水沟").get_by_role(
            "link", name="查看改了什么").click()
        expect(chair.get_by_role("heading", level=1)).to_have_text("从第 1 版到第 2 版改了什么")
        expect(chair.locator("#diff").get_by_role("insertion")).to_have_text("路两侧各留50厘米排水沟。")

        # Now the consensus consultation can be closed: the move to the villagers' vote succeeds.
        chair.goto(path)
        expect(blockers(chair)).not_to_contain_text("分歧点")
        move(chair, "定稿，进入村民表决")
        expect(flash(chair)).to_contain_text("已完成：议题进入“村民决议”")
        expect(stage_badge(chair)).to_contain_text("村民决议")
        expect(chair.get_by_role("term").filter(has_text="表决文本").locator("xpath=following-sibling::dd[1]")).to_have_text("第 2 版")
    finally:
        clerk.context.close()
        villager.context.close()
