"""The township dashboard and its compliance flags."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.accounts.models import utcnow
from app.deliberation.models import Authorisation, StageChange
from app.extensions import db as _db
from app.records import compliance, record
from tests.factories import make_user, make_village


def _codes(p):
    return {f.code for f in compliance.proposal_flags(p)}


def _history(p, *stages, start=None, step=timedelta(days=1)):
    at = start or utcnow() - step * len(stages)
    prev = None
    for s in stages:
        _db.session.add(StageChange(proposal=p, from_stage=prev, to_stage=s, at=at))
        prev, at = s, at + step
    p.stage = prev
    _db.session.flush()


def _polls(monkeypatch, *polls):
    monkeypatch.setattr(record, "export_polls", lambda p: list(polls))


def test_a_regular_history_raises_no_stage_flag(proposal_in, no_other_areas):
    p = proposal_in("draft")
    _history(p, "draft", "topic_consultation", "committee_deliberation")
    assert "stage_skipped" not in _codes(p)


def test_a_skipped_stage_is_flagged(proposal_in, no_other_areas):
    p = proposal_in("draft")
    _history(p, "draft", "topic_consultation", "villager_resolution")
    assert "stage_skipped" in _codes(p)


def test_a_stage_set_without_history_is_flagged(proposal_in, no_other_areas):
    assert "stage_skipped" in _codes(proposal_in("publicized"))


def test_leaving_the_notice_board_early_is_flagged(proposal_in, no_other_areas):
    p = proposal_in("draft")
    _history(p, "publicized", "implementing", step=timedelta(days=3))
    assert "notice_short" in _codes(p)


def test_a_full_notice_period_is_not_flagged(proposal_in, no_other_areas):
    # Posted at 10:00 on 1 November (Beijing): seven days end at 24:00 on 8 November.
    p = proposal_in("draft")
    _history(p, "publicized", "implementing", start=datetime(2026, 11, 1, 2), step=timedelta(days=7, hours=14))
    assert "notice_short" not in _codes(p)


def test_leaving_the_notice_board_one_minute_before_24_00_is_flagged(proposal_in, no_other_areas):
    p = proposal_in("draft")
    _history(p, "publicized", "implementing", start=datetime(2026, 11, 1, 2),
             step=timedelta(days=7, hours=13, minutes=59))
    assert "notice_short" in _codes(p)


def test_a_villagers_assembly_announced_too_late_is_flagged(proposal_in, monkeypatch):
    p = proposal_in("villager_resolution")
    p.assembly_announced_at = datetime(2026, 10, 25, 8)
    _polls(monkeypatch, {"stage": "villager_resolution", "opens_at": "2026-11-01T08:00:00Z",
                         "closes_at": "2026-11-01T18:00:00Z"})
    assert "notice_short" in _codes(p)
    p.assembly_announced_at = datetime(2026, 10, 20, 8)
    assert "notice_short" not in _codes(p)


def test_a_quorum_not_met_is_flagged(proposal_in, monkeypatch):
    _polls(monkeypatch, {"stage": "member_review", "opens_at": "2026-11-01T08:00:00",
                         "closes_at": "2026-11-01T18:00:00", "tally": {"quorum_met": False, "passed": False}})
    assert "quorum_not_met" in _codes(proposal_in("draft"))


def test_a_poll_closed_after_its_window_is_flagged(proposal_in, monkeypatch):
    _polls(monkeypatch, {"stage": "committee_deliberation", "opens_at": "2026-11-01T08:00:00",
                         "closes_at": "2026-11-01T18:00:00", "opened_at": "2026-11-01T08:00:00",
                         "closed_at": "2026-11-03T09:00:00"})
    assert "poll_outside_window" in _codes(proposal_in("member_review"))


def test_a_poll_within_its_window_is_not_flagged(proposal_in, monkeypatch):
    _polls(monkeypatch, {"stage": "committee_deliberation", "opens_at": "2026-11-01T08:00:00",
                         "closes_at": "2026-11-01T18:00:00", "opened_at": "2026-11-01T08:00:00",
                         "closed_at": "2026-11-01T18:01:00"})
    assert "poll_outside_window" not in _codes(proposal_in("member_review"))


def test_a_party_plan_sent_late_is_flagged(proposal_in, monkeypatch):
    p = proposal_in("member_review")
    _polls(monkeypatch, {"stage": "member_review", "opens_at": "2026-11-10T08:00:00",
                         "closes_at": "2026-11-10T18:00:00"})
    p.party_plan_sent_at = datetime(2026, 11, 9, 8)
    assert "party_plan_late" in _codes(p)
    # The vote opens at 16:00 on 10 November in Beijing: the plan must be out by 6 November
    # (7, 8 and 9 November are the three days); sent on the 7th it is one day late.
    p.party_plan_sent_at = datetime(2026, 11, 7, 8)
    assert "party_plan_late" in _codes(p)
    p.party_plan_sent_at = datetime(2026, 11, 6, 8)
    assert "party_plan_late" not in _codes(p)


def test_an_art24_matter_decided_by_unauthorised_representatives_is_flagged(cast, proposal_in, no_other_areas):
    p = proposal_in("publicized", matter_category="collective_income_use", deciding_body="representatives_assembly")
    assert "unauthorised_body" in _codes(p)
    p.authorisation = Authorisation(village_id=cast.village.id, matter_category="collective_income_use",
                                    granted_on=date(2026, 1, 1), reference="2026年村民会议决议",
                                    recorded_by_id=cast.committee.id)
    _db.session.flush()
    assert "unauthorised_body" not in _codes(p)


def test_an_ordinary_matter_before_the_representatives_is_not_flagged(proposal_in, no_other_areas):
    p = proposal_in("publicized", matter_category="general", deciding_body="representatives_assembly")
    assert "unauthorised_body" not in _codes(p)


def test_representatives_below_one_third_women_are_flagged(cast):
    for g in ("M", "M", "F"):
        make_user(["representative"], cast.village, gender=g)
    assert compliance.village_flags(cast.village) == []  # 1 of 3 is one third: fine
    make_user(["representative"], cast.village, gender="M")
    (flag,) = compliance.village_flags(cast.village)
    assert flag.code == "reps_few_women" and flag.detail == "1/4"


def test_the_dashboard_shows_every_village_of_the_township_with_its_flags(cast, proposal_in, login_as,
                                                                        no_other_areas):
    second = make_village(cast.village.township, name="第二村")
    make_village(name="外乡村")
    p = proposal_in("publicized", title="违规议题")
    p.stage_deadline = utcnow() - timedelta(days=1)
    b = login_as(cast.overseer)
    html = b.get(f"/oversight/townships/{cast.village.township_id}").get_data(as_text=True)
    assert cast.village.name in html and second.name in html and "外乡村" not in html
    # The township's page is the table; the flagged proposal is one click away, on its village's page.
    assert "⚑" in html and "违规议题" not in html and f"/oversight/villages/{cast.village.id}" in html
    village = b.get(f"/oversight/villages/{cast.village.id}").get_data(as_text=True)
    assert "违规议题" in village and "⚑" in village and f"/proposals/{p.id}/publication" in village
    assert b.client.get("/oversight").status_code == 302


def test_the_flags_csv_lists_each_flag(cast, proposal_in, login_as, no_other_areas):
    proposal_in("publicized", title="违规议题")
    from app.records.compliance import FLAG_LABELS

    csv = login_as(cast.overseer).client.get(f"/oversight/townships/{cast.village.township_id}/flags.csv")
    text = csv.get_data(as_text=True)
    # In words, like every export: the flag's label and the stage's name, never their codes.
    assert str(FLAG_LABELS["stage_skipped"]) in text and "违规议题" in text and "决议公开" in text
    assert "stage_skipped" not in text and "publicized" not in text


def test_an_objection_left_unanswered_past_its_reply_time_shows_as_overdue(cast, proposal_in, login_as,
                                                                          no_other_areas):
    from app.records import services

    o = services.file_objection(proposal_in("publicized", title="有逾期异议的议题"), cast.villager, "异议")
    o.reply_due_at = utcnow() - timedelta(hours=1)
    _db.session.flush()
    b = login_as(cast.overseer)
    html = b.get(f"/oversight/villages/{cast.village.id}").get_data(as_text=True)
    assert f"#objection-{o.id}" in html and "有逾期异议的议题" in html
    table = b.get(f"/oversight/townships/{cast.village.township_id}").get_data(as_text=True)
    row = table[table.index(f"/oversight/villages/{cast.village.id}"):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">1</td>' in row  # the late objection counts as overdue


@pytest.mark.parametrize("minutes, flagged", [(59, True), (60, False)])
def test_the_oversight_pages_read_a_moves_time_to_the_minute_as_the_record_does(cast, proposal_in, login_as,
                                                                             minutes, flagged):
    # Posted at 10:00 on 1 November (Beijing): the seven days end at 24:00 on 8 November;
    # the pages load the history as plain rows, and must judge it as the record does.
    p = proposal_in("draft", title="公示期议题")
    _history(p, "draft", "topic_consultation", "committee_deliberation", "member_review", "consensus_consultation",
             "villager_resolution", start=datetime(2026, 10, 20, 2))
    _history_more = [("villager_resolution", "publicized", datetime(2026, 11, 1, 2)),
                     ("publicized", "implementing", datetime(2026, 11, 1, 2) + timedelta(days=7, hours=13,
                                                                                         minutes=minutes))]
    for frm, to, at in _history_more:
        _db.session.add(StageChange(proposal=p, from_stage=frm, to_stage=to, at=at))
    p.stage = "implementing"
    _db.session.flush()
    assert ("notice_short" in _codes(p)) is flagged
    html = login_as(cast.overseer).get(f"/oversight/villages/{cast.village.id}").get_data(as_text=True)
    assert ("公示期议题" in html and "公示或通知期短于规则要求" in html) is flagged, html[html.find("合规提示"):][:600]
