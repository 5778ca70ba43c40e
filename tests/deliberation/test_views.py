"""Proposal pages through the browser's eyes (the test client)."""
import re
from datetime import timedelta

import pytest

from app.accounts.models import utcnow
from app.deliberation.models import Proposal, Suggestion
from tests.factories import make_proposal, make_user, make_village


@pytest.fixture()
def committee(db):
    return make_user(["committee_member", "villager"], make_village(name="柳树村"))


def test_pages_need_sign_in(client, db):
    p = make_proposal(stage="topic_consultation")
    for url in (f"/villages/{p.village_id}/proposals", f"/proposals/{p.id}", f"/proposals/{p.id}/versions",
                f"/villages/{p.village_id}/suggestions"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.location


def test_other_village_cannot_see_proposals(db, login_as, areas):
    p = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["committee_member"], make_village()))
    assert b.get(f"/proposals/{p.id}").status_code == 404
    assert b.get(f"/villages/{p.village_id}/proposals").status_code == 403
    assert b.get(f"/proposals/{p.id}/diff?a=1&b=1").status_code == 404


def test_villager_sees_proposal_but_not_drafts(db, login_as, areas):
    village = make_village()
    draft = make_proposal(stage="draft", village=village, title="草稿议题")
    open_one = make_proposal(stage="topic_consultation", village=village, title="公开议题")
    b = login_as(make_user(["villager"], village))
    html = b.get(f"/villages/{village.id}/proposals").get_data(as_text=True)
    assert "公开议题" in html and "草稿议题" not in html
    assert b.get(f"/proposals/{draft.id}").status_code == 403
    page = b.get(f"/proposals/{open_one.id}").get_data(as_text=True)
    assert "议题协商" in page and "两委成员操作" not in page


def test_overseer_of_township_sees_every_proposal(db, login_as, areas):
    p = make_proposal(stage="draft")
    b = login_as(make_user(["overseer"], township=p.village.township))
    assert b.get(f"/proposals/{p.id}").status_code == 200


def test_committee_creates_edits_and_sees_diff(db, login_as, committee, areas):
    b = login_as(committee)
    village = committee.village
    b.get(f"/villages/{village.id}/proposals/new")
    resp = b.post(f"/villages/{village.id}/proposals/new", {
        "title": "修缮村口道路", "body": "第一段：修路。\n第二段：用集体收入。", "matter_category": "collective_income_use",
        "deciding_body": "villagers_assembly"})
    assert resp.status_code == 302
    proposal = db.session.query(Proposal).filter_by(title="修缮村口道路").one()
    b.get(f"/proposals/{proposal.id}/edit")
    resp = b.post(f"/proposals/{proposal.id}/edit", {
        "title": "修缮村口道路", "body": "第一段：修路，宽4米。\n第二段：用集体收入。", "matter_category": "collective_income_use",
        "deciding_body": "villagers_assembly", "note": "写明宽度"})
    assert resp.status_code == 302 and len(proposal.versions) == 2
    diff = b.get(f"/proposals/{proposal.id}/diff?a=1&b=2").get_data(as_text=True)
    assert re.search(r'<span class="visually-hidden">（新增：\s*</span><ins>，宽4米</ins>', diff) and "写明宽度" in diff


def _diff_page(db, login_as, committee, old: str, new: str) -> str:
    from app.deliberation import services

    p = make_proposal(stage="draft", village=committee.village, author=committee, body=old)
    services.edit_draft(p, committee, title=p.title, body=new, note="改金额", matter_category=p.matter_category,
                        deciding_body=p.deciding_body)
    db.session.flush()
    return login_as(committee).get(f"/proposals/{p.id}/diff?a=1&b=2").get_data(as_text=True)


def _seen(html: str) -> str:
    """The diff as the eye reads it: tags and the screen-reader words left out."""
    body = html.split('id="diff"', 1)[1]
    body = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", body)
    return re.sub(r"<[^>]+>", "", body)


def _heard(html: str) -> str:
    """The diff as a screen reader says it: the hidden words kept, the arrow (aria-hidden) left out."""
    body = html.split('id="diff"', 1)[1]
    body = re.sub(r'<span class="arrow" aria-hidden="true">[^<]*</span>', "", body)
    return re.sub(r"<[^>]+>", "", body)


