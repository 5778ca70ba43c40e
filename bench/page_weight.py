"""Page weight and slow-3G paint times of the main page types, as a markdown table.

    python bench/page_weight.py http://127.0.0.1:5000 [phone [extra paths…]]

Needs a running app with the demo data (make run) and Chromium at /usr/bin/chromium.
Bytes are what the phone receives (compressed, headers included): first visit with an
empty cache, then a repeat visit. Paint times are under slow 3G (400 kbit/s, 400 ms
round trip) with a 4x slower CPU, median of three loads with an empty cache.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.checks import Recorder, paint_times  # noqa: E402
from tests.e2e.site import crawl  # noqa: E402

KINDS = ("home", "proposal_list", "proposal", "consultation_thread", "polls", "poll", "receipts", "board",
         "inbox")


def main(base: str, phone: str = "13900000011", *extra: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, base_url=base, locale="zh-CN")
        page = context.new_page()
        page.goto("/login")
        page.locator("input[name=phone]").fill(phone)
        page.locator("input[name=password]").fill("gongyi-demo")
        page.locator("main form button.primary").click()
        page.wait_for_url("**/")
        found = crawl(page)
        rec = Recorder(page)
        print("| page | first visit (bytes) | repeat visit (bytes) | requests | FCP slow 3G (ms) | LCP slow 3G (ms) |")
        print("|---|---:|---:|---:|---:|---:|")
        for kind, path in [(k, found[k]) for k in KINDS if k in found] + [("page", p) for p in extra]:
            rec.clear_cache()
            first = rec.measure(path)
            repeat = rec.measure(path)
            fcp, lcp = [], []
            for _ in range(3):
                rec.clear_cache()
                rec.throttle(True)
                page.goto(path, wait_until="load", timeout=60000)
                t = paint_times(page)
                rec.throttle(False)
                fcp.append(t["fcp"] or 0)
                lcp.append(t["lcp"] or 0)
            print(f"| {kind} `{path}` | {first.total} | {repeat.total} | {len(first.requests)} | "
                  f"{statistics.median(fcp):.0f} | {statistics.median(lcp):.0f} |")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
