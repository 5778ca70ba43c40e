"""The demo reads as one village: each proposal carries its own objections, reports and
figures, consistent with its budget and story, and no two proposals share a text."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from app.consultation.api import summary_of
from app.deliberation.models import Proposal
from app.extensions import db as _db
from app.records.record import objections_of, reports_of

WAN = re.compile(r"(\d+(?:\.\d+)?)\s*万元")
BUDGET = re.compile(r"预算(?:调整为)?\s*(\d+(?:\.\d+)?)\s*万元")
FLOOR = re.compile(r"底价每年\s*(\d+(?:\.\d+)?)\s*万元")


@pytest.fixture()
def demo(db, app, tmp_path, monkeypatch):
    from app.demo import seed_demo

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    seed_demo()
    _db.session.flush()
    return list(_db.session.scalars(select(Proposal).order_by(Proposal.id)))


def own_texts(proposal) -> str:
    """What the proposal itself says: its title, every version and its consultation summary."""
    parts = [proposal.title] + [v.body for v in proposal.versions]
    summary = summary_of(proposal)
    if summary is not None:
        parts += [summary.heard, summary.answer]
    return "\n".join(parts)


# Words every proposal's texts may use (the bodies of the village, "the whole way"): they
# say nothing about which proposal a text belongs to.
COMMON = ("村务监督委员会", "监委会", "全程监督", "监督", "村两委", "村民代表", "村集体", "村民", "公开")


def bigrams(text: str) -> set[str]:
    for word in COMMON:
        text = text.replace(word, " ")
    han = re.findall(r"[\u4e00-\u9fff]+", text)
    return {run[i:i + 2] for run in han for i in range(len(run) - 1)}


def after_texts(proposal) -> list[tuple[str, str]]:
    """(kind, text) of everything written about the proposal after its vote."""
    out = [("objection", o.body) for o in objections_of(proposal)]
    out += [("answer", o.answer) for o in objections_of(proposal) if o.answer]
    out += [(f"{r.kind} report", r.body) for r in reports_of(proposal)]
    out += [("opinion", r.opinion) for r in reports_of(proposal) if r.opinion]
    return out


def test_every_objection_and_report_belongs_to_its_own_proposal(demo):
    """A text shares more words with its own proposal than with any other: the road
    repair cannot carry the objection about the square's threshing floor (晒谷场)."""
    own = {p.id: bigrams(own_texts(p)) for p in demo}
    wrong = []
    for p in demo:
        for kind, text in after_texts(p):
            words = bigrams(text)
            mine = len(words & own[p.id])
            best_other = max((len(words & own[q.id]), q.title) for q in demo if q.id != p.id)
            if mine == 0 or mine <= best_other[0]:
                wrong.append(f"{p.title} — {kind} “{text}” reads as {best_other[1]}")
    assert wrong == [], "\n".join(wrong)
    assert sum(len(after_texts(p)) for p in demo) >= 10  # the demo has objections and reports at all


def test_report_figures_fall_within_the_proposals_budget(demo):
    """Every 万元 figure of a report is within the budget its proposal states (36–39 万元
    for the road), or at or above a tender's floor price; a report with money names a
    proposal whose text states one."""
    problems = []
    for p in demo:
        texts = own_texts(p)
        budgets = [float(x) for x in BUDGET.findall(texts)]
        floors = [float(x) for x in FLOOR.findall(texts)]
        for r in reports_of(p):
            for figure in map(float, WAN.findall(r.body)):
                if budgets and figure > max(budgets):
                    problems.append(f"{p.title}: {figure} 万元 is over the budget of {max(budgets)} 万元")
                elif floors and figure < min(floors):
                    problems.append(f"{p.title}: {figure} 万元 is under the floor price of {min(floors)} 万元")
                elif not budgets and not floors:
                    problems.append(f"{p.title}: {figure} 万元 in a report, but the proposal states no budget")
    assert problems == []
    road = next(p for p in demo if "道路" in p.title)
    final = next(r for r in reports_of(road) if r.kind == "final")
    assert 36 <= max(map(float, WAN.findall(final.body))) <= 39


def test_no_two_proposals_share_a_report_an_objection_or_a_summary(demo):
    seen: Counter = Counter()
    for p in demo:
        texts = {text for kind, text in after_texts(p) if kind in ("objection", "progress report", "final report")}
        summary = summary_of(p)
        if summary is not None:
            texts |= {summary.heard, summary.answer}
        seen.update(texts)
    shared = [text for text, n in seen.items() if n > 1]
    assert shared == []


def test_the_demo_reports_carry_photos_of_the_work(demo):
    photos = [ph for p in demo for r in reports_of(p) for ph in r.photos]
    assert photos and all(ph.size > 2000 for ph in photos)  # a picture, not a 1×1 dot
