"""Lighthouse 12 (default mobile mode: simulated slow 4G, 4x CPU, Moto G Power screen)
on the sign-in, home, proposal and voting pages of a fresh demo site.

    python bench/lighthouse.py [BASE_URL [extra paths…]]

Without BASE_URL it starts its own gunicorn on a fresh, migrated and seeded database.
Prints a markdown table for docs/performance.md and exits 1 when a page misses the
budget of issue 7: FCP ≤ 2.0 s, LCP ≤ 2.5 s, TTI ≤ 5.0 s, accessibility 100.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.site import crawl  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BUDGET = {"fcp": 2000, "lcp": 2500, "tti": 5000}
VILLAGER = "13900000011"


@contextmanager
def demo_site():
    from tests.e2e.conftest import live_server

    gen = live_server.__wrapped__()  # the browser tests' own server: migrated, seeded, gunicorn
    try:
        yield next(gen)
    finally:
        gen.close()


def signed_in(base: str) -> tuple[str, dict[str, str]]:
    """The villager's session cookie and the paths of a proposal and a vote."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(base_url=base, viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.goto("/login")
        page.locator("input[name=phone]").fill(VILLAGER)
        page.locator("input[name=password]").fill("gongyi-demo")
        page.locator("main form button.primary").click()
        page.wait_for_url("**/")
        found = crawl(page)
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
        browser.close()
    return cookie, found


def run_lighthouse(url: str, cookie: str | None, out: Path) -> dict:
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility", f"--chrome-path={CHROMIUM}",
           "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(cmd, check=True, timeout=300, env={**os.environ, "CHROME_PATH": CHROMIUM})
    report = json.loads(out.read_text())
    audits = report["audits"]
    return {
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tti": audits["interactive"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "bytes": audits["total-byte-weight"]["numericValue"],
    }


def main(base: str | None = None, *extra: str) -> int:
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: make lighthouse installs it")
    with (demo_site() if base is None else _given(base)) as site:
        cookie, found = signed_in(site)
        pages = [("sign-in", "/login", None), ("home", "/", cookie),
                 ("proposal", found["proposal"], cookie), ("voting", found["poll"], cookie)]
        pages += [("page", path, cookie) for path in extra]
        failed = False
        print("| page | FCP (ms) | LCP (ms) | TTI (ms) | TBT (ms) | bytes | performance | accessibility |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        with tempfile.TemporaryDirectory() as tmp:
            for name, path, c in pages:
                r = run_lighthouse(site + path, c, Path(tmp) / f"{name}.json")
                ok = (r["fcp"] <= BUDGET["fcp"] and r["lcp"] <= BUDGET["lcp"] and r["tti"] <= BUDGET["tti"]
                      and r["accessibility"] == 100)
                failed |= not ok
                print(f"| {name} `{path}` | {r['fcp']:.0f} | {r['lcp']:.0f} | {r['tti']:.0f} | {r['tbt']:.0f} | "
                      f"{r['bytes']:.0f} | {r['performance']} | {r['accessibility']} |{'' if ok else ' over budget'}")
    return 1 if failed else 0


@contextmanager
def _given(base: str):
    yield base.rstrip("/")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
