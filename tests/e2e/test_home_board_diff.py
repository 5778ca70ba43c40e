"""What a person sees first, at phone size (360×740): the villager's home page starts with
the vote waiting for her and one big 去投票 button, in normal and large text; the public
notice board names the result, the body and the day of the vote and shows its report
photos as small thumbnails; a diff shows a changed number old → new, never merged.
Screenshots go to tests/e2e/artifacts/ for a person to look at."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.proposal_steps import CHAIR, VILLAGER

ARTIFACTS = Path(__file__).parent / "artifacts"
HOMESTEAD = "2027年度宅基地安排方案"  # the demo's open villagers' vote, closing at 24:00 Beijing time
ROAD = "用村集体收入维修村口至小学道路"  # archived, with a progress report and its photo
LAND = "省道拓宽征地补偿款分配方案"  # amended: 提留20% → 提留10%


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_the_home_page_starts_with_the_waiting_vote_and_a_big_button(person_page, large):
    page = person_page(VILLAGER, large=large)
    page.goto("/")
    main = page.locator("main")
    first = main.get_by_role("heading", level=2).first
    expect(first).to_have_text(re.compile(r"^您有 \d+ 项表决待投，(最早一项 )?\d+ 月 \d+ 日 (24 时|\d\d:\d\d)截止$"))
    waiting = main.locator("section.waiting")
    expect(waiting.get_by_role("listitem").filter(has_text=HOMESTEAD)).to_have_text(
        re.compile(rf"^{HOMESTEAD}( · \d+ 月 \d+ 日 24 时截止)?$"))
    expect(waiting).to_contain_text(re.compile(r"\d+ 月 \d+ 日 24 时截止"))  # the demo vote ends at 24:00
    button = waiting.get_by_role("link", name="去投票")
    expect(button).to_be_visible()
    box = button.bounding_box()
    # a big button, the whole width of the phone, on the first screen without scrolling
    assert box["height"] >= (64 if large else 56) and box["width"] >= PHONE["width"] * 0.8, box
    assert box["y"] + box["height"] <= PHONE["height"], box
    shot(page, f"home-{'large' if large else 'normal'}")
    button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^表决: "))


def test_the_board_names_the_result_body_and_day_and_shows_photo_thumbnails(page):
    page.goto("/board/1")  # nobody signed in
    item = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=ROAD))
    expect(item).to_contain_text(re.compile(r"村民会议 \d{4}年\d+月\d+日表决：通过"))
    shot(page, "board")
    item.get_by_role("link", name=ROAD).click()
    notice = page.locator("article.notice")
    expect(notice.locator("dl.decision")).to_contain_text("表决结果")
    expect(notice.locator("dl.decision dd").first).to_have_text("通过")
    expect(notice.locator("dl.decision")).to_contain_text("村民会议")
    expect(notice.locator("dl.decision")).to_contain_text(re.compile(r"\d{4}年\d+月\d+日 · 村委会议室"))
    expect(notice).to_contain_text(re.compile(r"应到\d+人，实到\d+人"))
    shot(page, "board-item-top")
    thumb = notice.get_by_role("img", name="报告照片 1")
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    natural = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    shown = thumb.bounding_box()
    assert natural[0] <= 320 and natural[1] <= 240, natural  # served at thumbnail size
    assert round(shown["width"]) == 160 and round(shown["height"]) == 120, shown
    thumb.scroll_into_view_if_needed()
    shot(page, "board-item")
    resp = page.request.get(thumb.get_attribute("src"))
    assert resp.status == 200 and resp.headers["content-type"] == "image/jpeg"
    assert len(resp.body()) < 20_000
    assert b"Exif" not in resp.body()


def test_a_changed_number_reads_old_then_new_in_the_diff(person_page):
    page = person_page(CHAIR)
    page.goto("/")
    page.get_by_role("link", name=re.compile("议题")).first.click()
    page.get_by_role("link", name=LAND).first.click()
    page.get_by_role("link", name="改了什么").click()
    path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
    found = None
    for b in range(2, 6):
        page.goto(f"{path}?a={b - 1}&b={b}")
        repl = page.locator("#diff .repl").filter(has=page.locator("del", has_text="20%"))
        if repl.count():
            found = repl.first
            break
    assert found is not None, "no diff shows 提留20% → 10%"
    expect(found.locator("del")).to_contain_text("20%")
    expect(found.locator("ins")).to_contain_text("10%")
    seen = page.locator("#diff").evaluate(
        "el => { const c = el.cloneNode(true); c.querySelectorAll('.visually-hidden').forEach(s => s.remove());"
        " return c.innerText; }")
    assert "2010%" not in seen and "20%→10%" in seen.replace(" ", "")
    styles = found.evaluate("el => [getComputedStyle(el.querySelector('del')).textDecorationLine,"
                            " getComputedStyle(el.querySelector('ins')).textDecorationLine]")
    assert styles == ["line-through", "underline"], styles
    found.scroll_into_view_if_needed()
    shot(page, "diff")


def test_a_collapsed_section_shows_that_it_opens(person_page):
    page = person_page(CHAIR)
    page.goto("/")
    page.get_by_role("link", name=re.compile("议题")).first.click()
    page.get_by_role("link", name=ROAD).first.click()
    summary = page.locator("details > summary", has_text="纸质表格")
    expect(summary).to_have_accessible_name("纸质表格")  # the arrow is not read out
    closed = summary.evaluate("s => getComputedStyle(s, '::before').content")
    assert "▸" in closed, closed
    turn = lambda: summary.evaluate("s => getComputedStyle(s, '::before').transform")  # noqa: E731
    assert turn() in ("none", "matrix(1, 0, 0, 1, 0, 0)")
    summary.click()
    expect(summary.locator("xpath=..")).to_have_attribute("open", "")
    page.wait_for_timeout(300)
    assert turn() != "none"  # turned down once open
    expect(page.get_by_role("link", name=re.compile("签到表"))).to_be_visible()
