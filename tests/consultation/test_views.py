"""Every consultation page: anonymous → sign-in, other village → 404, right role → 200;
posting with and without htmx; refusals keep what was typed."""
import re

import pytest
from flask import render_template
from sqlalchemy import func, select

from app.consultation import services
from app.consultation.models import Post
from app.extensions import db
from tests.consultation.factories import committee_and_proposal, make_post
from tests.factories import make_proposal, make_user, make_village

HX = {"HX-Request": "true"}


def _pages(p):
    return [f"/proposals/{p.id}/consultation/topic", f"/proposals/{p.id}/consultation/consensus",
            f"/proposals/{p.id}/consultation/disagreements", f"/proposals/{p.id}/consultation/stakeholders",
            f"/proposals/{p.id}/consultation/summary"]


def _posts():
    return db.session.scalar(select(func.count(Post.id)))


def test_every_page_sends_an_anonymous_visitor_to_sign_in(client, db):
    proposal = make_proposal(stage="topic_consultation")
    for url in _pages(proposal):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_every_page_is_not_found_for_another_village(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager", "committee_member"], make_village()))
    for url in _pages(proposal):
        assert b.get(url).status_code == 404, url
    post = make_post(proposal)
    assert b.post(f"/consultation/posts/{post.id}/replies", {"body": "外村"}).status_code == 404


@pytest.mark.parametrize("role", ["villager", "committee_member", "clerk", "supervisor", "overseer"])
def test_every_page_opens_for_the_village_and_the_township(db, login_as, role):
    proposal = make_proposal(stage="consensus_consultation")
    user = (make_user(["overseer"], township=proposal.village.township) if role == "overseer"
            else make_user([role], proposal.village))
    b = login_as(user)
    for url in _pages(proposal):
        assert b.get(url).status_code == 200, url


def test_a_villager_posts_with_a_plain_form_and_is_redirected_to_the_post(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village, name="孙桂兰"))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"stance": "concern", "body": "排水沟要一起修"})
    assert resp.status_code == 302 and "#post-" in resp.headers["Location"]
    html = b.get(resp.headers["Location"]).get_data(as_text=True)
    assert "排水沟要一起修" in html and "孙桂兰" in html and "担忧" in html


def test_a_villager_posts_with_htmx_and_gets_the_thread_back_at_once(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"stance": "support", "body": "早该修了"},
                  headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "HX-Request" in resp.headers["Vary"]
    assert "<html" not in html and 'id="thread-topic"' in html and "早该修了" in html


def test_the_thread_page_is_whole_without_htmx_and_partial_with_it(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    url = f"/proposals/{proposal.id}/consultation/topic"
    full, part = b.get(url), b.get(url, headers=HX)
    assert "<html" in full.get_data(as_text=True) and "<html" not in part.get_data(as_text=True)
    assert 'id="thread-topic"' in part.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in part.headers["Vary"]


@pytest.mark.parametrize("headers,status", [({}, 400), (HX, 200)])
def test_an_oversized_post_is_refused_and_the_text_is_kept(db, login_as, headers, status):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    long = "很长的意见" * 401
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"stance": "oppose", "body": long},
                  headers=headers)
    html = resp.get_data(as_text=True)
    assert resp.status_code == status and "一条意见最多 2000 个字。" in html and long in html
    assert re.search(r'<input checked[^>]*value="oppose"', html)
    assert _posts() == 0


def test_a_post_without_a_stance_is_refused_with_a_message(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"body": "我的看法"})
    assert resp.status_code == 400 and "请选择" in resp.get_data(as_text=True) and "我的看法" in resp.get_data(as_text=True)
    assert _posts() == 0


def test_posting_outside_the_stage_is_refused_with_a_clear_message(db, login_as):
    proposal = make_proposal(stage="member_review")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"stance": "support", "body": "晚了吗"})
    assert resp.status_code == 403 and "没有开放" in resp.get_data(as_text=True)
    assert _posts() == 0


def test_an_overseer_reads_but_cannot_post(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["overseer"], township=proposal.village.township))
    html = b.get(f"/proposals/{proposal.id}/consultation/topic").get_data(as_text=True)
    assert "Post my opinion" not in html and "发表我的意见" not in html
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"stance": "support", "body": "乡镇意见"})
    assert resp.status_code == 403 and _posts() == 0


