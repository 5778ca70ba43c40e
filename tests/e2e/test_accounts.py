"""Sign in, switch language, sign out — on a phone, as a villager would."""
import re

from playwright.sync_api import expect


def test_villager_signs_in_and_sees_village_and_roles(page, sign_in):
    sign_in("13900000011")
    expect(page.get_by_role("heading", level=1)).to_contain_text("赵淑珍")
    expect(page.get_by_text("幸福村").first).to_be_visible()
    expect(page.locator(".tag", has_text="村民")).to_be_visible()


def test_wrong_password_shows_a_message(page):
    page.goto("/login")
    page.get_by_label("手机号").fill("13900000011")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text("手机号或密码不对")).to_be_visible()


def test_language_switch_and_back(page):
    page.goto("/login")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def test_sign_out_ends_the_session(page, sign_in):
    sign_in("13900000001")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("您已退出登录")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()


def test_sign_in_page_fits_a_320px_phone(chromium, live_server):
    context = chromium.new_context(viewport={"width": 320, "height": 640}, base_url=live_server)
    page = context.new_page()
    page.goto("/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 16
    box = page.get_by_role("button", name="登录").bounding_box()
    assert box["height"] >= 48
    context.close()
