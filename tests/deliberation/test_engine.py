"""The stage engine: every transition over every stage, guards and their messages."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import utcnow
from app.clock import travel_to
from app.deliberation import engine
from app.deliberation.engine import TRANSITIONS, InvalidTransition
from app.deliberation.models import ALL_STAGES, StageChange
from app.records.audit import verify_chain
from app.records.models import AuditEvent
from tests.factories import make_proposal, make_user

PAIRS = [(a, b) for a in ALL_STAGES for b in ALL_STAGES if a != b]


def _satisfy_everything(areas, proposal):
    """Make every guard of every stage pass (test doubles for the other areas)."""
    for stage in ("committee_deliberation", "member_review", "villager_resolution"):
        areas.set_poll(stage, passed=True)
    proposal.topic_consultation_closed_at = utcnow()
    proposal.stage_entered_at = utcnow() - timedelta(days=30)
    areas.upheld_objections = 1


def _actor_for(t, proposal):
    if t.who is engine._overseer:
        return make_user(["overseer"], township=proposal.village.township)
    return make_user(["committee_member"], proposal.village)


@pytest.mark.parametrize("frm,to", PAIRS)
def test_every_pair_of_stages_is_allowed_exactly_when_in_the_table(db, areas, frm, to):
    proposal = make_proposal(stage=frm)
    _satisfy_everything(areas, proposal)
    t = engine.get_transition(frm, to)
    if t is not None and t.kind in ("return", "reject"):
        areas.set_poll(frm, passed=False)
    if t is not None and t.kind == "withdraw":
        areas.set_poll(frm, closed=False)
    actor = _actor_for(t, proposal) if t else make_user(["committee_member"], proposal.village)
    if t is None:
        with pytest.raises(InvalidTransition, match="skipped|跳过"):
            engine.transition(proposal, to, actor, reason="因为")
        assert proposal.stage == frm
    else:
        change = engine.transition(proposal, to, actor, reason="因为")
        assert proposal.stage == to
        assert (change.from_stage, change.to_stage, change.actor) == (frm, to, actor)
        event = db.session.get(AuditEvent, change.audit_event_id)
        assert event.kind == "proposal.transition" and f'"to":"{to}"' in event.payload


@pytest.mark.parametrize("key", sorted(TRANSITIONS))
@pytest.mark.parametrize("roles", [["villager"], ["representative"], ["party_member"], ["supervisor"], ["clerk"]])
def test_no_ordinary_villager_role_can_move_a_proposal(db, areas, key, roles):
    t = TRANSITIONS[key]
    proposal = make_proposal(stage=t.frm)
    _satisfy_everything(areas, proposal)
    with pytest.raises(InvalidTransition):
        engine.transition(proposal, t.to, make_user(roles, proposal.village), reason="因为")
    assert proposal.stage == t.frm


def test_committee_member_of_another_village_cannot_move_it(db, areas):
    proposal = make_proposal(stage="draft")
    stranger = make_user(["committee_member"])
    with pytest.raises(InvalidTransition):
        engine.transition(proposal, "topic_consultation", stranger)


def test_only_the_overseer_files_a_completed_record(db, areas):
    proposal = make_proposal(stage="completed")
    with pytest.raises(InvalidTransition):
        engine.transition(proposal, "archived", make_user(["committee_member"], proposal.village), reason="备案")
    overseer = make_user(["overseer"], township=proposal.village.township)
    engine.transition(proposal, "archived", overseer, reason="材料齐全，同意备案")
    assert proposal.stage == "archived"


def test_a_reason_is_required_to_withdraw(db, areas):
    proposal = make_proposal(stage="topic_consultation")
    committee = make_user(["committee_member"], proposal.village)
    with pytest.raises(InvalidTransition, match="reason|理由"):
        engine.transition(proposal, "withdrawn", committee, reason="  ")
    engine.transition(proposal, "withdrawn", committee, reason="上级政策变化，暂缓")
    assert proposal.stage == "withdrawn"


def test_withdrawal_is_refused_after_the_villagers_vote_closed(db, areas):
    proposal = make_proposal(stage="villager_resolution")
    areas.set_poll("villager_resolution", passed=True)
    with pytest.raises(InvalidTransition, match="closed|结束"):
        engine.transition(proposal, "withdrawn", make_user(["committee_member"], proposal.village), reason="x")


def test_draft_without_category_cannot_open_consultation_and_says_why(db, areas):
    proposal = make_proposal(stage="draft", matter_category=None)
    with pytest.raises(InvalidTransition) as err:
        engine.transition(proposal, "topic_consultation", make_user(["committee_member"], proposal.village))
    assert "category" in str(err.value) or "类别" in str(err.value)


def test_topic_consultation_needs_end_and_summary(db, areas):
    proposal = make_proposal(stage="topic_consultation")
    proposal.stage_deadline = utcnow() + timedelta(days=3)
    areas.summary = False
    problems = engine.blockers(proposal)
    assert len(problems) == 2
    proposal.topic_consultation_closed_at = utcnow()
    assert len(engine.blockers(proposal)) == 1
    areas.summary = True
    assert engine.blockers(proposal) == []


def test_topic_consultation_ends_by_itself_at_its_deadline(db, areas):
    proposal = make_proposal(stage="topic_consultation")
    proposal.stage_deadline = utcnow() - timedelta(minutes=1)
    assert engine.blockers(proposal) == []


@pytest.mark.parametrize("stage", ["committee_deliberation", "member_review", "villager_resolution"])
def test_vote_stages_wait_for_a_closed_passed_poll(db, areas, stage):
    proposal = make_proposal(stage=stage)
    assert engine.blockers(proposal)  # no poll yet
    areas.set_poll(stage, closed=False)
    assert any("open" in b or "进行" in b for b in engine.blockers(proposal))
    areas.set_poll(stage, quorum_met=False, passed=False)
    assert any("quorum" in b or "人数" in b for b in engine.blockers(proposal))
    areas.set_poll(stage, passed=True)
    assert engine.blockers(proposal) == []


@pytest.mark.parametrize("stage,failed_to", [("committee_deliberation", "draft"), ("member_review", "draft"),
                                             ("villager_resolution", "rejected")])
def test_closed_poll_result_moves_the_proposal_by_itself(db, areas, stage, failed_to):
    passed = make_proposal(stage=stage)
    areas.set_poll(stage, passed=True)
    change = engine.apply_poll_result(passed, stage)
    assert change.actor is None and passed.stage == engine.next_step(make_proposal(stage=stage)).to
    failed = make_proposal(stage=stage)
    areas.set_poll(stage, quorum_met=False, passed=False, summary="3 of 12 took part: no quorum")
    change = engine.apply_poll_result(failed, stage)
    assert failed.stage == failed_to and change.reason == "3 of 12 took part: no quorum"


def test_consensus_consultation_cannot_end_with_open_disagreements(db, areas):
    proposal = make_proposal(stage="consensus_consultation")
    areas.open_disagreements = 2
    with pytest.raises(InvalidTransition, match="2"):
        engine.transition(proposal, "villager_resolution", make_user(["committee_member"], proposal.village))
    areas.open_disagreements = 0
    engine.transition(proposal, "villager_resolution", make_user(["committee_member"], proposal.village))
    assert proposal.frozen_version is proposal.current_version


def test_art24_matter_by_representatives_needs_an_authorisation(db, areas):
    from datetime import date

    from app.deliberation import services

    proposal = make_proposal(stage="draft", matter_category="collective_income_use",
                             deciding_body="representatives_assembly")
    committee = make_user(["committee_member"], proposal.village)
    assert any("authoris" in b or "授权" in b for b in engine.blockers(proposal))
    auth = services.record_authorisation(proposal.village, committee, matter_category="collective_income_use",
                                         granted_on=date(2026, 1, 5), valid_until=None,
                                         reference="2026年1月5日村民会议决定")
    proposal.authorisation = auth
    assert engine.blockers(proposal) == []


def test_publicized_waits_for_notice_period_and_answers(db, areas):
    """Posted at 02:27 on 2 December Beijing time (18:27 UTC the day before): seven days
    counted from the next day end at 24:00 on 9 December, not 168 hours later."""
    proposal = make_proposal(stage="publicized")
    proposal.stage_entered_at = datetime(2026, 12, 1, 18, 27, 20)
    areas.pending_objections = 1
    with travel_to(datetime(2026, 12, 9, 15, 59)):  # 23:59 on 9 December in Beijing
        problems = engine.blockers(proposal)
    assert len(problems) == 2
    assert "2026年12月9日24时" in problems[0] or "9 Dec 2026" in problems[0]
    areas.pending_objections = 0
    with travel_to(datetime(2026, 12, 9, 15, 59)):
        assert len(engine.blockers(proposal)) == 1
    with travel_to(datetime(2026, 12, 9, 16, 0)):  # 00:00 on 10 December in Beijing
        assert engine.blockers(proposal) == []


def test_upheld_objection_sends_back_to_consensus(db, areas):
    proposal = make_proposal(stage="publicized")
    committee = make_user(["committee_member"], proposal.village)
    with pytest.raises(InvalidTransition):
        engine.transition(proposal, "consensus_consultation", committee, reason="异议成立")
    areas.upheld_objections = 1
    engine.transition(proposal, "consensus_consultation", committee, reason="异议成立")
    assert proposal.stage == "consensus_consultation"


def test_implementation_needs_progress_and_final_report(db, areas):
    proposal = make_proposal(stage="implementing")
    areas.reports = (0, False)
    assert len(engine.blockers(proposal)) == 2
    areas.reports = (2, False)
    assert len(engine.blockers(proposal)) == 1


def test_notice_rules_for_opening_polls(db, areas):
    """Announced on 1 December (10:00 Beijing): ten days are 2–11 December, so the vote may
    open at 00:00 on 12 December Beijing time (16:00 UTC on the 11th), and the refusal says so."""
    proposal = make_proposal(stage="villager_resolution")
    assert engine.notice_problems(proposal, "villager_resolution", utcnow())
    proposal.assembly_announced_at = datetime(2026, 12, 1, 2, 0)
    problems = engine.notice_problems(proposal, "villager_resolution", datetime(2026, 12, 11, 15, 59))
    assert any("10" in p and ("2026年12月12日 00:00" in p or "12 Dec 2026, 00:00" in p) for p in problems)
    assert engine.notice_problems(proposal, "villager_resolution", datetime(2026, 12, 11, 16, 0)) == []
    review = make_proposal(stage="member_review")
    review.party_plan_sent_at = datetime(2026, 11, 30, 16, 30)  # 00:30 on 1 December in Beijing
    assert engine.notice_problems(review, "member_review", datetime(2026, 12, 4, 15, 59))
    assert engine.notice_problems(review, "member_review", datetime(2026, 12, 4, 16, 0)) == []


def test_history_and_chain_after_a_full_run(db, areas):
    proposal = make_proposal(stage="draft")
    committee = make_user(["committee_member"], proposal.village)
    overseer = make_user(["overseer"], township=proposal.village.township)
    path = ["topic_consultation", "committee_deliberation", "member_review", "consensus_consultation",
            "villager_resolution", "publicized", "implementing", "completed", "archived"]
    _satisfy_everything(areas, proposal)
    areas.upheld_objections = 0
    for stage in path:
        if stage == "implementing":
            proposal.stage_entered_at = utcnow() - timedelta(days=8)
        if stage == "committee_deliberation":
            proposal.topic_consultation_closed_at = utcnow()
        actor = overseer if stage == "archived" else committee
        engine.transition(proposal, stage, actor, reason="备案" if stage == "archived" else None)
    rows = db.session.scalars(select(StageChange).where(StageChange.proposal_id == proposal.id)
                              .order_by(StageChange.id)).all()
    assert [r.to_stage for r in rows] == path
    assert [r.from_stage for r in rows] == ["draft"] + path[:-1]
    assert verify_chain().ok
