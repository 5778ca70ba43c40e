"""Posting, refusals, coverage, summary, disagreements, amendments, moderation."""
import pytest
from sqlalchemy import func, select

from app.consultation import api, services
from app.consultation.models import Amendment, Disagreement, Post
from app.consultation.services import ConsultationError
from app.extensions import db
from app.records.models import AuditEvent
from tests.consultation.factories import committee_and_proposal, make_post
from tests.factories import make_proposal, make_user, make_village


def _post_count():
    return db.session.scalar(select(func.count(Post.id)))


def _events(kind):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all()


def test_a_villager_posts_an_opinion_with_a_stance(db):
    proposal = make_proposal(stage="topic_consultation")
    villager = make_user(["villager"], proposal.village)
    post = services.add_post(proposal, villager, thread="topic", stance="concern", body="  路修好了，排水怎么办？ ")
    assert (post.author, post.stance, post.body, post.in_person) == (villager, "concern", "路修好了，排水怎么办？", False)
    assert api.stance_counts(proposal, "topic")["concern"] == 1


@pytest.mark.parametrize("body", ["", "   ", "字" * 2001])
def test_an_empty_or_oversized_post_is_refused_and_nothing_stored(db, body):
    proposal = make_proposal(stage="topic_consultation")
    before = _post_count()
    with pytest.raises(ConsultationError):
        services.add_post(proposal, make_user(["villager"], proposal.village), thread="topic", stance="support",
                          body=body)
    assert _post_count() == before


def test_a_post_of_exactly_the_limit_is_accepted(db):
    proposal = make_proposal(stage="topic_consultation")
    services.add_post(proposal, make_user(["villager"], proposal.village), thread="topic", stance="support",
                      body="字" * 2000)


def test_posting_outside_the_threads_stage_is_refused(db):
    proposal = make_proposal(stage="committee_deliberation")
    with pytest.raises(ConsultationError, match="没有开放"):
        services.add_post(proposal, make_user(["villager"], proposal.village), thread="topic", stance="support",
                          body="还能说吗？")
    proposal.stage = "consensus_consultation"
    with pytest.raises(ConsultationError):
        services.add_post(proposal, make_user(["villager"], proposal.village), thread="topic", stance="support",
                          body="议题协商已结束")


def test_a_user_of_another_village_cannot_post(db):
    proposal = make_proposal(stage="topic_consultation")
    stranger = make_user(["villager", "committee_member"], make_village())
    with pytest.raises(ConsultationError):
        services.add_post(proposal, stranger, thread="topic", stance="oppose", body="外村人")
    assert _post_count() == 0


def test_an_unknown_stance_is_refused(db):
    proposal = make_proposal(stage="topic_consultation")
    with pytest.raises(ConsultationError):
        services.add_post(proposal, make_user(["villager"], proposal.village), thread="topic", stance="angry",
                          body="x")


def test_replies_nest_one_level_only(db):
    proposal = make_proposal(stage="topic_consultation")
    villager = make_user(["villager"], proposal.village)
    top = make_post(proposal)
    reply = services.add_reply(top, villager, body="我也这么想")
    assert reply.parent == top and reply.thread == "topic"
    with pytest.raises(ConsultationError, match="只能回复"):
        services.add_reply(reply, villager, body="回复的回复")


def test_replying_to_a_hidden_post_is_refused(db):
    committee, proposal = committee_and_proposal()
    post = make_post(proposal)
    services.hide_post(post, committee, reason="人身攻击")
    with pytest.raises(ConsultationError, match="已被隐藏"):
        services.add_reply(post, make_user(["villager"], proposal.village), body="？")


def test_a_clerk_records_an_opinion_heard_in_person_as_such(db):
    proposal = make_proposal(stage="topic_consultation")
    clerk = make_user(["villager", "clerk"], proposal.village)
    elder = make_user(["villager"], proposal.village, name="赵大爷")
    post = services.add_post(proposal, clerk, thread="topic", stance="support", body="支持，早该修了", on_behalf_of=elder)
    assert post.author == elder and post.entered_by == clerk and post.in_person
    assert _events("consultation.opinion_entered_for_villager")[-1].object_id == post.id


def test_only_a_clerk_may_post_for_someone_else(db):
    proposal = make_proposal(stage="topic_consultation")
    villager = make_user(["villager"], proposal.village)
    with pytest.raises(ConsultationError):
        services.add_post(proposal, villager, thread="topic", stance="support", body="代填",
                          on_behalf_of=make_user(["villager"], proposal.village))


