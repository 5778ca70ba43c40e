"""Oversight in the browser: the township overseer's table of both demo villages, a
village's page with its compliance flags, a record exported as JSON and PDF, the
completed demo proposal filed (备案) and archived, the audit chain checked on its page;
the county overseer's table of the county's townships, read-only; and the village's
public notice board, which opens without signing in and carries a QR code."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.e2e.proposal_steps import OVERSEER, flash
from tests.e2e.site import COUNTY_OVERSEER

FISHPOND = "村集体鱼塘承包方案"  # completed in the demo, waiting for the township's filing


def region(page, name):
    return page.get_by_role("region", name=re.compile(f"^{name}"))


def table_row(page, name):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(f"^{name}")))


def open_village(page, name):
    """From the township's table to the village's own page."""
    page.goto("/oversight")
    table_row(page, name).get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_the_dashboard_shows_both_villages_and_a_compliance_flag(page, sign_in):
    sign_in(OVERSEER)
    page.get_by_role("link", name=re.compile("督导看板")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("示范镇 · 乡镇督导看板")
    first, second = table_row(page, "幸福村"), table_row(page, "东风村")
    expect(first).to_be_visible()
    expect(second).to_be_visible()
    expect(first).to_contain_text("⚑")  # flagged villages first
    expect(page.get_by_role("row").nth(1)).to_contain_text("幸福村")
    first.get_by_role("link", name="幸福村").click()
    # Proposals by stage: the demo's first village has one in every later stage.
    stages = region(page, "各环节议题数")
    for stage in ("议题协商", "村民决议", "决议公开", "实施中"):
        expect(stages.get_by_role("term").filter(has_text=stage)).to_have_count(1)
    flags = region(page, "合规提示")
    expect(flags.get_by_role("listitem").filter(has_text="⚑").first).to_be_visible()
    expect(flags).to_contain_text("未达到法定人数")
    expect(flags).to_contain_text("第二十四条事项由未经授权的机构决定")


def test_the_township_table_sorts_by_a_link_in_its_header(page, sign_in):
    sign_in(OVERSEER)
    page.goto("/oversight")
    page.get_by_role("columnheader", name="村").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"\?sort=name$"))
    expect(page.get_by_role("row").nth(1)).to_contain_text("东风村")  # 东 before 幸 by name


def test_the_county_overseer_reads_the_county_its_townships_and_villages_and_cannot_file(page, sign_in):
    sign_in(COUNTY_OVERSEER)
    expect(page.get_by_text("县级督导员：示范县（只读）")).to_be_visible()
    page.get_by_role("link", name="全县概览").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("示范县 · 全县概览")
    township = table_row(page, "示范镇")
    expect(township).to_contain_text("2 个村")
    expect(township).to_contain_text("⚑")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    township.get_by_role("link", name="示范镇").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("示范镇 · 乡镇督导看板")
    expect(page.get_by_role("link", name="示范县")).to_be_visible()  # back to the county
    table_row(page, "幸福村").get_by_role("link", name="幸福村").click()
    waiting = region(page, "待备案")
    waiting.get_by_role("link", name=FISHPOND).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FISHPOND)
    # The county reads the record but files nothing: no filing form, and no way round it.
    expect(page.get_by_role("link", name="档案（PDF）")).to_be_visible()
    expect(page.get_by_role("button", name="备案并归档")).to_have_count(0)
    expect(page.get_by_role("textbox", name="备案意见")).to_have_count(0)


def test_a_record_exports_as_json_and_as_pdf(page, sign_in):
    sign_in(OVERSEER)
    # Through the village's list, which holds the record whether it is filed yet or not
    # (the dashboard links it only while it waits for the filing).
    page.goto("/villages/1/proposals")
    page.get_by_role("link", name=FISHPOND).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FISHPOND)

    with page.expect_response(lambda r: "/record" in r.url and r.request.resource_type == "document") as got:
        page.get_by_role("link", name="档案（JSON）").click()
    answer = got.value
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    record = json.loads(answer.body())
    assert record["proposal"]["title"] == FISHPOND
    assert record["proposal"]["stage"] in ("completed", "archived")
    assert [change["to"] for change in record["stage_history"]][:2] == ["topic_consultation", "committee_deliberation"]
    assert record["polls"] and record["audit"]

    page.go_back()
    # The PDF as the link gives it (fetched with the overseer's cookies: a headless
    # browser shows a PDF in its viewer instead of handing over the file).
    href = page.get_by_role("link", name="档案（PDF）").get_attribute("href")
    answer = page.context.request.get(href)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    body = answer.body()
    assert len(body) > 1000 and body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")


def test_the_overseer_files_the_completed_record_which_is_then_archived(page, sign_in):
    sign_in(OVERSEER)
    open_village(page, "幸福村")
    region(page, "待备案").get_by_role("link", name=FISHPOND).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FISHPOND)
    expect(page.get_by_text("幸福村 · 实施结果公开")).to_be_visible()
    page.get_by_role("textbox", name="备案意见").fill("程序完整，材料齐全，同意备案。")
    page.get_by_role("button", name="备案并归档").click()
    expect(flash(page)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("幸福村")  # back on the village's page
    expect(page.get_by_role("link", name=FISHPOND)).to_have_count(0)

    page.goto("/villages/1/proposals?stage=archived")
    row = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=FISHPOND))
    expect(row).to_contain_text("已归档")
    row.get_by_role("link", name=FISHPOND).click()
    expect(page.locator("#proposal-text")).to_contain_text("已归档")
    history = page.get_by_role("region", name="这个议题的各个环节")
    history.get_by_text("全部流转记录").click()
    expect(history).to_contain_text("程序完整，材料齐全，同意备案。")
    # Filed once: the button is gone.
    expect(page.get_by_role("button", name="备案并归档")).to_have_count(0)


def test_the_overseer_checks_the_audit_chain(page, sign_in):
    sign_in(OVERSEER)
    page.goto("/oversight")
    page.get_by_role("link", name="校验审计链").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("审计链校验")
    status = page.get_by_role("status").filter(has_text="审计链")
    expect(status).to_have_text(re.compile(r"审计链完好：已校验 \d+ 条事件。"))
    checked = int(re.search(r"已校验 (\d+) 条", status.inner_text()).group(1))
    assert checked > 100  # the demo's whole history, not an empty chain
    expect(page.get_by_text("决策所依据的每一条记录都与其最新的审计事件相符。")).to_be_visible()
    expect(page.get_by_role("region", name="审计检查点")).to_contain_text("gongyi-checkpoint:")


def test_a_stage_count_on_the_dashboard_opens_the_proposals_in_that_stage(page, sign_in):
    sign_in(OVERSEER)
    open_village(page, "幸福村")
    region(page, "各环节议题数").get_by_role("link", name=re.compile("^决议公开：\\d+ 项议题")).click()
    expect(page).to_have_url(re.compile(r"/villages/1/proposals\?stage=publicized$"))
    expect(page.get_by_role("link", name="村文化广场安装路灯")).to_be_visible()


def test_the_overseer_reads_a_proposals_audit_trail(page, sign_in):
    sign_in(OVERSEER)
    page.goto("/villages/1/proposals")
    page.get_by_role("link", name=FISHPOND).click()
    page.get_by_role("link", name="本议题的审计记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"审计记录 · {FISHPOND}")
    expect(page.get_by_role("status")).to_contain_text("都与其哈希值相符")
    first = page.get_by_role("listitem").filter(has_text="提出议题").first
    expect(first).to_contain_text("与其哈希值相符")
    assert "Z" not in first.inner_text() and "proposal." not in page.content()


def test_the_notice_board_opens_without_signing_in_and_shows_a_qr_code(page):
    response = page.goto("/board/1")  # a fresh phone: nobody is signed in
    assert response.status == 200 and "/login" not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("幸福村 · 公示栏")
    page.get_by_role("link", name="村文化广场安装路灯").click()
    expect(page.get_by_role("heading", name="决议: 村文化广场安装路灯")).to_be_visible()
    qr = page.get_by_role("figure", name=re.compile("^用手机扫码查看"))
    expect(qr).to_contain_text(page.url)
    image = qr.get_by_role("img")
    expect(image).to_be_visible()
    box = image.bounding_box()
    assert box["width"] >= 100 and box["height"] >= 100, box


def test_the_notice_board_shows_the_signed_checkpoint_with_its_qr_code_and_public_key(page):
    page.goto("/board/1")
    checkpoint = page.get_by_role("region", name="审计检查点")
    expect(checkpoint.get_by_role("img", name="审计检查点二维码")).to_be_visible()
    expect(checkpoint.locator("code.checkpoint-line")).to_have_text(re.compile(r"^gongyi-checkpoint:v1:\d+:[0-9a-f]{64}:"))
    expect(checkpoint.locator("code.checkpoint-key")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
