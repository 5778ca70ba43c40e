"""Process rules hold against hand-made requests: another village's ids, a draft's
sub-pages, backdated or repeated notices (issue 12 findings 1–3, issue 13 item 9)."""
from datetime import date, timedelta

import pytest

from app.accounts.models import utcnow
from app.clock import travel_to
from app.deliberation import services
from app.deliberation.models import Authorisation, NoticeFact, Proposal
from app.records.compliance import proposal_flags
from tests.factories import make_proposal, make_user, make_village


def _authorisation(village, chair):
    return services.record_authorisation(village, chair, matter_category="collective_income_use",
                                         granted_on=date(2026, 1, 5), valid_until=None, reference="2026年村民会议")


NEW = {"title": "集体收入用于修路", "body": "用集体收入修缮村道。", "matter_category": "collective_income_use",
       "deciding_body": "representatives_assembly"}


@pytest.mark.parametrize("raw", ["other-village", "abc", "-1", "²", "99999999999999999999", str(2**31)])
def test_a_new_proposal_cannot_use_another_villages_or_a_made_up_authorisation(db, login_as, raw):
    township = make_village().township
    dongfeng, xingfu = make_village(township, "东风村"), make_village(township, "幸福村")
    east_chair = make_user(["committee_member"], dongfeng)
    east_auth = _authorisation(dongfeng, east_chair)
    chair = make_user(["committee_member"], xingfu)
    b = login_as(chair)
    b.get(f"/villages/{xingfu.id}/proposals/new")
    value = str(east_auth.id) if raw == "other-village" else raw
    resp = b.post(f"/villages/{xingfu.id}/proposals/new", {**NEW, "authorisation_id": value})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "不是本村的授权" in html and "集体收入用于修路" in html  # named, and the typed text kept
    assert db.session.query(Proposal).filter_by(village_id=xingfu.id).count() == 0


def test_editing_a_draft_cannot_attach_another_villages_authorisation(db, login_as):
    township = make_village().township
    dongfeng, xingfu = make_village(township), make_village(township)
    east_auth = _authorisation(dongfeng, make_user(["committee_member"], dongfeng))
    chair = make_user(["committee_member"], xingfu)
    proposal = make_proposal(village=xingfu, author=chair, **{k: NEW[k] for k in ("matter_category", "deciding_body")})
    b = login_as(chair)
    b.get(f"/proposals/{proposal.id}/edit")
    resp = b.post(f"/proposals/{proposal.id}/edit", {**NEW, "authorisation_id": str(east_auth.id)})
    assert resp.status_code == 400 and "不是本村的授权" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).authorisation_id is None


def test_the_service_itself_refuses_another_villages_authorisation(db):
    township = make_village().township
    dongfeng, xingfu = make_village(township), make_village(township)
    east_auth = _authorisation(dongfeng, make_user(["committee_member"], dongfeng))
    proposal = make_proposal(village=xingfu, matter_category="collective_income_use",
                             deciding_body="representatives_assembly")
    with pytest.raises(services.DeliberationError):
        services.edit_draft(proposal, proposal.created_by, title=proposal.title, body=proposal.body, note=None,
                            matter_category="collective_income_use", deciding_body="representatives_assembly",
                            authorisation=east_auth)


def test_a_stored_authorisation_of_another_village_is_flagged_for_the_township(db):
    township = make_village().township
    dongfeng, xingfu = make_village(township), make_village(township)
    east_auth = _authorisation(dongfeng, make_user(["committee_member"], dongfeng))
    proposal = make_proposal(stage="publicized", village=xingfu, matter_category="collective_income_use",
                             deciding_body="representatives_assembly")
    proposal.authorisation_id = east_auth.id  # as an older build stored it
    db.session.flush()
    assert "unauthorised_body" in {f.code for f in proposal_flags(proposal)}


DRAFT_TEXT = "第二版草稿：每户出资三百元。"


@pytest.mark.parametrize("path", ["consultation/topic", "consultation/consensus", "consultation/disagreements",
                                  "consultation/stakeholders", "consultation/summary", "versions", "diff?a=1&b=2",
                                  "publication"])
def test_a_drafts_sub_pages_show_nothing_to_a_villager(db, login_as, path):
    village = make_village()
    draft = make_proposal(stage="draft", village=village, body="第一版草稿。")
    services.edit_draft(draft, draft.created_by, title=draft.title, body=DRAFT_TEXT, note=None,
                        matter_category="general", deciding_body="villagers_assembly")
    b = login_as(make_user(["villager"], village))
    assert b.get(f"/proposals/{draft.id}").status_code == 403
    resp = b.get(f"/proposals/{draft.id}/{path}")
    assert resp.status_code in (403, 404)
    assert "每户出资三百元" not in resp.get_data(as_text=True)


def test_a_drafts_threads_stay_open_to_its_committee(db, login_as):
    village = make_village()
    draft = make_proposal(stage="draft", village=village, body=DRAFT_TEXT)
    b = login_as(draft.created_by)
    resp = b.get(f"/proposals/{draft.id}/consultation/topic")
    assert resp.status_code == 200


# Notices are facts: dated by the service against the proposal's history and the clock ---

