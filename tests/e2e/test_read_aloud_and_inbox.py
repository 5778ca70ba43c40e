"""Read aloud (朗读) speaks the proposal text in Mandarin where the phone can speak, and
is hidden where it cannot; the inbox shows the unread count and works without JS."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.site import VILLAGER

SPEECH_SPY = """
window.__spoken = [];
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
  speak: u => window.__spoken.push({text: u.text, lang: u.lang}), cancel: () => {}, getVoices: () => []}});
Object.defineProperty(window, 'SpeechSynthesisUtterance', {configurable: true,
  value: function (t) { this.text = t; }});
"""
NO_SPEECH = "Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: undefined});"


def test_read_aloud_reads_the_proposal_in_mandarin(site_pages, fresh_phone):
    page = fresh_phone(VILLAGER, init_script=SPEECH_SPY)
    page.goto(site_pages["proposal"][1])
    button = page.get_by_role("button", name="朗读")
    expect(button).to_be_visible()
    button.click()
    spoken = page.evaluate("window.__spoken")
    assert spoken and all(s["lang"] == "zh-CN" for s in spoken)
    heading = page.locator("#proposal-text h1").inner_text()
    assert heading in "".join(s["text"] for s in spoken)
    expect(page.get_by_role("button", name="停止朗读")).to_be_visible()


def test_read_aloud_is_hidden_without_speech_synthesis(site_pages, fresh_phone):
    page = fresh_phone(VILLAGER, init_script=NO_SPEECH)
    page.goto(site_pages["proposal"][1])
    assert page.locator("button[data-read]").count() >= 1
    expect(page.locator("button[data-read]").first).to_be_hidden()


def test_inbox_link_in_the_header_and_settings_work_without_javascript(chromium, live_server):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server,
                                   java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto("/login")
    page.locator("input[name=phone]").fill(VILLAGER)
    page.locator("input[name=password]").fill("gongyi-demo")
    page.locator("main form button.primary").click()
    page.get_by_role("link", name="消息").first.click()
    expect(page.get_by_role("heading", name="我的消息")).to_be_visible()
    page.get_by_role("link", name="选择要通知我的事").click()
    box = page.get_by_label("有人回复了我的意见")
    box.uncheck()
    page.get_by_role("button", name="保存我的选择").click()
    expect(page.get_by_text("您的选择已保存。")).to_be_visible()
    expect(page.get_by_label("有人回复了我的意见")).not_to_be_checked()
    page.get_by_label("有人回复了我的意见").check()
    page.get_by_role("button", name="保存我的选择").click()
    context.close()
