"""The read pages whose data grows with a county (the consultation thread, the township
dashboard, the proposal list, the proposal page) run the same number of statements
whether they show a few rows or many: each page is measured at two sizes, and the test
fails when the count follows the rows."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.models import utcnow
from app.consultation.models import ConsultationSummary, Disagreement
from app.deliberation.models import StageChange
from app.extensions import db
from tests.consultation.factories import make_post
from tests.factories import make_proposal, make_user, make_village
from tests.statements import statements_for
from tests.voting.factories import make_poll


def _two_sizes(client, url, grow, small=2, large=9):
    """Statement counts of `url` after growing the data to `small`, then to `large` units."""
    grow(small)
    client.get(url)  # warm: the set-up's text messages leave the outbox on the first commit
    first = statements_for(client, url)
    grow(large - small)
    client.get(url)
    second = statements_for(client, url)
    return first, second


def test_the_consultation_thread_runs_as_many_statements_for_many_posts_and_replies_as_for_few(login_as):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    proposal = make_proposal("topic_consultation", village, committee)
    clerk = make_user(["clerk", "villager"], village)
    reader = make_user(["villager"], village)

    def grow(n):
        for _ in range(n):
            top = make_post(proposal, make_user(["villager"], village), stance="concern")
            top.entered_by = clerk
            reply = make_post(proposal, make_user(["villager"], village), parent=top, body="回复：同意。")
            reply.entered_by = clerk
            for post in (top, reply):
                db.session.add(Disagreement(proposal=proposal, post=post, title="占地补偿", created_by=committee))
        db.session.flush()

    client = login_as(reader).client
    first, second = _two_sizes(client, f"/proposals/{proposal.id}/consultation/topic", grow)
    assert first == second, f"{first} statements for 2 posts with replies, {second} for 9"


def _busy_village(township, overseer_village_count):
    """A village with a proposal that has history, a closed poll, an overdue objection,
    a consultation summary and representatives: every fact the dashboard looks at."""
    village = make_village(township)
    for gender in ("M", "M", "F"):
        make_user(["representative"], village, gender=gender)
    poll, _voters, committee = make_poll("villager_resolution", village=village)
    proposal = poll.proposal
    at = utcnow() - timedelta(days=20)
    prev = None
    for stage in ("draft", "topic_consultation", "committee_deliberation", "member_review", "villager_resolution"):
        db.session.add(StageChange(proposal=proposal, from_stage=prev, to_stage=stage, at=at))
        prev, at = stage, at + timedelta(days=1)
    db.session.add(ConsultationSummary(proposal=proposal, heard="听取了意见", answer="已修改", written_by=committee))
    late = make_proposal("publicized", village, committee, title="逾期议题")
    late.stage_deadline = utcnow() - timedelta(days=1)
    make_proposal("completed", village, committee, title="待备案议题")
    from app.records import services

    objection = services.file_objection(late, make_user(["villager"], village), "公示时间不够")
    objection.reply_due_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    return village


def test_the_township_dashboard_runs_as_many_statements_for_many_villages_as_for_few(login_as):
    first_village = make_village()
    township = first_village.township
    overseer = make_user(["overseer"], township=township)

    def grow(n):
        for _ in range(n):
            _busy_village(township, n)

    client = login_as(overseer).client
    first, second = _two_sizes(client, f"/oversight/townships/{township.id}", grow, small=1, large=6)
    assert first == second, f"{first} statements for 2 villages, {second} for 7"


def test_a_village_oversight_page_runs_as_many_statements_for_a_busy_village_as_for_a_quiet_one(login_as):
    village = make_village()
    committee = make_user(["committee_member", "villager"], village)
    overseer = make_user(["overseer"], township=village.township)
    from app.records import services

    made = iter(range(100))

    def grow(n):
        for _ in range(n):
            i = next(made)
            late = make_proposal("publicized", village, committee, title=f"逾期议题{i}")  # no history: flagged
            late.stage_deadline = utcnow() - timedelta(days=1)
            make_proposal("completed", village, committee, title=f"待备案{i}")
            objection = services.file_objection(late, make_user(["villager"], village), "公示时间不够")
            objection.reply_due_at = utcnow() - timedelta(hours=1)
        db.session.flush()

    client = login_as(overseer).client
    first, second = _two_sizes(client, f"/oversight/villages/{village.id}", grow, small=1, large=8)
    assert first == second, f"{first} statements for a quiet village, {second} for a busy one"
    html = client.get(f"/oversight/villages/{village.id}").get_data(as_text=True)
    assert "逾期议题7" in html and "待备案7" in html and "#objection-" in html


def test_the_county_page_runs_as_many_statements_for_many_townships_as_for_few(login_as):
    from tests.factories import make_county, make_township

    county = make_county()
    reader = make_user(["county_overseer"], county=county)

    def grow(n):
        for _ in range(n):
            _busy_village(make_township(county=county), n)

    client = login_as(reader).client
    first, second = _two_sizes(client, f"/oversight/counties/{county.id}", grow, small=1, large=5)
    assert first == second, f"{first} statements for 1 township, {second} for 5"


def test_a_township_of_many_villages_comes_in_pages_of_the_table_linked_without_javascript(login_as):
    from app.records.dashboard import PAGE_SIZE

    township = make_village(name="甲村000").township
    for i in range(1, PAGE_SIZE + 5):
        make_village(township, name=f"甲村{i:03d}")
    client = login_as(make_user(["overseer"], township=township)).client
    url = f"/oversight/townships/{township.id}"
    first = client.get(f"{url}?sort=name").get_data(as_text=True)
    assert "甲村000" in first and f"甲村{PAGE_SIZE - 1:03d}" in first and f"甲村{PAGE_SIZE:03d}" not in first
    assert f"{url}?sort=name&amp;page=2" in first and f"{PAGE_SIZE + 5}" in first[first.index("<caption>"):]
    second = client.get(f"{url}?sort=name&page=2").get_data(as_text=True)
    assert f"甲村{PAGE_SIZE:03d}" in second and "甲村000" not in second and "page=3" not in second
    assert client.get(f"{url}?page=99").status_code == 200  # past the end: the last page


def test_the_proposal_list_runs_as_many_statements_for_many_proposals_as_for_few(login_as):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    reader = make_user(["villager"], village)

    def grow(n):
        for i in range(n):
            p = make_proposal("topic_consultation", village, committee, title=f"议题{i}")
            p.stage_deadline = utcnow() - timedelta(days=1)
        db.session.flush()

    client = login_as(reader).client
    first, second = _two_sizes(client, f"/villages/{village.id}/proposals", grow, small=2, large=60)
    assert first == second, f"{first} statements for 2 proposals, {second} for 60"


def test_the_proposal_page_runs_as_many_statements_for_a_long_history_as_for_a_short_one(login_as):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    proposal = make_proposal("topic_consultation", village, committee)
    reader = make_user(["villager"], village)
    from app.deliberation.models import ProposalVersion

    def grow(n):
        for _ in range(n):
            number = len(proposal.versions) + 1
            db.session.add(ProposalVersion(proposal=proposal, number=number, title=f"第{number}稿",
                                           body="修改后的方案。", created_by=committee))
            db.session.add(StageChange(proposal=proposal, from_stage="topic_consultation",
                                       to_stage="topic_consultation", at=utcnow(), actor=committee))
            make_post(proposal, make_user(["villager"], village))
        db.session.flush()
        db.session.expire(proposal)

    client = login_as(reader).client
    first, second = _two_sizes(client, f"/proposals/{proposal.id}", grow)
    assert first == second, f"{first} statements for a short history, {second} for a long one"


@pytest.mark.parametrize("per_page_budget", [30 * 1024])
def test_a_page_of_the_proposal_list_stays_under_its_byte_budget_with_a_thousand_proposals(login_as,
                                                                                          per_page_budget):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    for i in range(1000):
        make_proposal("topic_consultation", village, committee, title=f"修缮第{i}号水渠并清理沿线的淤泥和杂草")
    db.session.flush()
    client = login_as(make_user(["villager"], village)).client
    resp = client.get(f"/villages/{village.id}/proposals")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert len(resp.get_data()) <= per_page_budget, len(resp.get_data())
    assert "修缮第999号水渠" in html and "修缮第0号水渠" not in html
    # The next page is a plain link, reached without JavaScript.
    assert f"/villages/{village.id}/proposals?page=2" in html
    page2 = client.get(f"/villages/{village.id}/proposals?page=2").get_data(as_text=True)
    assert "修缮第999号水渠" not in page2 and "修缮第979号水渠" in page2


def test_a_long_thread_comes_in_pages_of_newest_opinions_linked_without_javascript(login_as):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    proposal = make_proposal("topic_consultation", village, committee)
    author = make_user(["villager"], village)
    for i in range(65):
        make_post(proposal, author, body=f"第{i}条意见：同意修路。")
    client = login_as(make_user(["villager"], village)).client
    url = f"/proposals/{proposal.id}/consultation/topic"
    first = client.get(url).get_data(as_text=True)
    assert "第64条意见" in first and "第35条意见" in first and "第34条意见" not in first
    assert "(65)" in first and f"{url}?page=2" in first
    last = client.get(f"{url}?page=3").get_data(as_text=True)
    assert "第0条意见" in last and "第5条意见" not in last and f"{url}?page=4" not in last


def test_the_dashboard_lists_flagged_villages_first_and_sorts_by_a_plain_link(login_as):
    quiet = make_village(name="安静村")
    township = quiet.township
    busy = _busy_village(township, 1)
    busy.name = "忙碌村"
    db.session.flush()
    client = login_as(make_user(["overseer"], township=township)).client
    html = client.get(f"/oversight/townships/{township.id}").get_data(as_text=True)
    table = html[html.index("<table"):html.index("</table>")]
    assert table.index("忙碌村") < table.index("安静村")
    assert f"/oversight/townships/{township.id}?sort=name" in table
    by_name = client.get(f"/oversight/townships/{township.id}?sort=name").get_data(as_text=True)
    table = by_name[by_name.index("<table"):by_name.index("</table>")]
    assert table.index("安静村") < table.index("忙碌村")
    assert client.get(f"/oversight/townships/{township.id}?sort=%27;drop").status_code == 200


def test_a_village_with_many_flagged_proposals_shows_twenty_and_points_to_the_rest(login_as):
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    for i in range(25):
        make_proposal("publicized", village, committee, title=f"跳过环节的议题{i:02d}")  # no history: skipped
    client = login_as(make_user(["overseer"], township=village.township)).client
    html = client.get(f"/oversight/villages/{village.id}").get_data(as_text=True)
    assert html.count("跳过环节的议题") == 20
    assert "另有 5 项" in html and f"/oversight/townships/{village.township_id}/flags.csv" in html


def test_the_suggestion_list_runs_as_many_statements_for_many_signed_suggestions_and_comes_in_pages(login_as):
    from app.deliberation.models import Suggestion, SuggestionSignature

    villager = make_user(["villager"])
    village = villager.village
    signers = [make_user(["villager"], village) for _ in range(3)]

    def grow(n):
        for i in range(n):
            s = Suggestion(village=village, title=f"建议{len(village_suggestions)}", body="修路灯。", author=villager)
            village_suggestions.append(s)
            db.session.add(s)
            db.session.flush()
            for p in signers:
                db.session.add(SuggestionSignature(suggestion_id=s.id, person_id=p.id))
        db.session.flush()

    village_suggestions: list = []
    client = login_as(villager).client
    first, second = _two_sizes(client, f"/villages/{village.id}/suggestions", grow, small=2, large=30)
    assert first == second, f"{first} statements for 2 suggestions, {second} for 30"
    html = client.get(f"/villages/{village.id}/suggestions").get_data(as_text=True)
    assert "建议29" in html and "建议9<" not in html and f"/villages/{village.id}/suggestions?page=2" in html


def _unhashed_villagers(village, n, start=0, prefix="村民"):
    """People registered without a password (faster than make_user for long lists)."""
    from app.accounts.models import Person, RoleGrant

    people = [Person(village=village, name=f"{prefix}{start + i:03d}", phone=f"150{village.id:03d}{start + i:05d}")
              for i in range(n)]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all([RoleGrant(person_id=p.id, role="villager", village_id=village.id) for p in people])
    db.session.flush()
    return people


def test_the_inbox_comes_in_pages_and_runs_as_many_statements_for_many_messages_as_for_few(login_as):
    from app.notifications.api import notify
    from app.notifications.views import PAGE_SIZE

    villager = make_user(["villager"])
    made = iter(range(1000))

    def grow(n):
        for _ in range(n):
            notify(villager, "poll_opened", f"第{next(made)}条消息", "/polls", send=False)
        db.session.flush()

    client = login_as(villager).client
    first, second = _two_sizes(client, "/inbox", grow, small=2, large=PAGE_SIZE + 10)
    assert first == second, f"{first} statements for 2 messages, {second} for {PAGE_SIZE + 10}"
    html = client.get("/inbox").get_data(as_text=True)
    assert html.count('class="card note') == PAGE_SIZE and "/inbox?page=2" in html
    older = client.get("/inbox?page=2").get_data(as_text=True)
    assert older.count('class="card note') == 10 and "/inbox?page=3" not in older


def test_the_village_register_comes_in_pages_and_runs_as_many_statements_for_a_large_village(login_as):
    from app.accounts.views import PEOPLE_PER_PAGE

    committee = make_user(["committee_member", "villager"])
    village = committee.village
    made = iter(range(1000))

    def grow(n):
        for _ in range(n):
            _unhashed_villagers(village, 1, next(made))

    client = login_as(committee).client
    url = f"/villages/{village.id}/people"
    first, second = _two_sizes(client, url, grow, small=2, large=PEOPLE_PER_PAGE + 5)
    assert first == second, f"{first} statements for a few people, {second} for {PEOPLE_PER_PAGE + 5}"
    html = client.get(url).get_data(as_text=True)
    assert html.count("<li><strong>") == PEOPLE_PER_PAGE and f"{url}?page=2" in html
    rest = client.get(f"{url}?page=2").get_data(as_text=True)
    assert rest.count("<li><strong>") == 6 and "?page=3" not in rest  # 105 + the committee member


def test_the_meeting_roster_comes_in_pages_and_runs_as_many_statements_for_a_large_assembly(login_as):
    from app.voting import services as voting
    from app.voting.models import RosterEntry
    from app.voting.views import ROSTER_PAGE_SIZE

    poll, _voters, committee = make_poll("villager_resolution", voters=1)
    clerk = make_user(["clerk", "villager"], poll.village)
    voting.open_meeting(poll, clerk, "村委会")
    made = iter(range(1000))

    def grow(n):
        for _ in range(n):
            person = _unhashed_villagers(poll.village, 1, next(made), prefix="到会")[0]
            db.session.add(RosterEntry(poll_id=poll.id, person_id=person.id, name=person.name,
                                       unit_key=f"p{person.id}"))
        db.session.flush()
        db.session.expire(poll)

    client = login_as(clerk).client
    url = f"/polls/{poll.id}/meeting"
    first, second = _two_sizes(client, url, grow, small=2, large=ROSTER_PAGE_SIZE + 5)
    assert first == second, f"{first} statements for a small roster, {second} for {ROSTER_PAGE_SIZE + 5}"
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="roster-row"') == ROSTER_PAGE_SIZE and f"{url}?page=2" in html
    rest = client.get(f"{url}?page=2").get_data(as_text=True)
    assert 0 < rest.count('class="roster-row"') < ROSTER_PAGE_SIZE and "page=3" not in rest
    # Signing someone in on page 2 brings the clerk back to page 2.
    from tests.conftest import csrf_token_from

    late = db.session.scalars(db.select(RosterEntry).where(RosterEntry.poll_id == poll.id)
                              .order_by(RosterEntry.id.desc())).first()
    resp = client.post(f"/polls/{poll.id}/meeting/sign-in",
                       data={"csrf_token": csrf_token_from(rest), "person_id": late.person_id, "page": "2"})
    assert resp.status_code == 302 and resp.location.endswith(f"{url}?page=2")


def test_a_long_audit_trail_comes_in_pages_and_checks_every_event(login_as):
    from app.records.audit import record_event

    committee = make_user(["committee_member", "villager"])
    proposal = make_proposal("topic_consultation", committee.village, committee, title="长记录议题")
    made = iter(range(1000))

    def grow(n):
        for _ in range(n):
            record_event("proposal.deadline", actor=committee, village_id=proposal.village_id, obj=proposal,
                         payload={"n": next(made)})
        db.session.flush()

    client = login_as(committee).client
    url = f"/proposals/{proposal.id}/audit"
    first, second = _two_sizes(client, url, grow, small=2, large=130)
    assert first == second, f"{first} statements for a short trail, {second} for a long one"
    html = client.get(url).get_data(as_text=True)
    assert html.count('id="event-') == 100 and f"{url}?page=2" in html
    total = html.count("✔")
    assert total >= 100  # every event shown matches its hash, and the summary counts them all
    rest = client.get(f"{url}?page=2").get_data(as_text=True)
    assert 0 < rest.count('id="event-') < 100 and "?page=3" not in rest


def _posting_board():
    """A village and a function that posts n more notices on its board."""
    committee = make_user(["committee_member", "villager"])
    village = committee.village
    made = iter(range(1000))

    def grow(n):
        for _ in range(n):
            make_proposal("publicized", village, committee, title=f"公示议题{next(made):03d}")
        db.session.flush()

    return village, grow


def test_the_notice_board_comes_in_pages_of_the_newest_notices(client):
    from app.records.views_board import BOARD_PAGE

    village, grow = _posting_board()
    url = f"/board/{village.id}"
    # Past one page, a longer board costs no more statements: only one page is drawn.
    first, second = _two_sizes(client, url, grow, small=BOARD_PAGE + 1, large=BOARD_PAGE * 3)
    assert first == second, f"{first} statements for {BOARD_PAGE + 1} notices, {second} for {BOARD_PAGE * 3}"
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="board-link"') == BOARD_PAGE and f"{url}?page=2" in html
    last = client.get(f"{url}?page=3").get_data(as_text=True)
    assert last.count('class="board-link"') == BOARD_PAGE and "?page=4" not in last


def test_the_printed_notice_board_comes_in_the_same_pages(client):
    """The A4 print of a board with years of notices draws one page of them (each with
    its QR code) and says which page it is, instead of every notice ever posted."""
    from app.records.views_board import BOARD_PAGE

    village, grow = _posting_board()
    url = f"/board/{village.id}/print"
    first, second = _two_sizes(client, url, grow, small=BOARD_PAGE + 1, large=BOARD_PAGE * 2 + 5)
    assert first == second, f"{first} statements for {BOARD_PAGE + 1} notices, {second} for {BOARD_PAGE * 2 + 5}"
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="print-notice"') == BOARD_PAGE and "第 1 页，共 3 页" in html and f"{url}?page=2" in html
    last = client.get(f"{url}?page=3").get_data(as_text=True)
    assert last.count('class="print-notice"') == 5 and "?page=4" not in last