@pytest.fixture()
def consensus(db):
    """A proposal written ten days ago, now in the consensus consultation."""
    with travel_to(utcnow() - timedelta(days=10)):
        proposal = make_proposal(stage="draft")
    proposal.stage = "consensus_consultation"
    db.session.flush()
    return proposal


def _announce(login_as, proposal, **data):
    b = login_as(proposal.created_by)
    b.get(f"/proposals/{proposal.id}")
    return b.post(f"/proposals/{proposal.id}/announce", data)


def test_an_announcement_dated_year_one_is_refused_with_the_reason(db, login_as, consensus):
    resp = _announce(login_as, consensus, when="0001-01-01", paper_note="张贴于村务公开栏")
    assert resp.status_code == 400
    assert "不能早于提议写成的日期" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, consensus.id).assembly_announced_at is None


def test_an_announcement_in_the_future_is_refused(db, login_as, consensus):
    resp = _announce(login_as, consensus, when=(date.today() + timedelta(days=3)).isoformat())
    assert resp.status_code == 400 and "不能是将来的日期" in resp.get_data(as_text=True)


def test_an_earlier_date_needs_the_paper_notice_and_is_flagged(db, login_as, consensus):
    earlier = (date.today() - timedelta(days=5)).isoformat()
    resp = _announce(login_as, consensus, when=earlier)
    assert resp.status_code == 400 and "纸质公告" in resp.get_data(as_text=True)
    resp = _announce(login_as, consensus, when=earlier, paper_note="12月1日张贴于村务公开栏，有照片")
    assert resp.status_code == 302
    db.session.expire_all()
    proposal = db.session.get(Proposal, consensus.id)
    assert proposal.assembly_announced_at.date() == date.today() - timedelta(days=5)
    assert "notice_backdated" in {f.code for f in proposal_flags(proposal)}


def test_a_bad_date_is_named_and_not_a_generic_400(db, login_as, consensus):
    resp = _announce(login_as, consensus, when="2026-13-45")
    assert resp.status_code == 400
    assert "请按 2026-12-01 的格式填写日期" in resp.get_data(as_text=True)


def test_an_announcement_without_a_date_is_the_moment_it_is_recorded(db, login_as, consensus):
    before = utcnow()
    assert _announce(login_as, consensus).status_code == 302
    db.session.expire_all()
    proposal = db.session.get(Proposal, consensus.id)
    assert proposal.assembly_announced_at >= before.replace(microsecond=0) - timedelta(seconds=1)
    assert proposal_flags(proposal) == [] or "notice_backdated" not in {f.code for f in proposal_flags(proposal)}


def test_an_announcement_is_recorded_once_and_a_correction_is_a_flagged_fact(db, login_as, consensus):
    assert _announce(login_as, consensus).status_code == 302
    again = _announce(login_as, consensus)
    assert again.status_code == 400 and "已经记录" in again.get_data(as_text=True)
    b = login_as(consensus.created_by)
    b.get(f"/proposals/{consensus.id}")
    resp = b.post(f"/proposals/{consensus.id}/notice-correction", {"kind": "assembly_announced", "reason": ""})
    assert resp.status_code == 400 and "请写明更正的理由" in resp.get_data(as_text=True)
    earlier = date.today() - timedelta(days=2)
    resp = b.post(f"/proposals/{consensus.id}/notice-correction", {
        "kind": "assembly_announced", "when": earlier.isoformat(), "paper_note": "纸质公告早两天已张贴",
        "reason": "录入晚了两天"})
    assert resp.status_code == 302
    db.session.expire_all()
    proposal = db.session.get(Proposal, consensus.id)
    facts = db.session.query(NoticeFact).filter_by(proposal_id=proposal.id).order_by(NoticeFact.id).all()
    assert len(facts) == 2 and facts[1].corrects_id == facts[0].id and facts[1].reason == "录入晚了两天"
    assert proposal.assembly_announced_at.date() == earlier
    assert "notice_corrected" in {f.code for f in proposal_flags(proposal)}
    from app.records.audit import AuditEvent  # the correction is in the audit chain

    assert db.session.query(AuditEvent).filter_by(kind="proposal.assembly_announced_corrected").count() == 1
    page = b.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "录入晚了两天" in page
    overseer = make_user(["overseer"], township=proposal.village.township)
    dashboard = login_as(overseer).get(f"/oversight/villages/{proposal.village_id}")
    assert "公告日期在记录后被更正" in dashboard.get_data(as_text=True)


def test_a_party_plan_is_dated_by_the_same_rules(db, login_as):
    with travel_to(utcnow() - timedelta(days=4)):
        proposal = make_proposal(stage="draft")
    proposal.stage = "committee_deliberation"
    db.session.flush()
    b = login_as(proposal.created_by)
    b.get(f"/proposals/{proposal.id}")
    resp = b.post(f"/proposals/{proposal.id}/party-plan", {"when": "2001-01-01", "paper_note": "送达签收"})
    assert resp.status_code == 400 and "不能早于提议写成的日期" in resp.get_data(as_text=True)
    assert b.post(f"/proposals/{proposal.id}/party-plan", {}).status_code == 302
    assert b.post(f"/proposals/{proposal.id}/party-plan", {}).status_code == 400
