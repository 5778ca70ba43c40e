"""A villager writes an opinion, but the phone lost the session meanwhile (the browser
was closed; "keep me signed in" restores the person, not the old session): the words
come back with a fresh token and one more press sends them."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, PHONE

WRITER = "13900000044"


def test_opinion_survives_a_lost_session(chromium, live_server, site_pages):
    context = chromium.new_context(viewport=PHONE, base_url=live_server, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto("/login")
        page.get_by_label("手机号").fill(WRITER)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")
        page.goto(site_pages["consultation_thread"][1])
        page.wait_for_load_state("networkidle")  # htmx has arrived: the form posts through it
        opinion = "路灯的电费由谁来出？希望在方案里写清楚。"
        page.locator("label.stance-option.stance-question").click()
        page.get_by_label("您的意见").fill(opinion)
        # The session cookie is gone; the remember-me cookie is still there.
        kept = [c for c in context.cookies() if c["name"] != "session"]
        context.clear_cookies()
        context.add_cookies(kept)
        page.get_by_role("button", name="发表我的意见").click()
        expect(page.get_by_role("heading", name="请再按一次")).to_be_visible()
        expect(page.get_by_label(re.compile("您写的内容"))).to_have_value(opinion)
        page.get_by_role("button", name="再次发送").click()
        expect(page.get_by_text(opinion)).to_be_visible()
    finally:
        context.close()
