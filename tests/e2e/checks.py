"""What the browser tests measure on a page: axe-core's WCAG A/AA rules, bytes
transferred (compressed, as the phone receives them), other hosts asked, layout fit,
tap targets and paint time under an emulated slow network."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

# Slow 3G as the issue defines it: 400 kbit/s both ways, 400 ms round trip.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8,
           "uploadThroughput": 400 * 1000 / 8}
CPU_SLOWDOWN = 4


def axe_violations(page) -> list[str]:
    """Every WCAG 2.2 A/AA violation on the page, one line each ("" when none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    lines = []
    for v in results.response["violations"]:
        targets = ", ".join(str(n["target"]) for n in v["nodes"][:4])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return lines


@dataclass
class Traffic:
    """Bytes and requests seen by the browser's network layer for one page load."""

    requests: list[tuple[str, int, bool]] = field(default_factory=list)  # url, bytes, from cache

    @property
    def total(self) -> int:
        return sum(n for _, n, _ in self.requests)

    def hosts(self) -> set[str]:
        return {urlsplit(u).netloc for u, _, _ in self.requests if u.startswith("http")}

    def report(self) -> str:
        return "\n".join(f"{n:>7} {'cache' if c else '     '} {u}" for u, n, c in self.requests)


class Recorder:
    """Counts encodedDataLength (bytes on the wire, headers included) per request via CDP."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self._urls: dict[str, str] = {}
        self._cached: set[str] = set()
        self._bytes: dict[str, int] = {}
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.requestServedFromCache", lambda e: self._cached.add(e["requestId"]))
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, e):
        self._urls[e["requestId"]] = e["request"]["url"]

    def _received(self, e):
        if e["response"].get("fromDiskCache") or e["response"].get("fromMemoryCache"):
            self._cached.add(e["requestId"])

    def _finished(self, e):
        self._bytes[e["requestId"]] = int(e.get("encodedDataLength", 0))

    def clear_cache(self):
        self.cdp.send("Network.clearBrowserCache")

    def start(self):
        self._urls.clear()
        self._cached.clear()
        self._bytes.clear()

    def traffic(self) -> Traffic:
        t = Traffic()
        for rid, url in self._urls.items():
            if url.startswith("data:"):
                continue
            t.requests.append((url, self._bytes.get(rid, 0), rid in self._cached))
        return t

    def measure(self, url: str) -> Traffic:
        self.start()
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.traffic()

    def throttle(self, on: bool = True):
        if on:
            self.cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        else:
            self.cdp.send("Network.emulateNetworkConditions",
                          {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
            self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})


PAINT_JS = """() => new Promise(resolve => {
  const out = {fcp: null, lcp: null};
  new PerformanceObserver(list => { for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') out.fcp = e.startTime; })
    .observe({type: 'paint', buffered: true});
  new PerformanceObserver(list => { for (const e of list.getEntries()) out.lcp = e.startTime; })
    .observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => resolve(out), 100);
})"""


def paint_times(page) -> dict:
    """First and largest contentful paint of the current page, in ms from navigation start."""
    return page.evaluate(PAINT_JS)


FIT_JS = "() => document.documentElement.scrollWidth"

TARGETS_JS = """(min) => {
  const small = [];
  const seen = new Set();
  const visible = el => { const r = el.getBoundingClientRect();
    // checkVisibility also sees what a closed <details> hides (content-visibility).
    return r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true}); };
  const check = (el, box) => {
    const r = box.getBoundingClientRect();
    if (r.height + 0.5 < min || r.width + 0.5 < min) small.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  };
  for (const el of document.querySelectorAll('button, a.btn, select, input, textarea, summary, a')) {
    if (!visible(el) || seen.has(el) || el.closest('.skip') || el.type === 'hidden') continue;
    seen.add(el);
    // Every link is a target, a link inside a sentence too: a thumb cannot aim at 16 px
    // of text, so a link that would be small stands on its own line (see app.css).
    if (el.type === 'checkbox' || el.type === 'radio') { const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)); check(el, label || el); continue; }
    check(el, el);
  }
  return small;
}"""


def small_targets(page, minimum: int) -> list[str]:
    """Visible controls and links smaller than minimum × minimum px."""
    return page.evaluate(TARGETS_JS, minimum)


def body_font_px(page) -> float:
    return page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")


MARKERS_JS = """() => [...document.querySelectorAll('details > summary')].filter(s => {
  const r = s.getBoundingClientRect();
  if (!r.width || !r.height) return false;
  const before = getComputedStyle(s, '::before').content;
  const marker = getComputedStyle(s).display === 'list-item' && getComputedStyle(s).listStyleType !== 'none';
  return !marker && (!before || before === 'none' || before === 'normal');
}).map(s => (s.innerText || '').trim().slice(0, 30))"""


def summaries_without_marker(page) -> list[str]:
    """Visible collapsed-section headings (<summary>) that show no sign that they open."""
    return page.evaluate(MARKERS_JS)
