"""Finding one page of every type on the demo site, as a person would: by following
links from the home page (no knowledge of ids), and setting a person's language and
text size through the header buttons."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

# Page type → the path pattern that identifies it. Every type must be reachable by
# following links from some demo person's home page.
PAGE_TYPES = {
    "home": r"/",
    "proposal_list": r"/villages/\d+/proposals",
    "proposal": r"/proposals/\d+",
    "versions": r"/proposals/\d+/versions",
    "diff": r"/proposals/\d+/diff.*",
    "suggestions": r"/villages/\d+/suggestions",
    "suggestion": r"/suggestions/\d+",
    "consultation_thread": r"/proposals/\d+/consultation/(topic|consensus)",
    "disagreements": r"/proposals/\d+/consultation/disagreements",
    "stakeholders": r"/proposals/\d+/consultation/stakeholders",
    "consultation_summary": r"/proposals/\d+/consultation/summary",
    "polls": r"/polls",
    "poll": r"/polls/\d+",
    "receipts": r"/polls/\d+/receipts",
    "meeting": r"/polls/\d+/meeting",
    "publication": r"/proposals/\d+/publication",
    "board": r"/board/\d+",
    "board_item": r"/board/\d+/\d+",
    "dashboard": r"/oversight(/townships/\d+)?",
    "village_oversight": r"/oversight/villages/\d+",
    "county": r"/oversight/counties/\d+",
    "audit": r"/oversight/audit.*",
    "audit_trail": r"/proposals/\d+/audit",
    "inbox": r"/inbox",
    "inbox_settings": r"/inbox/settings",
    "people": r"/villages/\d+/people",
}

# Who reaches which pages: a villager, the committee chair, the township overseer, the
# county overseer.
VILLAGER = "13900000011"
CHAIR = "13900000001"
OVERSEER = "13900000100"
COUNTY_OVERSEER = "13900000200"
CRAWLERS = (VILLAGER, CHAIR, OVERSEER, COUNTY_OVERSEER)

SKIP = re.compile(r"\.(json|csv|pdf|png|jpg|svg)$|/forms/|/print|/api/|/logout|/static/")


def page_type(path: str) -> str | None:
    for name, pattern in PAGE_TYPES.items():
        if re.fullmatch(pattern, path):
            return name
    return None


def crawl(page, start: str = "/", limit: int = 120) -> dict[str, str]:
    """page type → the first path of that type found by following same-site links."""
    base = urlsplit(page.url)
    found: dict[str, str] = {}
    queue, seen = deque([start]), {start}
    visited = 0
    while queue and visited < limit:
        path = queue.popleft()
        response = page.goto(path)
        visited += 1
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        kind = page_type(urlsplit(path).path)
        if kind and kind not in found:
            found[kind] = path
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != base.netloc:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if not parts.path.startswith("/") or target in seen or SKIP.search(parts.path):
                continue
            seen.add(target)
            queue.append(target)
        if len(found) == len(PAGE_TYPES):
            break
    return found


def set_preferences(page, *, lang: str, large: bool) -> None:
    """Press the header buttons until the page has the wanted language and text size."""
    want_lang = "zh-Hans" if lang.startswith("zh") else "en"
    if page.locator("html").get_attribute("lang") != want_lang:
        page.locator("form[action='/language'] button").click()
        page.wait_for_load_state()
    is_large = "large-text" in (page.locator("body").get_attribute("class") or "")
    if is_large != large:
        page.locator("form[action='/text-size'] button").click()
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == want_lang
    assert ("large-text" in (page.locator("body").get_attribute("class") or "")) == large
