"""Browser tests: the real app served by gunicorn on a free port, with migrated and
seeded demo data, driven by Playwright on the system's Chromium at a phone's size."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}
DEMO_PASSWORD = "gongyi-demo"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server():
    tmp = Path(tempfile.mkdtemp(prefix="gongyi-e2e-"))
    env = {**os.environ, "GONGYI_INSTANCE": str(tmp), "DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite3'}",
           "MESSAGE_BACKEND": "log", "GONGYI_E2E_CLOCK": "1",  # the walk-through test moves the clock
           # The browser tests sign the same demo people in many times within minutes.
           "LOGIN_LIMIT_PER_ACCOUNT": "1000 per 15 minutes", "LOGIN_LIMIT_PER_ADDRESS": "3000 per 15 minutes"}
    env.pop("TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log = open(tmp / "server.log", "w")
    os.environ["GONGYI_E2E_DB"] = str(tmp / "e2e.sqlite3")  # for set-up the pages cannot do (proposal_steps)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    # The job queue's worker, as `make run` starts it (imports, text messages).
    worker = subprocess.Popen(flask + ["worker", "--workers", "1"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.terminate()
        raise RuntimeError("the app did not start: " + (tmp / "server.log").read_text())
    yield url
    worker.terminate()
    proc.terminate()
    proc.wait(10)
    worker.wait(10)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                   base_url=live_server, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(10000)
    yield pg
    context.close()


@pytest.fixture()
def sign_in(page):
    def _sign_in(phone: str, password: str = DEMO_PASSWORD):
        page.goto("/login")
        page.get_by_label("手机号").fill(phone)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")
        return page

    return _sign_in


# --- pages of every type, people in every language and text size ---------------------

def _new_phone_context(chromium, live_server, width=PHONE["width"]):
    return chromium.new_context(viewport={"width": width, "height": PHONE["height"]}, device_scale_factor=2,
                                is_mobile=True, has_touch=True, base_url=live_server, locale="zh-CN")


def _sign_in_page(page, phone):
    page.goto("/login")
    page.locator("input[name=phone]").fill(phone)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button.primary").click()
    page.wait_for_url("**/")


@pytest.fixture(scope="session")
def site_pages(chromium, live_server):
    """page type → (phone of a person who reaches it, path), found by following links."""
    from urllib.parse import urlsplit

    from tests.e2e.site import CRAWLERS, crawl, set_preferences

    found: dict[str, tuple[str, str]] = {}
    for phone in CRAWLERS:
        context = _new_phone_context(chromium, live_server)
        page = context.new_page()
        _sign_in_page(page, phone)
        set_preferences(page, lang="zh_Hans", large=False)
        for kind, path in crawl(page).items():
            found.setdefault(kind, (phone, path))
        if phone == CRAWLERS[0] and "suggestion" not in found and "suggestions" in found:
            # The demo may have no villagers' suggestion (村民提议) yet: file one as a villager would.
            page.goto(found["suggestions"][1])
            page.locator("details.card > summary").first.click()
            page.locator("input[name=title]").fill("村里修一个公共厕所")
            page.locator("textarea[name=body]").fill("村东头赶集的人多，没有厕所，建议在集市边上修一个。")
            page.locator("form[method=post] button.primary").last.click()
            page.wait_for_url("**/suggestions/*")
            found["suggestion"] = (phone, urlsplit(page.url).path)
        context.close()
    return found


@pytest.fixture(scope="session")
def _phones(chromium, live_server):
    """Signed-in phones kept open across tests (one per person and screen width), so a
    long matrix of page checks signs in once per person; their preferences are put
    back to Chinese and normal text at the end."""
    from tests.e2e.site import set_preferences

    pages: dict[tuple[str, int], object] = {}
    yield pages
    for page in pages.values():
        if page.is_closed():
            continue
        try:
            page.goto("/")
            set_preferences(page, lang="zh_Hans", large=False)
        finally:
            page.context.close()


@pytest.fixture()
def person_page(_phones, chromium, live_server):
    """A phone signed in as `phone`, in the given language and text size (both are kept
    for the person, as the header buttons do); put back to Chinese and normal text after
    the test, since other tests expect the demo people as seeded."""
    from tests.e2e.site import set_preferences

    used = []

    def _open(phone, *, lang="zh_Hans", large=False, width=PHONE["width"]):
        page = _phones.get((phone, width))
        if page is None or page.is_closed():
            context = _new_phone_context(chromium, live_server, width)
            page = context.new_page()
            page.set_default_timeout(15000)
            _phones[(phone, width)] = page
        page.goto("/")
        if page.locator("form[action='/logout']").count() == 0:
            _sign_in_page(page, phone)
        set_preferences(page, lang=lang, large=large)
        used.append(page)
        return page

    yield _open
    for page in used:
        if not page.is_closed():
            page.goto("/")
            set_preferences(page, lang="zh_Hans", large=False)


@pytest.fixture()
def fresh_phone(chromium, live_server):
    """A new phone (empty browser) signed in as `phone`; closed after the test."""
    opened = []

    def _open(phone, *, init_script: str | None = None):
        context = _new_phone_context(chromium, live_server)
        page = context.new_page()
        page.set_default_timeout(15000)
        if init_script:
            page.add_init_script(init_script)
        _sign_in_page(page, phone)
        opened.append(context)
        return page

    yield _open
    for context in opened:
        context.close()
