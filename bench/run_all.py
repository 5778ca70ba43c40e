"""Every benchmark end to end, on SQLite and PostgreSQL, against 127.0.0.1 only; writes
the tables into docs/performance.md between its markers. This is `make bench`.

    .venv/bin/python bench/run_all.py [--pg-url URL] [--only journey,burst,villages,read,fault]
        [--no-docs] [--json FILE] [--from-json FILE]

(a) the villager's journey, (b) the vote burst with (d) the floor back to back,
(b') ten villages voting at once (PostgreSQL), (c) the read pages at county size, and
the fault run. Each part runs in its own fresh database; a part that fails is written
into the tables as failed (with its reason) and the others still run. Bounded: each
part has its own timeouts; the whole stays under 10 minutes on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _server  # noqa: E402
import bench_read_pages  # noqa: E402
import bench_voting  # noqa: E402
import fault_run  # noqa: E402

DOC = _server.ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PARTS = ("journey", "burst", "villages", "read", "fault")
WALKERS, READ_REQUESTS, FAULT_VOTERS = 20, 20, 500
# Burst rounds, alternating which server goes first: the machine drifts by a third from
# minute to minute, and more rounds make the mean ratio steadier.
BURST_ROUNDS = 4


def machine(pg_url: str) -> dict:
    import psycopg

    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    try:
        _server.ensure_pg_database(pg_url)
        with psycopg.connect(pg_url, connect_timeout=10) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    except psycopg.Error as exc:
        pg = f"unreachable ({exc.__class__.__name__})"
    return {"cores": os.cpu_count(), "ram_gb": round(int(mem.group(1)) / 2**20, 1) if mem else None,
            "sqlite": sqlite3.sqlite_version, "postgresql": pg, "python": platform.python_version(),
            "load_before": round(os.getloadavg()[0], 1)}


def run(parts: list[str], pg_url: str) -> dict:
    out: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(pg_url)}
    started = time.monotonic()

    def attempt(name, fn):
        t0 = time.monotonic()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 — one failed part must not hide the others
            traceback.print_exc()
            value = {"failed": f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[-1][:200]}"}
        print(f"{name}: {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
        return value

    for backend in ("sqlite", "postgresql"):
        # The journeys run on the burst's app server just before the burst (one set-up, not two).
        walkers = WALKERS if "journey" in parts else 0
        if "burst" in parts:
            results = attempt(f"burst {backend}", lambda: bench_voting.burst(
                backend, clients=100, voters=1000, pg_url=pg_url, walkers=walkers, rounds=BURST_ROUNDS))
            if walkers:
                out.setdefault("journey", []).append(results.pop() if isinstance(results, list) else results)
            out.setdefault("burst", []).append(results)
        elif walkers:
            out.setdefault("journey", []).append(attempt(f"journey {backend}", lambda: bench_voting.journey(
                backend, walkers=walkers, pg_url=pg_url)))
    if "villages" in parts:
        out["villages"] = [attempt("10 villages postgresql", lambda: bench_voting.burst(
            "postgresql", clients=100, voters=100, villages=10, pg_url=pg_url))]
    for backend in ("sqlite", "postgresql"):
        if "read" in parts:
            out.setdefault("read", []).append(attempt(f"read {backend}", lambda: bench_read_pages.measure(
                backend, requests=READ_REQUESTS, pg_url=pg_url)))
    for backend in ("sqlite", "postgresql"):
        if "fault" in parts:
            out.setdefault("fault", []).append(attempt(f"fault {backend}", lambda: fault_run.fault_run(
                backend, voters=FAULT_VOTERS)))
    out["minutes"] = round((time.monotonic() - started) / 60, 1)
    out["machine"]["load_after"] = round(os.getloadavg()[0], 1)
    return out


# --- the tables -----------------------------------------------------------------------

def _n(x, unit="") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.1f}{unit}"
    return f"{x:,}{unit}" if isinstance(x, int) else f"{x}{unit}"


def _ms(x) -> str:
    return "–" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.1f}")


def _failed(part) -> str | None:
    return part.get("failed") if isinstance(part, dict) else None


def _burst_rows(results: list) -> list[str]:
    rows = ["| database | served | clients | requests | votes/s | p50 ms | p95 ms | p99 ms | errors | "
            "server CPU per vote | lost | duplicates | app ÷ floor (votes/s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for group in results:
        if _failed(group):
            rows.append(f"| failed: {_failed(group)} |" + " |" * 12)
            continue
        for r in group:
            name = "app" if r["app"] == "app" else "floor (bare Flask, same writes)"
            if r.get("round") and any(x.get("round", 1) > 1 for x in group):
                name += f", round {r['round']}"
            ratio = f"{r['app_over_floor']:.2f}" if "app_over_floor" in r else ""
            rows.append(f"| {r['backend']} | {name} | {r['clients']:,} | {r['requests']:,} | "
                        f"{r['votes_per_second']} | {_ms(r['p50_ms'])} | {_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | "
                        f"{r['errors']} | {r['server_cpu_ms_per_vote']} ms | {_n(r.get('lost'))} | "
                        f"{_n(r.get('duplicates'))} | {ratio} |")
    means = [(r["backend"], r["app_over_floor_mean"]) for group in results if not _failed(group)
             for r in group if "app_over_floor_mean" in r]
    if means:
        rows += ["", f"App ÷ floor, the mean of the {BURST_ROUNDS} rounds (in turn app then floor, and floor "
                 "then app): "
                 + "; ".join(f"{b} **{m:.2f}**" for b, m in means) + "."]
    return rows


def tables(out: dict) -> str:
    m = out["machine"]
    lines = [START, "",
             f"Measured {out['date']} by `make bench` ({out['minutes']} minutes): {m['cores']} cores, "
             f"{m['ram_gb']} GB RAM, SQLite {m['sqlite']} (WAL, synchronous=FULL), PostgreSQL {m['postgresql']} "
             f"on loopback, Python {m['python']}; load average {m['load_before']} before and "
             f"{m['load_after']} after (the clients run on the same cores as the server).", ""]
    if "journey" in out:
        lines += ["### (a) A villager's whole journey", "",
                  "Each villager signs in with the password, opens the home page, the proposal and the poll, "
                  f"confirms, casts, sees the receipt, then changes the vote the same way. {WALKERS} villagers, "
                  "10 at a time, on the burst's app server just before the burst (gunicorn with 4 workers). "
                  "Milliseconds per step, p50 / p95.", ""]
        ok = [j for j in out["journey"] if not _failed(j)]
        steps = list(dict.fromkeys(s for j in ok for s in j["steps"]))
        lines.append("| step | " + " | ".join(j["backend"] for j in ok) + " |")
        lines.append("|---|" + "---|" * len(ok))
        for s in steps:
            lines.append(f"| {s} | " + " | ".join(f"{_ms(j['steps'][s]['p50_ms'])} / {_ms(j['steps'][s]['p95_ms'])}"
                                                 for j in ok) + " |")
        lines.append("| **whole journey** | " + " | ".join(f"{_ms(j['whole_p50_ms'])} / {_ms(j['whole_p95_ms'])}"
                                                          for j in ok) + " |")
        lines.append("| receipts shown / errors | " + " | ".join(
            f"{j['receipts_shown']} of {j['journeys']} / {j['errors']}" for j in ok) + " |")
        lines += [f"\nFailed: {_failed(j)}" for j in out["journey"] if _failed(j)] + [""]
    if "burst" in out:
        lines += ["### (b, d) The vote burst and its floor", "",
                  "1,000 voters, 100 clients at once (each casts its voters' ballots one after the other; every "
                  "tenth voter changes the ballot once more: 1,100 requests), against the app and then against "
                  "the floor on the same database, gunicorn with 4 sync workers for both; "
                  f"{BURST_ROUNDS} rounds, each on another village's 1,000 voters, every second one the floor "
                  "first. Before it is measured each server is "
                  "warmed by the 40 voters of a village of its own. Server CPU: the gunicorn workers' user + "
                  "system time per request (the database server's not included).", ""]
        lines += _burst_rows(out["burst"]) + [""]
    if "villages" in out:
        lines += ["### (b) Ten villages voting at once (PostgreSQL)", "",
                  "10 villages, each with its own open poll and 100 voters; 100 clients per village (1,000 "
                  "clients, 1,100 requests), all at once. The floor keeps one chain head per village.", ""]
        lines += _burst_rows(out["villages"]) + [""]
    if "read" in out:
        lines += ["### (c) Read pages at county size", "",
                  "300 villages in one township, 1,000 proposals in one village, a thread of 500 opinions with "
                  f"500 replies; gunicorn with 2 workers, one client, 5 warm-up requests then {READ_REQUESTS}. "
                  "Bytes: the body, "
                  "and gzip (level 6) of it. Queries: statements of one request.", "",
                  "| database | page | p50 ms | p95 ms | p99 ms | bytes | gzip bytes | queries |",
                  "|---|---|---|---|---|---|---|---|"]
        for group in out["read"]:
            if _failed(group):
                lines.append(f"| failed: {_failed(group)} |" + " |" * 7)
                continue
            for r in group:
                lines.append(f"| {r['backend']} | {r['page']} | {_ms(r['p50_ms'])} | {_ms(r['p95_ms'])} | "
                             f"{_ms(r['p99_ms'])} | {r['bytes']:,} | {r['gzip_bytes']:,} | {r['queries']} |")
        lines.append("")
    if "fault" in out:
        lines += ["### The fault run", "",
                  f"{FAULT_VOTERS} voters, 100 clients retrying with the same request key after a dropped "
                  "connection or a 5xx; gunicorn with 4 workers, two of them killed with SIGKILL at 15% and 35% "
                  "of the casts; on PostgreSQL its private cluster restarted (fast) at 55%. Checked afterwards: "
                  "receipted votes present, one counted ballot per voter, `flask --app wsgi audit verify`, "
                  "`PRAGMA integrity_check`.", "",
                  "| database | casts | requests | retries | failed attempts | receipted | given up | lost | "
                  "duplicates | audit verify | integrity check | faults |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in out["fault"]:
            if _failed(r) or "skipped" in r:
                lines.append(f"| {r.get('backend', '')} | {_failed(r) or 'skipped: ' + r['skipped']} |" + " |" * 10)
                continue
            failed = ", ".join(f"{k} × {v}" for k, v in r["failed_attempts"].items()) or "none"
            faults = "; ".join(f"{f['fault']} after {f['after_casts']}" + (f" ({f['seconds']} s)" if "seconds" in f
                                                                           else "") for f in r["faults"])
            lines.append(f"| {r['backend']} | {r['casts']:,} | {r['requests']:,} | {r['retries']} | {failed} | "
                         f"{r['receipted']:,} | {r['errors']} | **{r['lost']}** | **{r['duplicates']}** | "
                         f"{'ok' if r['audit_verify_ok'] else 'FAILED'} | {r['integrity_check'] or '–'} | {faults} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_doc(out: dict) -> None:
    text = DOC.read_text()
    block = tables(out)
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=_server.PG_URL)
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated: " + ",".join(PARTS))
    parser.add_argument("--no-docs", action="store_true", help="print the tables, leave docs/performance.md")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--from-json", help="write the tables from a file --json wrote, without running")
    args = parser.parse_args()
    if args.from_json:
        out = json.loads(Path(args.from_json).read_text())
        print(tables(out))
        if not args.no_docs:
            write_doc(out)
        return
    parts = [p for p in args.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    out = run(parts, args.pg_url)
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    print(tables(out))
    if not args.no_docs:
        write_doc(out)
        print(f"docs/performance.md updated ({out['minutes']} minutes)", file=sys.stderr)


if __name__ == "__main__":
    main()
