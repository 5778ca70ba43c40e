"""The villager's whole path on a 360 px phone, in normal and in large text (长辈模式):
sign in, read a proposal (and have it read aloud), post an opinion, vote, see the
receipt and a result. Every page on the way has zero axe violations, fits the screen
and has large enough text and targets; the proposal and voting pages keep the byte
budget."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.checks import Recorder, axe_violations, body_font_px, small_targets
from tests.e2e.conftest import DEMO_PASSWORD, PHONE
from tests.e2e.site import set_preferences
from tests.e2e.test_read_aloud_and_inbox import SPEECH_SPY
from tests.e2e.test_weight_and_speed import FIRST_VISIT, REPEAT_VISIT

# Two plain villagers of 幸福村 (adults, on the roster of the villagers' vote), one per
# text size, so that neither run sees the other's ballot.
VILLAGERS = {False: "13900000040", True: "13900000042"}


def check_page(page, large: bool) -> None:
    problems = [f"axe: {v}" for v in axe_violations(page)]
    if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
        problems.append("wider than the screen")
    if body_font_px(page) < (18 if large else 16):
        problems.append(f"body text {body_font_px(page)} px")
    problems += [f"small target: {t}" for t in small_targets(page, 60 if large else 48)]
    assert not problems, page.url + "\n" + "\n".join(problems)


def check_budget(page, live_server) -> None:
    rec = Recorder(page)
    path = urlsplit(page.url).path
    rec.clear_cache()
    first = rec.measure(path)
    repeat = rec.measure(path)
    assert first.hosts() == {urlsplit(live_server).netloc}, first.report()
    assert first.total <= FIRST_VISIT, f"{path} first visit {first.total} bytes\n{first.report()}"
    assert repeat.total <= REPEAT_VISIT, f"{path} repeat visit {repeat.total} bytes\n{repeat.report()}"


@pytest.mark.parametrize("large", [False, True], ids=["normal-text", "large-text"])
def test_villager_reads_comments_votes_and_sees_the_result(chromium, live_server, large):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                   base_url=live_server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.add_init_script(SPEECH_SPY)
    try:
        # Sign in from the front page.
        page.goto("/")
        page.get_by_role("link", name="登录", exact=True).click()
        page.get_by_label("手机号").fill(VILLAGERS[large])
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")
        set_preferences(page, lang="zh_Hans", large=large)
        check_page(page, large)

        # Read a proposal that is open for opinions, and have it read aloud.
        page.get_by_role("link", name="村里的议题").click()
        check_page(page, large)
        row = page.locator("ul.proposals li").filter(has=page.locator(".stage-topic_consultation")).first
        title = row.locator("a").first.inner_text().strip()
        row.locator("a").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        check_page(page, large)
        check_budget(page, live_server)
        page.get_by_role("button", name="朗读").click()
        spoken = "".join(s["text"] for s in page.evaluate("window.__spoken"))
        assert title in spoken
        proposal_url = page.url

        # Post an opinion.
        page.get_by_role("link", name=re.compile("发表")).first.click()
        check_page(page, large)
        page.locator("label.stance-option.stance-support").click()
        opinion = f"我支持这个方案，希望早点办好。（{'大字' if large else '标准'}）"
        page.get_by_label("您的意见").fill(opinion)
        page.get_by_role("button", name="发表我的意见").click()
        expect(page.get_by_text(opinion)).to_be_visible()
        check_page(page, large)

        # Vote in the open villagers' vote, confirm, and keep the receipt.
        page.goto("/")
        page.get_by_role("link", name="现在投票").click()
        check_page(page, large)
        page.locator("li").filter(has_text="您可以投票").first.locator("a").first.click()
        check_page(page, large)
        check_budget(page, live_server)
        page.get_by_role("button", name="同意").click()
        expect(page.get_by_text("您的选择：")).to_be_visible()
        check_page(page, large)
        page.get_by_role("button", name="确认投票").click()
        expect(page.get_by_text("您的票已记录。")).to_be_visible()
        receipt = page.locator(".receipt-code code").inner_text().strip()
        assert len(receipt) >= 6
        check_page(page, large)

        # See the result of a closed villagers' vote.
        page.goto("/")
        page.get_by_role("link", name="现在投票").click()
        page.locator("li").filter(has_text="村民决议").filter(has_text="通过").first.locator("a").first.click()
        expect(page.locator(".verdict")).to_be_visible()
        check_page(page, large)

        assert proposal_url
    finally:
        page.goto("/")
        set_preferences(page, lang="zh_Hans", large=False)
        context.close()