def test_a_changed_number_is_shown_old_and_new_side_by_side_never_as_a_merged_number(db, login_as, committee, areas):
    html = _diff_page(db, login_as, committee, "按户筹资，每户500元。", "按户筹资，每户300元。")
    assert '<span class="repl"><del>' in html
    assert "<del>500</del>" in html and "<ins>300</ins>" in html
    seen = _seen(html)
    assert "每户500→300元" in seen and "5300" not in seen and "00元" not in seen.replace("300元", "")
    assert "（原为：500改为：300）" in _heard(html).replace(" ", "")


@pytest.mark.parametrize("old,new,was,now", [
    ("预算36万元", "预算39万元", "36", "39"),
    ("路面宽4米", "路面宽4.5米", "4", "4.5"),
    ("提留20%用于公益", "提留10%用于公益", "20%", "10%"),
    ("6个月内腾退", "1年内腾退", "6个月", "1年"),
])
def test_numbers_are_replaced_whole(db, login_as, committee, areas, old, new, was, now):
    seen = _seen(_diff_page(db, login_as, committee, old, new))
    assert f"{was}→{now}" in seen


def test_the_diff_keeps_a_plain_deletion_and_insertion_readable(db, login_as, committee, areas):
    heard = _heard(_diff_page(db, login_as, committee, "甲乙丙丁", "甲丙丁戊"))
    assert "（删除：乙）" in heard.replace(" ", "") and "（新增：戊）" in heard.replace(" ", "")


