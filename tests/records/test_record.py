"""The record (档案): the JSON export matches the database, the CLI prints the same,
exporting is audited, and the PDF carries the Chinese text."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.records import record, services
from app.records.models import AuditEvent

POLL = {"stage": "villager_resolution", "electorate": "adult_villagers", "secret": True, "roster_size": 120,
        "opens_at": "2026-11-01T08:00:00Z", "closes_at": "2026-11-01T18:00:00Z",
        "tally": {"yes": 80, "no": 10, "abstain": 5, "took_part": 95, "quorum_met": True, "passed": True,
                  "rule": "yes > half of those taking part"}}
THREAD = {"kind": "consensus", "posts": [{"stance": "concern", "body": "占地补偿？", "replies": [
    {"stance": "suggestion", "body": "按亩补偿"}]}]}


@pytest.fixture()
def full(cast, proposal_in, monkeypatch, app, tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setattr(record, "export_polls", lambda p: [POLL])
    monkeypatch.setattr(record, "export_threads", lambda p: [THREAD])
    monkeypatch.setattr(record, "export_disagreements", lambda p: [{"id": 1, "status": "resolved"}])
    p = proposal_in("publicized", title="修建村口文化广场")
    o = services.file_objection(p, cast.villager, "广场占用了晒谷场")
    services.answer_objection(o, cast.supervisor, "另择晒谷场，异议不成立", upheld=False)
    p.stage = "implementing"
    services.post_report(p, cast.committee, "广场地面硬化完成")
    return p


def test_the_record_has_every_field_of_the_contract(full):
    doc = record.build_record(full)
    for key in ("format_version", "proposal", "versions", "stage_history", "polls", "threads", "disagreements",
                "objections", "reports", "filing", "audit"):
        assert key in doc
    assert set(doc["proposal"]) >= {"id", "village_id", "title", "matter_category", "stage"}
    assert set(doc["polls"][0]) >= {"stage", "electorate", "secret", "roster_size", "opens_at", "closes_at", "tally"}
    assert doc["threads"][0]["posts"][0]["replies"][0]["stance"] == "suggestion"
    assert doc["disagreements"][0]["status"] == "resolved"


def test_the_export_matches_the_database(full, db):
    doc = json.loads(record.record_json(full))
    assert doc["proposal"] == {**doc["proposal"], "id": full.id, "village_id": full.village_id,
                               "title": "修建村口文化广场", "stage": "implementing"}
    assert [v["body"] for v in doc["versions"]] == [v.body for v in full.versions]
    (o,) = record.objections_of(full)
    assert doc["objections"] == [{**doc["objections"][0], "id": o.id, "status": "not_upheld", "body": o.body,
                                  "answer": o.answer, "upheld": False}]
    (r,) = record.reports_of(full)
    assert doc["reports"][0]["body"] == r.body and doc["reports"][0]["kind"] == "progress"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.payload.like(f'%"proposal_id":{full.id}%'))
                                .order_by(AuditEvent.seq)).all()
    assert [(e["seq"], e["hash"], e["prev_hash"]) for e in doc["audit"]] == [(e.seq, e.hash, e.prev_hash)
                                                                            for e in events]
    assert [e["kind"] for e in doc["audit"]] == ["objection.filed", "objection.answered", "report.posted"]


def test_the_stage_history_is_oldest_first_and_points_at_its_audit_event(cast, proposal_in, no_other_areas):
    pytest.importorskip("app.deliberation.engine")
    p = proposal_in("completed")
    services.file_record(p, cast.overseer, "同意备案")
    doc = record.build_record(p)
    (step,) = doc["stage_history"]
    assert (step["from"], step["to"], step["reason"]) == ("completed", "archived", "同意备案")
    assert step["actor"]["id"] == cast.overseer.id
    assert step["audit_seq"] in [e["seq"] for e in doc["audit"]]
    assert doc["filing"]["comment"] == "同意备案"


def test_the_command_prints_the_same_record_and_the_export_is_audited(full, runner, db):
    expected = record.build_record(full)
    before = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "record.exported"))
    result = runner.invoke(args=["export-record", str(full.id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == expected
    after = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "record.exported"))
    assert after == before + 1


def test_the_command_fails_for_an_unknown_proposal(runner):
    result = runner.invoke(args=["export-record", "987654"])
    assert result.exit_code == 1


def test_the_api_returns_the_same_record_to_the_overseer(full, cast, login_as):
    expected = record.build_record(full)
    b = login_as(cast.overseer)
    resp = b.get(f"/api/v1/proposals/{full.id}/record")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json() == expected
    listing = b.get(f"/api/v1/villages/{cast.village.id}/proposals").get_json()
    assert {"id": full.id, "title": full.title, "stage": "implementing"} in listing["proposals"]


def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    # pypdf reads fpdf2's embedded Identity-UCS encoding one byte at a time and puts a NUL
    # before each character; the ToUnicode map itself is right, so the NULs are dropped.
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def test_the_pdf_carries_the_chinese_text_of_the_record(full, cast, login_as):
    resp = login_as(cast.villager).client.get(f"/proposals/{full.id}/record.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _pdf_text(resp.data)
    for expected in ("村务决策档案：修建村口文化广场", "广场占用了晒谷场", "另择晒谷场，异议不成立", "广场地面硬化完成",
                     "事项类别：其他村务", "决策主体：村民会议", cast.village.name):
        assert expected in text, expected


def test_the_village_list_as_csv(full, cast, login_as):
    resp = login_as(cast.overseer).get(f"/villages/{cast.village.id}/proposals.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = resp.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[0].startswith("编号,标题,事项类别,决策主体,阶段") and any("修建村口文化广场" in r for r in rows[1:])
    row = next(r for r in rows[1:] if "修建村口文化广场" in r)
    # Words, not codes; Beijing time to the minute, not an ISO stamp.
    assert "实施中" in row and "implementing" not in row and "T" not in row.split(",")[5]


@pytest.mark.parametrize("form,needle", [("proposal", "提议表"), ("minutes", "议题协商"), ("sign_in", "签到表"),
                                         ("ballot", "同意"), ("resolution", "村民会议尚未表决"),
                                         ("notice", "广场占用了晒谷场")])
def test_the_paper_forms_are_printed_from_the_data(full, cast, login_as, form, needle):
    resp = login_as(cast.committee).get(f"/proposals/{full.id}/forms/{form}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert needle in html and "修建村口文化广场" in html


def test_a_title_that_looks_like_a_formula_is_defused_in_the_csv(cast, proposal_in, login_as, no_other_areas):
    proposal_in("publicized", title="=HYPERLINK(\"x\")")
    text = login_as(cast.overseer).client.get(f"/villages/{cast.village.id}/proposals.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
