"""The load client every benchmark shares: threads, each with one keep-alive
http.client connection to 127.0.0.1, started together at a barrier.

A cast is the vote form's POST (`csrf_token`, `choice`, `request_key`) to
/polls/<id>/cast; it is *receipted* when the answer is the 302 back to the poll page,
and its receipt is read from the session cookie that answer sets (as the poll page
would show it). With `retry=True` a client sends the same POST again, with the same
request key, after a connection error or a 5xx, until it is receipted or its patience
(`patience` seconds) runs out; a 4xx is not retried. Every wait is bounded.
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import statistics
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

CHOICES = ("yes", "no", "abstain")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
KEY_RE = re.compile(r'<input(?=[^>]*name="request_key")[^>]*value="([^"]+)"')


def flask_session(cookie: str) -> dict:
    """The contents of a Flask session cookie (read, not verified: the client's own)."""
    compressed = cookie.startswith(".")
    payload = cookie[1:] if compressed else cookie
    payload = payload.split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if compressed:
        data = zlib.decompress(data)
    return json.loads(data)


def session_cookie(resp: http.client.HTTPResponse) -> str | None:
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0][len("session="):]
    return None


class Browser:
    """One phone: a keep-alive connection and its session cookie."""

    def __init__(self, port: int, cookie: str | None = None, timeout: float = 60):
        self.port, self.cookie, self.timeout = port, cookie, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.csrf: str | None = None

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str, float]:
        """Returns (status, headers, body, seconds); keeps the cookie and the page's CSRF token."""
        headers = {"Host": "127.0.0.1"}
        if self.cookie:
            headers["Cookie"] = f"session={self.cookie}"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.reconnect()
            raise
        elapsed = time.perf_counter() - start
        cookie = session_cookie(resp)
        if cookie:
            self.cookie = cookie
        text = data.decode("utf-8", "replace")
        m = CSRF_RE.search(text)
        if m:
            self.csrf = m.group(1) or m.group(2)
        if resp.getheader("Connection", "").lower() == "close":
            self.reconnect()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text, elapsed

    def close(self) -> None:
        self.conn.close()


@dataclass
class Outcome:
    """What the clients saw."""
    latencies: list = field(default_factory=list)   # every answered request, seconds
    errors: dict = field(default_factory=dict)      # kind -> count (after retries: what was given up)
    failures: dict = field(default_factory=dict)    # kind -> count of attempts that failed (retried or not)
    receipted: list = field(default_factory=list)   # (person_id, poll_id, casts receipted so far, receipt)
    requests: int = 0
    retries: int = 0
    casts: int = 0
    seconds: float = 0.0

    def add_error(self, kind: str, given_up: bool) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1
        if given_up:
            self.errors[kind] = self.errors.get(kind, 0) + 1