@pytest.mark.parametrize("headers,status", [({}, 400), (HX, 200)])
def test_replying_to_a_reply_is_refused(db, login_as, headers, status):
    proposal = make_proposal(stage="topic_consultation")
    reply = make_post(proposal, parent=make_post(proposal))
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/consultation/posts/{reply.id}/replies", {"body": "再回复"}, headers=headers)
    assert resp.status_code == status and "只能回复" in resp.get_data(as_text=True)
    assert _posts() == 2


def test_a_reply_appears_under_its_post_with_htmx(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    top = make_post(proposal, body="修路好")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/consultation/posts/{top.id}/replies", {"body": "同意楼上"}, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.index("修路好") < html.index("同意楼上")


def test_a_hidden_post_shows_its_reason_to_the_author_but_not_to_neighbours(db, login_as, app):
    committee, proposal = committee_and_proposal()
    author = make_user(["villager"], proposal.village)
    post = make_post(proposal, author, body="难听的话")
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    assert b.post(f"/consultation/posts/{post.id}/hide", {"reason": "人身攻击"}).status_code == 302
    assert post.is_hidden
    with app.test_client() as c2:
        from tests.conftest import Browser
        from tests.factories import PASSWORD

        other = Browser(c2)
        other.get("/login")
        other.post("/login", {"phone": make_user(["villager"], proposal.village).phone, "password": PASSWORD})
        html = other.get(f"/proposals/{proposal.id}/consultation/topic").get_data(as_text=True)
        assert "难听的话" not in html and "人身攻击" not in html and "已被隐藏" in html
    with app.test_client() as c3:
        from tests.conftest import Browser
        from tests.factories import PASSWORD

        mine = Browser(c3)
        mine.get("/login")
        mine.post("/login", {"phone": author.phone, "password": PASSWORD})
        html = mine.get(f"/proposals/{proposal.id}/consultation/topic").get_data(as_text=True)
        assert "难听的话" in html and "人身攻击" in html


def test_a_villager_cannot_hide_a_post(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    post = make_post(proposal)
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    assert b.post(f"/consultation/posts/{post.id}/hide", {"reason": "x"}).status_code == 403
    assert not post.is_hidden


def test_a_clerk_posts_for_a_villager_heard_in_person(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    elder = make_user(["villager"], proposal.village, name="赵淑珍")
    clerk = make_user(["villager", "clerk"], proposal.village, name="杨丽娟")
    b = login_as(clerk)
    b.get(f"/proposals/{proposal.id}/consultation/topic")
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts",
                  {"stance": "support", "body": "我腿脚不好，路修平了好", "on_behalf_of": str(elder.id)})
    assert resp.status_code == 302
    post = db.session.scalars(select(Post)).one()
    assert post.author == elder and post.entered_by == clerk
    html = b.get(resp.headers["Location"]).get_data(as_text=True)
    assert "当面听取" in html and "杨丽娟" in html


def test_the_committee_turns_a_post_into_an_item_resolves_it_with_an_amendment(db, login_as):
    committee, proposal = committee_and_proposal("consensus_consultation", body="路面宽4米。")
    post = make_post(proposal, thread="consensus", stance="concern", body="4米太窄，农机过不去")
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/consensus")
    resp = b.post(f"/consultation/posts/{post.id}/disagreement", {"title": "路面宽度"})
    assert resp.status_code == 302
    item = post.disagreement
    assert item.status == "open"
    b.get(f"/proposals/{proposal.id}/consultation/disagreements")
    resp = b.post(f"/proposals/{proposal.id}/consultation/amendments",
                  {"body": "路面宽5米。", "note": "加宽到5米", "disagreement_id": str(item.id)})
    assert resp.status_code == 302
    amendment = item.amendments[0]
    resp = b.post(f"/consultation/amendments/{amendment.id}/accept", {"resolution": "采纳加宽意见"})
    assert resp.status_code == 302
    assert amendment.status == "accepted" and proposal.current_version.number == 2
    assert item.status == "resolved" and item.outcome == "采纳加宽意见"
    html = b.get(f"/proposals/{proposal.id}/consultation/disagreements").get_data(as_text=True)
    assert "已解决" in html and "成为第 2 版" in html


def test_an_empty_amendment_is_refused_and_what_was_typed_is_kept(db, login_as):
    committee, proposal = committee_and_proposal("consensus_consultation")
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/disagreements")
    resp = b.post(f"/proposals/{proposal.id}/consultation/amendments", {"body": "", "note": "我想改的说明"})
    assert resp.status_code == 400 and "我想改的说明" in resp.get_data(as_text=True)


def test_carrying_an_item_forward_needs_a_reason(db, login_as):
    committee, proposal = committee_and_proposal("consensus_consultation")
    item = services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="分配基数")
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/disagreements")
    b.post(f"/consultation/disagreements/{item.id}/carry", {"reason": ""})
    assert item.status == "open"
    b.post(f"/consultation/disagreements/{item.id}/carry", {"reason": "两种意见都有道理，交村民会议决定"})
    assert item.status == "carried"


def test_a_villager_cannot_resolve_an_item(db, login_as):
    committee, proposal = committee_and_proposal("consensus_consultation")
    item = services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="x")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/disagreements")
    assert b.post(f"/consultation/disagreements/{item.id}/resolve", {"resolution": "好"}).status_code == 403