def test_coverage_counts_households_heard_through_any_member(db):
    committee, proposal = committee_and_proposal()
    village = proposal.village
    a1 = make_user(["villager"], village, household="1-001")
    make_user(["villager"], village, household="1-001")
    make_user(["villager"], village, household="1-002")
    make_user(["villager"], village, household="1-003")
    lone = make_user(["villager"], village)
    for number in ("1-001", "1-002", "1-003"):
        services.add_stakeholder(proposal, committee, number=number, reason="道路经过承包地")
    services.add_stakeholder(proposal, committee, number=lone.phone, reason="住在路口")
    cov = api.coverage(proposal)
    assert (cov.households_heard, cov.households_total, cov.people_heard, cov.people_total) == (0, 3, 0, 1)
    make_post(proposal, a1)
    make_post(proposal, lone, thread="consensus")
    cov = api.coverage(proposal)
    assert (cov.households_heard, cov.households_total, cov.people_heard, cov.people_total) == (1, 3, 1, 1)
    assert sorted(s.household.number for s in cov.unheard) == ["1-002", "1-003"]


def test_a_stakeholder_must_exist_in_the_village_and_is_listed_once(db):
    committee, proposal = committee_and_proposal()
    make_user(["villager"], proposal.village, household="2-009")
    with pytest.raises(ConsultationError, match="9-999"):
        services.add_stakeholder(proposal, committee, number="9-999", reason="x")
    services.add_stakeholder(proposal, committee, number="2-009", reason="占地")
    with pytest.raises(ConsultationError, match="已经列入"):
        services.add_stakeholder(proposal, committee, number="2-009", reason="占地")


def test_the_summary_answers_the_engine_and_is_audited(db):
    committee, proposal = committee_and_proposal()
    assert api.topic_summary_written(proposal) is False
    services.write_summary(proposal, committee, heard="多数户支持，3户担心排水。", answer="方案增加排水沟。")
    assert api.topic_summary_written(proposal) is True
    services.write_summary(proposal, committee, heard="修订：多数户支持。", answer="增加排水沟。")
    assert api.summary_of(proposal).heard == "修订：多数户支持。"
    assert len(_events("consultation.summary_written")) == 2


def test_a_villager_cannot_write_the_summary(db):
    proposal = make_proposal(stage="topic_consultation")
    with pytest.raises(ConsultationError):
        services.write_summary(proposal, make_user(["villager"], proposal.village), heard="a", answer="b")
    assert api.topic_summary_written(proposal) is False


def test_open_disagreements_are_counted_until_resolved_or_carried(db):
    committee, proposal = committee_and_proposal("consensus_consultation")
    one = services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="按户还是按人分")
    two = services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="外嫁女份额")
    assert api.open_disagreement_count(proposal) == 2
    services.resolve_disagreement(one, committee, resolution="按人分，户内自行协商")
    assert api.open_disagreement_count(proposal) == 1
    with pytest.raises(ConsultationError):
        services.carry_disagreement(two, committee, reason="  ")
    services.carry_disagreement(two, committee, reason="法律政策有争议，提交村民会议表决时一并说明")
    assert api.open_disagreement_count(proposal) == 0
    kinds = [e.kind for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert kinds.count("consultation.disagreement_registered") == 2
    assert "consultation.disagreement_resolved" in kinds and "consultation.disagreement_carried" in kinds


def test_the_engine_guard_refuses_to_end_the_consensus_consultation_while_an_item_is_open(db):
    engine = pytest.importorskip("app.deliberation.engine")
    committee, proposal = committee_and_proposal("consensus_consultation")
    item = services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="占地补偿标准")
    assert engine.guard_problems(proposal, "villager_resolution")
    services.resolve_disagreement(item, committee, resolution="按县标准执行")
    assert engine.guard_problems(proposal, "villager_resolution") == []


def test_an_accepted_amendment_makes_a_new_version_linked_to_its_item(db):
    from app.deliberation.diff import diff_texts, has_changes

    committee, proposal = committee_and_proposal("consensus_consultation", body="路面宽4米，用集体收入支付。")
    villager = make_user(["villager"], proposal.village)
    item = services.register_disagreement(make_post(proposal, villager, thread="consensus", stance="concern"),
                                          committee, title="路面太窄")
    amendment = services.propose_amendment(proposal, villager, body="路面宽5米，用集体收入支付。",
                                           note="路面加宽到5米", disagreement=item)
    services.accept_amendment(amendment, committee)
    assert amendment.status == "accepted" and amendment.version.number == 2
    assert proposal.current_version == amendment.version
    assert item.status == "resolved" and "5" in item.outcome
    assert has_changes(diff_texts(proposal.version(1).body, proposal.version(2).body))
    assert _events("consultation.amendment_accepted")[-1].object_id == amendment.id


