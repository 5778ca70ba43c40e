"""The weight and speed budget of issue 7, measured in the browser: on the proposal
page and the voting page, ≤ 60 KB transferred on a first visit and ≤ 15 KB on a
repeat visit, no request to another host, and the main content painted within 2.5 s
on slow 3G (400 kbit/s, 400 ms round trip) with a 4× slower CPU."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.checks import Recorder, paint_times
from tests.e2e.site import VILLAGER

FIRST_VISIT = 60_000
REPEAT_VISIT = 15_000
MAIN_CONTENT_PAINT_MS = 2500


@pytest.mark.parametrize("kind", ["proposal", "poll"])
def test_byte_budget_first_and_repeat_visit(site_pages, person_page, live_server, kind):
    page = person_page(VILLAGER)
    path = site_pages[kind][1]
    rec = Recorder(page)
    rec.clear_cache()
    first = rec.measure(path)
    repeat = rec.measure(path)
    own = urlsplit(live_server).netloc
    assert first.hosts() == {own}, first.report()
    assert first.total <= FIRST_VISIT, f"first visit {first.total} bytes:\n{first.report()}"
    assert repeat.total <= REPEAT_VISIT, f"repeat visit {repeat.total} bytes:\n{repeat.report()}"
    assert any(u.endswith(".css") or ".css?" in u for u, _, _ in first.requests), "the style sheet was not loaded"


@pytest.mark.parametrize("kind", ["proposal", "poll"])
def test_main_content_painted_within_budget_on_slow_3g(site_pages, person_page, kind):
    page = person_page(VILLAGER)
    path = site_pages[kind][1]
    rec = Recorder(page)
    rec.clear_cache()
    rec.throttle(True)
    try:
        page.goto(path, wait_until="load", timeout=60000)
        times = paint_times(page)
    finally:
        rec.throttle(False)
    # The largest contentful paint is the main content (the proposal's text, the ballot).
    assert times["lcp"] is not None, times
    assert times["lcp"] <= MAIN_CONTENT_PAINT_MS, times
