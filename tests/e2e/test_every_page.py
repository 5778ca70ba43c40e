"""Every page type, in both languages and both text sizes, on a 360 px phone: no WCAG
2.2 A/AA violation (axe-core), nothing wider than the screen, text and tap targets
large enough (48 px, or 60 px in 长辈模式), every collapsed section marked as one that opens."""
from __future__ import annotations

import pytest

from tests.e2e.checks import axe_violations, body_font_px, small_targets, summaries_without_marker
from tests.e2e.site import PAGE_TYPES

MODES = [("zh_Hans", False), ("zh_Hans", True), ("en", False), ("en", True)]


def _ids(mode):
    lang, large = mode
    return f"{lang}-{'large' if large else 'normal'}"


@pytest.mark.parametrize("kind", list(PAGE_TYPES))
@pytest.mark.parametrize("mode", MODES, ids=_ids)
def test_page_type_passes_the_phone_checks(site_pages, person_page, kind, mode):
    if kind not in site_pages:
        pytest.fail(f"no link leads to a {kind!r} page in the demo data (found: {sorted(site_pages)})")
    lang, large = mode
    phone, path = site_pages[kind]
    page = person_page(phone, lang=lang, large=large)
    response = page.goto(path)
    assert response.status == 200, path
    problems = []
    problems += [f"axe: {v}" for v in axe_violations(page)]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 360:
        problems.append(f"page is {width} px wide on a 360 px screen")
    font = body_font_px(page)
    if font < (18 if large else 16):
        problems.append(f"body text is {font} px")
    problems += [f"small target: {t}" for t in small_targets(page, 60 if large else 48)]
    problems += [f"collapsed section without an arrow: {s}" for s in summaries_without_marker(page)]
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", ["home", "proposal", "poll", "consultation_thread", "inbox"])
def test_page_fits_a_320px_phone(site_pages, person_page, kind):
    phone, path = site_pages[kind]
    for large in (False, True):
        page = person_page(phone, large=large, width=320)
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, (path, large)


def test_large_text_mode_is_remembered_for_the_person(person_page, fresh_phone, site_pages):
    from tests.e2e.site import VILLAGER

    page = person_page(VILLAGER, large=True)
    page.goto(site_pages["proposal"][1])
    assert body_font_px(page) >= 18
    h1 = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert h1 >= 28
    # a new phone (new browser) of the same person is in large text straight after signing in
    other = fresh_phone(VILLAGER)
    assert "large-text" in other.locator("body").get_attribute("class")
    person_page(VILLAGER, large=False)
