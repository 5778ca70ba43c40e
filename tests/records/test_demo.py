"""The records demo functions work on proposals in their stages and keep the chain intact."""
from __future__ import annotations

import pytest

from app.records import api, compliance, demo
from app.records.audit import verify_chain


def test_the_demo_objections_reports_filing_and_irregular_proposal(cast, proposal_in, app, tmp_path, monkeypatch,
                                                                   no_other_areas):
    pytest.importorskip("app.deliberation.engine")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    posted = proposal_in("publicized")
    demo.seed_objections(posted, cast.supervisor, [
        (cast.villager, demo.Objection("路灯照进卧室。", answer="已移位并加遮光罩，异议不成立。")),
        (cast.committee, demo.Objection("请公布路灯价格。"))])
    assert api.pending_objection_count(posted) == 1
    building = proposal_in("implementing")
    demo.seed_reports(building, cast.committee, cast.supervisor,
                      demo.Reports(progress="路基完成。", opinion="属实。", final="全部完工。"))
    assert api.report_counts(building) == (1, True)
    assert building.stage == "implementing"
    done = proposal_in("completed")
    demo.file_demo_record(done, cast.overseer)
    assert done.stage == "archived"
    odd = demo.seed_irregular_proposal(cast.village, cast.committee)
    assert "unauthorised_body" in {f.code for f in compliance.proposal_flags(odd)}
    assert verify_chain().ok