class Burst:
    """Clients casting the ballots of their voters, one after the other; every tenth
    voter changes the ballot once more. Start it, watch `done`, join it."""

    def __init__(self, port: int, sessions: list[dict], clients: int, *, retry: bool = False,
                 change_every: int = 10, patience: float = 90, timeout: float = 120):
        self.port, self.retry, self.patience, self.timeout = port, retry, patience, timeout
        self.change_every = change_every
        clients = max(1, min(clients, len(sessions)))
        self.barrier = threading.Barrier(clients + 1)
        self.lock = threading.Lock()
        self.outcome = Outcome()
        self.done = 0
        numbered = list(enumerate(sessions))  # the tenth voters overall change, however they are dealt out
        chunks = [numbered[i::clients] for i in range(clients)]
        self.total = sum(2 if n % change_every == 0 else 1 for n, _s in numbered)
        self.threads = [threading.Thread(target=self._client, args=(chunk,), daemon=True) for chunk in chunks]

    def start(self) -> "Burst":
        for t in self.threads:
            t.start()
        self.barrier.wait(timeout=120)
        self._started = time.perf_counter()
        return self

    def join(self, seconds: float = 900) -> Outcome:
        deadline = time.monotonic() + seconds
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        self.outcome.seconds = time.perf_counter() - self._started
        return self.outcome

    def run(self) -> Outcome:
        return self.start().join()

    def _client(self, sessions: list[tuple[int, dict]]) -> None:
        self.barrier.wait(timeout=120)
        for n, s in sessions:
            browser = Browser(self.port, s["cookie"], self.timeout)
            casts = 2 if n % self.change_every == 0 else 1
            receipted = 0
            for attempt in range(casts):
                choice = CHOICES[(s["person_id"] + attempt) % 3]
                receipt = self._cast(browser, s, choice)
                if receipt is not None:
                    receipted += 1
                    with self.lock:
                        self.outcome.receipted.append((s["person_id"], s["poll_id"], receipted, receipt))
                with self.lock:
                    self.done += 1
            browser.close()

    def _cast(self, browser: Browser, s: dict, choice: str) -> str | None:
        form = {"csrf_token": s["csrf"], "choice": choice, "request_key": uuid.uuid4().hex}
        path = f"/polls/{s['poll_id']}/cast"
        deadline = time.monotonic() + self.patience
        first = True
        with self.lock:
            self.outcome.casts += 1
        while True:
            if not first:
                with self.lock:
                    self.outcome.retries += 1
            first = False
            kind = None
            try:
                status, headers, _body, elapsed = browser.request("POST", path, form)
            except (OSError, http.client.HTTPException) as exc:
                kind = type(exc).__name__
            else:
                with self.lock:
                    self.outcome.requests += 1
                    self.outcome.latencies.append(elapsed)
                if status == 302 and headers.get("location", "").endswith(f"/polls/{s['poll_id']}"):
                    receipts = flask_session(browser.cookie or "").get("voting_receipts") or {}
                    return receipts.get(str(s["poll_id"]), "")
                # Our own page says in Chinese that the choice was not saved; a bare server page does not.
                kind = f"HTTP {status}" + ("" if status < 500 or "共议" in _body else " (not our page)")
                if status < 500:
                    with self.lock:
                        self.outcome.add_error(kind, True)
                    return None
            give_up = not self.retry or time.monotonic() > deadline
            with self.lock:
                self.outcome.add_error(kind, give_up)
            if give_up:
                return None
            time.sleep(0.2)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(outcome: Outcome) -> dict:
    lat = outcome.latencies
    return {"requests": outcome.requests, "seconds": round(outcome.seconds, 2),
            "votes_per_second": round(outcome.requests / outcome.seconds, 1) if outcome.seconds else 0,
            "p50_ms": round(pct(lat, .50) * 1000, 1), "p95_ms": round(pct(lat, .95) * 1000, 1),
            "p99_ms": round(pct(lat, .99) * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
            "errors": sum(outcome.errors.values()), "error_kinds": outcome.errors,
            "retries": outcome.retries, "receipted": len(outcome.receipted)}


def check_counted(outcome: Outcome, counted: dict) -> dict:
    """Lost: a receipted voter with no participation row, or whose row holds neither the
    last receipt they saw nor a later cast. Duplicates: more than one participation row
    or counted ballot for one voter. Applied twice: casts counted beyond those sent."""
    last: dict[int, tuple[int, str]] = {}
    for person, _poll, n, receipt in outcome.receipted:
        if person not in last or n > last[person][0]:
            last[person] = (n, receipt)
    lost = stale = 0
    for person, (n, receipt) in last.items():
        rows = counted["voters"].get(str(person))
        if not rows:
            lost += 1
        elif rows[0]["receipt"] != receipt and rows[0]["times_cast"] <= n:
            stale += 1
    duplicates = sum(1 for rows in counted["voters"].values()
                     if len(rows) > 1 or any(r["counted"] > 1 for r in rows))
    return {"receipted_voters": len(last), "lost": lost + stale, "duplicates": duplicates,
            "voters_counted": len(counted["voters"])}


def journey(port: int, walker: dict, password: str) -> dict:
    """One villager's whole path: sign in with the password, home, the proposal, the
    poll, confirm, cast, see the receipt, change the vote (confirm, cast, receipt).
    Returns each step's seconds and whether the receipts were shown."""
    b = Browser(port)
    steps: dict[str, float] = {}
    poll = walker["poll_id"]

    def step(name, method, path, form=None, expect=(200,)):
        status, headers, body, elapsed = b.request(method, path, form)
        if status not in expect:
            raise RuntimeError(f"{name}: HTTP {status} on {path}")
        steps[name] = steps.get(name, 0) + elapsed
        return headers, body

    try:
        step("sign-in page", "GET", "/login")
        step("sign in", "POST", "/login", {"csrf_token": b.csrf, "phone": walker["phone"], "password": password},
             expect=(302,))
        step("home", "GET", "/")
        step("proposal", "GET", f"/proposals/{walker['proposal_id']}")
        shown = []
        for n, choice in enumerate(("yes", "no")):
            suffix = "" if n == 0 else " (change)"
            step("poll page" + suffix, "GET", f"/polls/{poll}")
            _h, page = step("confirm" + suffix, "POST", f"/polls/{poll}/confirm",
                            {"csrf_token": b.csrf, "choice": choice})
            key = KEY_RE.search(page)  # the form's own key when it carries one, as a browser sends it
            step("cast" + suffix, "POST", f"/polls/{poll}/cast",
                 {"csrf_token": b.csrf, "choice": choice, "request_key": key.group(1) if key else uuid.uuid4().hex},
                 expect=(302,))
            receipt = (flask_session(b.cookie).get("voting_receipts") or {}).get(str(poll))
            _h, page = step("receipt" + suffix, "GET", f"/polls/{poll}")
            shown.append(bool(receipt) and receipt in page)
        return {"steps": steps, "receipts_shown": all(shown), "error": None}
    except (RuntimeError, OSError, http.client.HTTPException) as exc:
        return {"steps": steps, "receipts_shown": False, "error": str(exc)}
    finally:
        b.close()


def journeys(port: int, walkers: list[dict], password: str, clients: int) -> dict:
    """The journeys of all walkers, `clients` at a time; per step p50/p95/p99."""
    results: list[dict] = []
    lock = threading.Lock()
    queue = list(walkers)

    def run():
        while True:
            with lock:
                if not queue:
                    return
                w = queue.pop()
            r = journey(port, w, password)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(max(1, clients))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    seconds = time.perf_counter() - start
    names = list(dict.fromkeys(n for r in results for n in r["steps"]))
    per_step = {n: {"p50_ms": round(pct([r["steps"][n] for r in results if n in r["steps"]], .5) * 1000, 1),
                    "p95_ms": round(pct([r["steps"][n] for r in results if n in r["steps"]], .95) * 1000, 1),
                    "p99_ms": round(pct([r["steps"][n] for r in results if n in r["steps"]], .99) * 1000, 1)}
                for n in names}
    whole = [sum(r["steps"].values()) for r in results if r["error"] is None]
    return {"journeys": len(results), "clients": clients, "seconds": round(seconds, 2),
            "errors": sum(1 for r in results if r["error"]),
            "first_error": next((r["error"] for r in results if r["error"]), None),
            "receipts_shown": sum(1 for r in results if r["receipts_shown"]),
            "whole_p50_ms": round(pct(whole, .5) * 1000, 1), "whole_p95_ms": round(pct(whole, .95) * 1000, 1),
            "steps": per_step}