def test_edit_with_empty_text_keeps_what_was_typed(db, login_as, committee, areas):
    b = login_as(committee)
    p = make_proposal(stage="draft", village=committee.village)
    b.get(f"/proposals/{p.id}/edit")
    resp = b.post(f"/proposals/{p.id}/edit", {"title": "新的标题很长的一段话", "body": "", "deciding_body": "villagers_assembly"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "新的标题很长的一段话" in html and len(p.versions) == 1


def test_move_is_refused_with_reasons_and_changes_nothing(db, login_as, committee, areas):
    p = make_proposal(stage="topic_consultation", village=committee.village)
    p.stage_deadline = utcnow() + timedelta(days=5)
    areas.summary = False
    b = login_as(committee)
    b.get(f"/proposals/{p.id}")
    resp = b.post(f"/proposals/{p.id}/move", {"to": "committee_deliberation"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "协商情况总结" in html
    assert p.stage == "topic_consultation"


def test_skipping_a_stage_through_the_page_is_refused(db, login_as, committee, areas):
    p = make_proposal(stage="draft", village=committee.village)
    b = login_as(committee)
    b.get(f"/proposals/{p.id}")
    resp = b.post(f"/proposals/{p.id}/move", {"to": "villager_resolution"})
    assert resp.status_code == 400 and "不能跳过" in resp.get_data(as_text=True)
    assert p.stage == "draft"


def test_open_and_close_topic_consultation_through_pages(db, login_as, committee, areas):
    p = make_proposal(stage="draft", village=committee.village)
    b = login_as(committee)
    b.get(f"/proposals/{p.id}")
    assert b.post(f"/proposals/{p.id}/move", {"to": "topic_consultation"}).status_code == 302
    assert p.stage == "topic_consultation"
    assert b.post(f"/proposals/{p.id}/close-topic", {}).status_code == 302
    assert p.topic_consultation_closed_at is not None
    page = b.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert "下一步" in page


def test_villager_cannot_move_or_manage(db, login_as, areas):
    p = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], p.village))
    b.get(f"/proposals/{p.id}")
    resp = b.post(f"/proposals/{p.id}/move", {"to": "withdrawn", "reason": "x"})
    assert resp.status_code == 400 and "您不能进行这一步" in resp.get_data(as_text=True)
    assert p.stage == "topic_consultation"
    assert b.post(f"/proposals/{p.id}/close-topic", {}).status_code == 403


def test_stage_filter_htmx_returns_only_rows(db, login_as, committee, areas):
    make_proposal(stage="topic_consultation", village=committee.village, title="甲议题")
    make_proposal(stage="draft", village=committee.village, title="乙议题")
    b = login_as(committee)
    url = f"/villages/{committee.village_id}/proposals?stage=draft"
    full = b.get(url)
    part = b.get(url, headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    body = part.get_data(as_text=True)
    assert "<html" not in body and "乙议题" in body and "甲议题" not in body
    assert "HX-Request" in part.headers["Vary"]


def test_suggestion_cosigned_past_threshold_is_overdue_until_taken_up(db, login_as, areas):
    village = make_village()
    villagers = [make_user(["villager"], village) for _ in range(20)]
    committee = make_user(["committee_member"], village)
    b = login_as(villagers[0])
    b.get(f"/villages/{village.id}/suggestions")
    resp = b.post(f"/villages/{village.id}/suggestions", {"title": "装路灯", "body": "村东头太黑，请装路灯。"})
    assert resp.status_code == 302
    s = db.session.query(Suggestion).filter_by(title="装路灯").one()
    assert len(s.signatures) == 1 and s.threshold_reached_at is None
    b2 = login_as(villagers[1])
    b2.get(f"/suggestions/{s.id}")
    assert b2.post(f"/suggestions/{s.id}/cosign", {}).status_code == 302
    # 2 of 21 adult villagers (the committee member is not a villager here) is under one tenth; the third reaches it
    b3 = login_as(villagers[2])
    b3.get(f"/suggestions/{s.id}")
    b3.post(f"/suggestions/{s.id}/cosign", {})
    assert s.threshold_reached_at is not None
    bc = login_as(committee)
    assert "必须采纳或答复" in bc.get(f"/villages/{village.id}/suggestions").get_data(as_text=True)
    bc.get(f"/suggestions/{s.id}")
    resp = bc.post(f"/suggestions/{s.id}/accept", {})
    assert resp.status_code == 302 and s.status == "accepted"
    assert db.session.query(Proposal).filter_by(title="装路灯").one().stage == "draft"


def test_proposal_page_closes_a_poll_past_its_time_and_moves_on(db, login_as, committee):
    from datetime import timedelta

    from app.clock import travel_to
    from app.voting import services as voting

    p = make_proposal(stage="committee_deliberation", village=committee.village)
    others = [make_user(["committee_member"], committee.village) for _ in range(2)]
    poll = voting.open_poll(p, committee, closes_at=utcnow() + timedelta(hours=1))
    for person in [committee, *others]:
        voting.cast_ballot(poll, person, "yes")
    b = login_as(committee)
    with travel_to(utcnow() + timedelta(hours=2)):
        html = b.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert poll.status == "closed" and p.stage == "member_review"
    assert "党员审议" in html


def test_a_reason_box_sits_in_the_box_of_its_own_action(db, login_as, committee, areas):
    """The 理由 box of 撤回 is inside 撤回's own group, named after it, with its button;
    the advance button's form has no reason box, and nothing stands between them."""
    p = make_proposal(stage="draft", village=committee.village, author=committee)
    html = login_as(committee).get(f"/proposals/{p.id}").get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="/proposals/\d+/move".*?</form>', html, re.S)
    advance = next(f for f in forms if "开始议题协商" in f)
    withdraw = next(f for f in forms if "撤回" in f)
    assert "<textarea" not in advance
    assert re.search(r"<legend>撤回</legend>", withdraw)
    assert re.search(r'<label for="reason-withdrawn">“撤回”的理由</label>\s*<textarea id="reason-withdrawn"', withdraw)
    assert withdraw.index("<textarea") < withdraw.index("<button") and withdraw.count("<button") == 1
    # the box with a reason comes after every move without one
    assert html.index(advance) < html.index(withdraw)


def test_a_rewritten_phrase_reads_old_then_new_once(db, login_as, committee, areas):
    seen = _seen(_diff_page(db, login_as, committee, "提留20%用于村集体公益事业。",
                            "提留10%，专款用于村内水渠维修，使用情况每半年公开一次。"))
    assert "集体公益事业→内水渠维修，使用情况每半年公开一次" in seen
    assert "20%→10%，专款" in seen
