"""Objections during the notice period (决议公开) and their reply deadlines."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app import clock
from app.clock import travel_to, utcnow
from app.records import api, services
from app.records.services import RecordsError


def test_objection_filed_during_the_notice_period_is_pending_and_due_after_the_reply_days(cast, proposal_in):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "占用了我家的菜地")
    assert o.status == "pending"
    # Due at 24:00 Beijing time of the fifth day after the day it was filed.
    assert o.reply_due_at == clock.period_end(o.filed_at, cast.village.rule_profile.objection_reply_days)
    assert api.pending_objection_count(p) == 1
    assert api.upheld_objection_count(p) == 0


def test_objection_after_the_notice_period_is_refused(cast, proposal_in, db):
    # Posted at 10:00 on 1 December Beijing time: objections until 24:00 on 8 December.
    p = proposal_in("publicized")
    p.stage_entered_at = datetime(2026, 12, 1, 2)
    with travel_to(datetime(2026, 12, 8, 15, 59)):
        services.file_objection(p, cast.villager, "最后一分钟")
    with travel_to(datetime(2026, 12, 8, 16, 0)), pytest.raises(RecordsError):
        services.file_objection(p, cast.villager, "太晚了")


@pytest.mark.parametrize("stage", ["villager_resolution", "implementing", "completed", "archived", "rejected"])
def test_objection_outside_the_publicized_stage_is_refused(cast, proposal_in, stage):
    p = proposal_in(stage)
    with pytest.raises(RecordsError):
        services.file_objection(p, cast.villager, "异议")


def test_objection_from_another_village_is_refused(cast, proposal_in):
    from tests.factories import make_user

    stranger = make_user(["villager"])
    with pytest.raises(RecordsError):
        services.file_objection(proposal_in("publicized"), stranger, "异议")


def test_empty_objection_is_refused(cast, proposal_in):
    with pytest.raises(RecordsError):
        services.file_objection(proposal_in("publicized"), cast.villager, "   ")


def test_supervisor_answer_upholds_an_objection(cast, proposal_in):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "补偿标准不清楚")
    services.answer_objection(o, cast.supervisor, "情况属实，需重新协商", upheld=True)
    assert o.status == "upheld" and not o.is_overdue()
    assert api.pending_objection_count(p) == 0
    assert api.upheld_objection_count(p) == 1


def test_answer_not_upheld_leaves_no_upheld_objection(cast, proposal_in):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "不同意")
    services.answer_objection(o, cast.supervisor, "经核实，程序合规", upheld=False)
    assert o.status == "not_upheld"
    assert api.upheld_objection_count(p) == 0


@pytest.mark.parametrize("role", ["villager", "committee_member", "overseer"])
def test_only_the_supervision_committee_answers(cast, proposal_in, role):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "异议")
    who = {"villager": cast.villager, "committee_member": cast.committee, "overseer": cast.overseer}[role]
    with pytest.raises(RecordsError):
        services.answer_objection(o, who, "答复", upheld=False)


def test_unanswered_objection_past_its_reply_time_is_overdue(cast, proposal_in):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "异议")
    assert not o.is_overdue()
    assert o.is_overdue(now=o.reply_due_at + timedelta(seconds=1))
    assert not o.is_overdue(now=o.reply_due_at)


def test_answer_given_after_the_reply_time_stays_flagged_overdue(cast, proposal_in):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "异议")
    o.reply_due_at = utcnow() - timedelta(hours=1)
    services.answer_objection(o, cast.supervisor, "迟到的答复", upheld=False)
    assert o.is_overdue()


def test_objections_of_an_earlier_notice_period_no_longer_count(cast, proposal_in):
    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "异议")
    services.answer_objection(o, cast.supervisor, "成立", upheld=True)
    p.stage_entered_at = utcnow() + timedelta(seconds=1)  # sent back, posted again
    assert api.upheld_objection_count(p) == 0
    assert api.pending_objection_count(p) == 0


def test_filing_and_answering_are_audit_events(cast, proposal_in, db):
    from sqlalchemy import select

    from app.records.models import AuditEvent

    p = proposal_in("publicized")
    o = services.file_objection(p, cast.villager, "异议")
    services.answer_objection(o, cast.supervisor, "答复", upheld=False)
    kinds = db.session.scalars(select(AuditEvent.kind).where(AuditEvent.object_type == "objection",
                                                             AuditEvent.object_id == o.id)).all()
    assert kinds == ["objection.filed", "objection.answered"]


def test_the_engine_waits_for_every_answer_before_implementation(cast, proposal_in):
    engine = pytest.importorskip("app.deliberation.engine")
    p = proposal_in("publicized")
    p.stage_entered_at = utcnow() - timedelta(days=10)
    # Filed on the last day of the notice period, which is now over.
    from app.extensions import db
    from app.records.models import Objection

    o = Objection(proposal_id=p.id, author_id=cast.villager.id, body="异议", filed_at=utcnow(),
                  reply_due_at=utcnow() + timedelta(days=5))
    db.session.add(o)
    db.session.flush()
    with pytest.raises(engine.InvalidTransition):
        engine.transition(p, "implementing", cast.committee)
    o.answer, o.upheld, o.answered_by_id, o.answered_at = "答复", False, cast.supervisor.id, utcnow()
    db.session.flush()
    engine.transition(p, "implementing", cast.committee)
    assert p.stage == "implementing"


def test_an_upheld_objection_sends_the_proposal_back_to_the_consensus_consultation(cast, proposal_in):
    engine = pytest.importorskip("app.deliberation.engine")
    p = proposal_in("publicized")
    with pytest.raises(engine.InvalidTransition):
        services.send_back(p, cast.committee, "无成立的异议")
    o = services.file_objection(p, cast.villager, "补偿标准不清楚")
    services.answer_objection(o, cast.supervisor, "成立", upheld=True)
    services.send_back(p, cast.committee, "监委会认定异议成立")
    assert p.stage == "consensus_consultation"