@pytest.mark.parametrize("headers", [{}, HX])
def test_the_sense_check_is_answered_with_and_without_htmx(db, login_as, headers):
    proposal = make_proposal(stage="consensus_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/disagreements")
    resp = b.post(f"/proposals/{proposal.id}/consultation/sense-check", {"choice": "unsure"}, headers=headers)
    if headers:
        assert resp.status_code == 200 and 'id="sense-check"' in resp.get_data(as_text=True)
        assert "<html" not in resp.get_data(as_text=True)
    else:
        assert resp.status_code == 302
    from app.consultation import api

    assert api.sense_counts(proposal)["unsure"] == 1


def test_the_committee_lists_a_household_and_sees_who_is_not_heard(db, login_as):
    committee, proposal = committee_and_proposal()
    make_user(["villager"], proposal.village, household="1-007", name="钱富贵")
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/stakeholders")
    resp = b.post(f"/proposals/{proposal.id}/consultation/stakeholders", {"number": "1-007", "reason": "路占了菜地"})
    assert resp.status_code == 302
    html = b.get(f"/proposals/{proposal.id}/consultation/stakeholders").get_data(as_text=True)
    assert "钱富贵" in html and "路占了菜地" in html and "利益相关户 1 户中，已有 0 户发表了意见" in html
    assert "尚未听取意见——请上门走访或打电话" in html