def test_an_amendment_on_an_old_text_cannot_be_accepted(db):
    committee, proposal = committee_and_proposal("consensus_consultation", body="原文")
    first = services.propose_amendment(proposal, committee, body="改法一", note="一")
    second = services.propose_amendment(proposal, committee, body="改法二", note="二")
    services.accept_amendment(first, committee)
    with pytest.raises(ConsultationError, match="正文已经变了"):
        services.accept_amendment(second, committee)
    assert second.status == "proposed" and len(proposal.versions) == 2


def test_an_unchanged_amendment_is_refused(db):
    committee, proposal = committee_and_proposal("consensus_consultation", body="原文")
    with pytest.raises(ConsultationError):
        services.propose_amendment(proposal, committee, body="原文", note="没改")
    assert db.session.scalar(select(func.count(Amendment.id))) == 0


def test_a_declined_amendment_keeps_its_reason(db):
    committee, proposal = committee_and_proposal("consensus_consultation", body="原文")
    amendment = services.propose_amendment(proposal, committee, body="新文", note="改")
    services.decline_amendment(amendment, committee, reason="与上级政策不符")
    assert amendment.status == "declined" and amendment.decline_reason == "与上级政策不符"
    assert len(proposal.versions) == 1


def test_hiding_a_post_keeps_it_and_is_an_audit_event_with_the_reason(db):
    committee, proposal = committee_and_proposal()
    post = make_post(proposal, body="骂人的话")
    services.hide_post(post, committee, reason="含侮辱性语言")
    assert db.session.get(Post, post.id).is_hidden and post.body == "骂人的话"
    event = _events("consultation.post_hidden")[-1]
    assert event.object_id == post.id and "含侮辱性语言" in event.payload and event.actor_id == committee.id
    assert api.stance_counts(proposal, "topic")["support"] == 0


def test_a_villager_cannot_hide_a_post(db):
    proposal = make_proposal(stage="topic_consultation")
    post = make_post(proposal)
    with pytest.raises(ConsultationError):
        services.hide_post(post, make_user(["villager"], proposal.village), reason="不喜欢")
    assert not post.is_hidden and _events("consultation.post_hidden") == []


def test_the_sense_check_is_one_per_person_and_changeable(db):
    proposal = make_proposal(stage="consensus_consultation")
    villager = make_user(["villager"], proposal.village)
    services.set_sense_check(proposal, villager, "concerned")
    services.set_sense_check(proposal, villager, "agree")
    services.set_sense_check(proposal, make_user(["villager"], proposal.village), "unsure")
    assert api.sense_counts(proposal) == {"agree": 1, "unsure": 1, "concerned": 0}
    assert api.my_sense(proposal, villager) == "agree"


def test_the_sense_check_is_closed_outside_the_consensus_consultation(db):
    proposal = make_proposal(stage="villager_resolution")
    with pytest.raises(ConsultationError):
        services.set_sense_check(proposal, make_user(["villager"], proposal.village), "agree")


def test_a_villagers_concern_resolved_by_an_amendment_lets_the_consensus_consultation_end(db):
    engine = pytest.importorskip("app.deliberation.engine")
    committee, proposal = committee_and_proposal("consensus_consultation", body="每户出工3天。")
    villager = make_user(["villager"], proposal.village)
    post = services.add_post(proposal, villager, thread="consensus", stance="concern", body="老人户出不了工怎么办？")
    item = services.register_disagreement(post, committee, title="老人户出工")
    with pytest.raises(engine.InvalidTransition):
        engine.transition(proposal, "villager_resolution", committee)
    amendment = services.propose_amendment(proposal, villager, body="每户出工3天；70岁以上老人户可免出工。",
                                           note="老人户免出工", disagreement=item)
    services.accept_amendment(amendment, committee)
    engine.transition(proposal, "villager_resolution", committee)
    assert proposal.stage == "villager_resolution" and proposal.current_version.number == 2
    with pytest.raises(ConsultationError):
        services.add_post(proposal, villager, thread="consensus", stance="support", body="表决阶段还能发言吗")
