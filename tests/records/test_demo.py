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
    demo.seed_objections(posted, cast.villager, cast.supervisor, second_villager=cast.committee)
    assert api.pending_objection_count(posted) == 1
    building = proposal_in("implementing")
    demo.seed_reports(building, cast.committee, cast.supervisor)
    assert api.report_counts(building) == (1, True)
    done = proposal_in("completed")
    demo.file_demo_record(done, cast.overseer)
    assert done.stage == "archived"
    odd = demo.seed_irregular_proposal(cast.village, cast.committee)
    assert "unauthorised_body" in {f.code for f in compliance.proposal_flags(odd)}
    assert verify_chain().ok