def test_an_unknown_household_number_is_refused_and_kept(db, login_as):
    committee, proposal = committee_and_proposal()
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/stakeholders")
    resp = b.post(f"/proposals/{proposal.id}/consultation/stakeholders", {"number": "9-999", "reason": "原因"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "9-999" in html and "原因" in html


def test_a_villager_cannot_list_stakeholders(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/stakeholders")
    assert b.post(f"/proposals/{proposal.id}/consultation/stakeholders",
                  {"number": "1-001", "reason": "x"}).status_code == 403


def test_the_committee_writes_the_summary_and_it_stays_visible(db, login_as):
    committee, proposal = committee_and_proposal()
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/summary")
    resp = b.post(f"/proposals/{proposal.id}/consultation/summary",
                  {"heard": "12户中9户发表了意见，多数支持。", "answer": "草案增加了排水沟。"})
    assert resp.status_code == 302
    proposal.stage = "committee_deliberation"
    html = b.get(f"/proposals/{proposal.id}/consultation/summary").get_data(as_text=True)
    assert "12户中9户发表了意见" in html and "<form method=\"post\" class=\"card\"" not in html


def test_an_empty_summary_is_refused_and_the_text_kept(db, login_as):
    committee, proposal = committee_and_proposal()
    b = login_as(committee)
    b.get(f"/proposals/{proposal.id}/consultation/summary")
    resp = b.post(f"/proposals/{proposal.id}/consultation/summary", {"heard": "听到了很多", "answer": ""})
    assert resp.status_code == 400 and "听到了很多" in resp.get_data(as_text=True)


def test_the_proposal_page_section_shows_summary_coverage_thread_and_items(db, app):
    committee, proposal = committee_and_proposal("consensus_consultation")
    from app.consultation.models import ConsultationSummary

    db.session.add(ConsultationSummary(proposal=proposal, heard="大家关心排水", answer="加了排水沟",
                                       written_by=committee))
    make_post(proposal, thread="consensus", stance="oppose")
    services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="资金来源")
    with app.test_request_context():
        from flask_login import login_user

        login_user(committee)
        html = render_template("consultation/_proposal_section.html", proposal=proposal)
    assert "大家关心排水" in html and "资金来源" in html and f"/proposals/{proposal.id}/consultation/consensus" in html


def _post_urls(proposal, post, item, amendment):
    p = proposal.id
    return [f"/proposals/{p}/consultation/consensus/posts", f"/consultation/posts/{post.id}/replies",
            f"/consultation/posts/{post.id}/hide", f"/consultation/posts/{post.id}/disagreement",
            f"/consultation/disagreements/{item.id}/resolve", f"/consultation/disagreements/{item.id}/carry",
            f"/proposals/{p}/consultation/amendments", f"/consultation/amendments/{amendment.id}/accept",
            f"/consultation/amendments/{amendment.id}/decline", f"/proposals/{p}/consultation/sense-check",
            f"/proposals/{p}/consultation/stakeholders", f"/proposals/{p}/consultation/summary"]


def _everything(stage="consensus_consultation"):
    committee, proposal = committee_and_proposal(stage, body="原文")
    post = make_post(proposal, thread="consensus")
    item = services.register_disagreement(make_post(proposal, thread="consensus"), committee, title="分歧")
    amendment = services.propose_amendment(proposal, committee, body="新文", note="改")
    return proposal, post, item, amendment


def test_every_action_sends_an_anonymous_visitor_to_sign_in(db, browser):
    urls = _post_urls(*_everything())
    browser.get("/login")
    for url in urls:
        resp = browser.post(url, {"body": "x", "reason": "x"})
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    assert _posts() == 2


def test_every_action_is_not_found_for_another_village_and_changes_nothing(db, login_as):
    proposal, post, item, amendment = _everything()
    b = login_as(make_user(["villager", "committee_member", "clerk", "supervisor"], make_village()))
    for url in _post_urls(proposal, post, item, amendment):
        resp = b.post(url, {"body": "外村", "reason": "外村", "resolution": "外村", "note": "外村", "choice": "agree",
                            "title": "外村", "number": "1-001", "heard": "外村", "answer": "外村", "stance": "support"})
        assert resp.status_code == 404, url
    assert _posts() == 2 and not post.is_hidden and item.status == "open" and amendment.status == "proposed"


def test_every_committee_action_is_forbidden_to_a_villager_of_the_village(db, login_as):
    proposal, post, item, amendment = _everything()
    b = login_as(make_user(["villager"], proposal.village))
    b.get(f"/proposals/{proposal.id}/consultation/consensus")
    committee_only = [u for u in _post_urls(proposal, post, item, amendment)
                      if not u.endswith(("/posts", "/replies", "/amendments", "/sense-check"))]
    for url in committee_only:
        assert b.post(url, {"reason": "x", "resolution": "x", "title": "x", "number": "1-001",
                            "heard": "x", "answer": "x"}).status_code == 403, url
    assert not post.is_hidden and item.status == "open" and amendment.status == "proposed"


def test_the_thread_speaks_english_to_someone_who_chose_it(db, login_as):
    proposal = make_proposal(stage="topic_consultation")
    villager = make_user(["villager"], proposal.village)
    villager.language = "en"
    b = login_as(villager)
    html = b.get(f"/proposals/{proposal.id}/consultation/topic").get_data(as_text=True)
    assert "Post my opinion" in html and "I worry about something" in html
    resp = b.post(f"/proposals/{proposal.id}/consultation/topic/posts", {"stance": "support", "body": ""})
    assert "Please write your opinion." in resp.get_data(as_text=True)
