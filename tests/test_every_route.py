"""Every route of app.url_map, GET and POST, for every role and for another village's
or township's people: what is allowed and what is refused (issue 12).

ROUTES below holds one entry per endpoint: the address (built from the world's
objects) and, per method, the roles that get through. Every other role must be
refused: sent to sign in, 401, 403, 404, 405 or a refusal's 303. A role that gets
through must not meet 403/404 or a server error (it may meet 400: the test sends
empty forms). A new route without an entry fails the test until someone decides its
row; so does an entry for a route that no longer exists.

Each request runs inside a savepoint that is rolled back, so no request changes what
the next one sees. Roles: anonymous; the village's villager, representative,
party_member, committee_member, supervisor, clerk; the township's overseer;
other_overseer (overseer of another township); other_committee (committee member of
another village of the same township); county_overseer (of the township's county: reads
what the township reads, never acts); other_county_overseer (of another county).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from app.accounts.models import utcnow
from app.extensions import db as _db
from tests.records import images
from tests.conftest import csrf_token_from
from tests.factories import make_proposal, make_township, make_user, make_village

ROLES = ("anonymous", "villager", "representative", "party_member", "committee_member", "supervisor", "clerk",
         "overseer", "other_overseer", "other_committee", "county_overseer", "other_county_overseer")
VILLAGE = {"villager", "representative", "party_member", "committee_member", "supervisor", "clerk"}
SIGNED_IN = set(ROLES) - {"anonymous"}
NOBODY: set[str] = set()
EVERYONE = set(ROLES)
# Who reads what a township reads: its overseer and its county's overseer (read-only).
TOWNSHIP_READERS = {"overseer", "county_overseer"}
# Reading the village's proposals after the draft: its people, its township and county.
READERS = VILLAGE | TOWNSHIP_READERS
COMMITTEE = {"committee_member"}
COMMITTEE_AND_TOWNSHIP = {"committee_member"} | TOWNSHIP_READERS  # reading drafts, trails, forms
ANY_OVERSEER = {"overseer", "other_overseer", "county_overseer", "other_county_overseer"}
MEETING = {"committee_member", "clerk"}
PEOPLE_KEEPERS = {"committee_member", "clerk"}  # the village register (and its CSV import)


@dataclass
class World:
    village: object
    people: dict
    draft: object = None
    topic: object = None
    consensus: object = None
    vote: object = None
    poll: object = None
    publicized: object = None
    implementing: object = None
    completed: object = None
    objects: dict = field(default_factory=dict)


def build_world() -> World:
    from app.consultation import services as consultation
    from app.deliberation import services as deliberation
    from app.notifications.api import notify
    from app.records import services as records
    from app.voting import services as voting
    from tests.consultation.factories import make_post

    from tests.factories import make_county

    county = make_county()
    township = make_township(county=county)
    village = make_village(township)
    people = {role: make_user([role] if role == "villager" else [role, "villager"], village)
              for role in VILLAGE}
    people["overseer"] = make_user(["overseer"], township=township)
    people["other_overseer"] = make_user(["overseer"], township=make_township())
    people["other_committee"] = make_user(["committee_member", "villager"], make_village(township))
    people["county_overseer"] = make_user(["county_overseer"], county=county)
    # Another county, with a township and a village of its own, that is not ours.
    other_county = make_county()
    make_village(make_township(county=other_county))
    people["other_county_overseer"] = make_user(["county_overseer"], county=other_county)
    chair = people["committee_member"]
    w = World(village=village, people=people)
    w.draft = make_proposal("draft", village, chair, body="草稿正文，只给两委看。")
    w.topic = make_proposal("topic_consultation", village, chair)
    w.objects["post"] = make_post(w.topic, people["villager"])
    w.consensus = make_proposal("consensus_consultation", village, chair)
    cons_post = make_post(w.consensus, people["villager"], thread="consensus", stance="concern")
    w.objects["disagreement"] = consultation.register_disagreement(cons_post, chair, title="宽度")
    w.objects["amendment"] = consultation.propose_amendment(w.consensus, people["villager"], body="路面宽5米。",
                                                            note="加宽", disagreement=w.objects["disagreement"])
    w.vote = make_proposal("villager_resolution", village, chair)
    long_ago = utcnow() - timedelta(days=30)
    w.vote.assembly_announced_at = w.vote.party_plan_sent_at = long_ago
    w.vote.frozen_version = w.vote.current_version
    _db.session.flush()
    w.poll = voting.open_poll(w.vote, chair, closes_at=utcnow() + timedelta(hours=24))
    voting.open_meeting(w.poll, people["clerk"], "村委会")
    # A committee poll everyone on its roster has voted in: it may be closed early.
    w.objects["committee_vote"] = make_proposal("committee_deliberation", village, chair)
    w.objects["full_poll"] = voting.open_poll(w.objects["committee_vote"], chair,
                                              closes_at=utcnow() + timedelta(hours=24))
    voting.cast_ballot(w.objects["full_poll"], chair, "yes")
    # A Party members' review that is ready for its poll.
    w.objects["member_review"] = make_proposal("member_review", village, chair)
    w.objects["member_review"].party_plan_sent_at = long_ago
    w.objects["consensus_post"] = make_post(w.consensus, people["villager"], thread="consensus", body="再议一下")
    w.publicized = make_proposal("publicized", village, chair)
    w.objects["objection"] = records.file_objection(w.publicized, people["villager"], "补偿标准太低。")
    w.objects["upheld"] = make_proposal("publicized", village, chair)
    records.answer_objection(records.file_objection(w.objects["upheld"], people["villager"], "程序有误。"),
                             people["supervisor"], "异议成立。", True)
    w.implementing = make_proposal("implementing", village, chair)
    png = images.png((40, 30))
    w.objects["report"] = records.post_report(w.implementing, chair, "路基完成。", photos=[png])
    w.objects["photo"] = w.objects["report"].photos[0]
    w.completed = make_proposal("completed", village, chair)
    w.objects["suggestion"] = deliberation.file_suggestion(village, make_user(["villager"], village), title="修井",
                                                           body="井水浑浊。")
    from app.accounts.imports import start_import

    w.objects["import"] = start_import(village, chair, "姓名,手机号\n甲,13900009999\n".encode(), "a.csv")
    w.objects["note"] = notify(people["villager"], "poll_opened", "表决开始了", "/polls", send=False)
    _db.session.flush()
    return w


def R(path, get=None, post=None, signs_out=False):
    """One row: a path (a function of the world) and who gets through, per method;
    None means the route does not take that method. `signs_out`: being sent to the
    sign-in page is the route's success (signing out)."""
    return {"path": path, "GET": get, "POST": post, "signs_out": signs_out}


ROUTES = {
    "static": None,  # files of app/static, the same for everyone (tests/main/test_static.py)
    "main.home": R(lambda w: "/", get=EVERYONE),
    "main.healthz": R(lambda w: "/healthz", get=EVERYONE),
    "main.set_language": R(lambda w: "/language", post=EVERYONE),
    "main.set_text_size": R(lambda w: "/text-size", post=EVERYONE),
    "accounts.login": R(lambda w: "/login", get=EVERYONE, post=EVERYONE),
    "accounts.logout": R(lambda w: "/logout", post=SIGNED_IN, signs_out=True),
    "accounts.request_code": R(lambda w: "/code", get=EVERYONE, post=EVERYONE),
    "accounts.code_login": R(lambda w: "/code/enter", get=EVERYONE, post=EVERYONE),
    "accounts.set_password": R(lambda w: "/password", get=SIGNED_IN, post=SIGNED_IN),
    "accounts.people": R(lambda w: f"/villages/{w.village.id}/people", get=PEOPLE_KEEPERS, post=PEOPLE_KEEPERS),
    "accounts.import_people": R(lambda w: f"/villages/{w.village.id}/people/import", post=PEOPLE_KEEPERS),
    "accounts.import_progress": R(lambda w: f"/villages/{w.village.id}/people/imports/{w.objects['import'].id}",
                                  get=PEOPLE_KEEPERS),
    "deliberation.proposal_list": R(lambda w: f"/villages/{w.village.id}/proposals", get=READERS),
    "deliberation.proposal_new": R(lambda w: f"/villages/{w.village.id}/proposals/new", get=COMMITTEE,
                                   post=COMMITTEE),
    "deliberation.authorisations": R(lambda w: f"/villages/{w.village.id}/authorisations", get=READERS,
                                     post=COMMITTEE),
    "deliberation.proposal_detail": R(lambda w: f"/proposals/{w.draft.id}", get=COMMITTEE_AND_TOWNSHIP),
    "deliberation.proposal_edit": R(lambda w: f"/proposals/{w.draft.id}/edit", get=COMMITTEE, post=COMMITTEE),
    "deliberation.version_history": R(lambda w: f"/proposals/{w.draft.id}/versions", get=COMMITTEE_AND_TOWNSHIP),
    "deliberation.version_diff": R(lambda w: f"/proposals/{w.draft.id}/diff", get=COMMITTEE_AND_TOWNSHIP),
    # An empty form is sent back to the proposal for whoever may read it; the move itself
    # is the engine's to refuse (the county overseer's: tests/accounts/test_county_overseer.py).
    "deliberation.proposal_move": R(lambda w: f"/proposals/{w.draft.id}/move", post=COMMITTEE_AND_TOWNSHIP),
    "deliberation.proposal_close_topic": R(lambda w: f"/proposals/{w.topic.id}/close-topic", post=COMMITTEE),
    "deliberation.proposal_announce": R(lambda w: f"/proposals/{w.consensus.id}/announce", post=COMMITTEE),
    "deliberation.proposal_party_plan": R(lambda w: f"/proposals/{w.consensus.id}/party-plan", post=COMMITTEE),
    "deliberation.proposal_notice_correction": R(lambda w: f"/proposals/{w.consensus.id}/notice-correction",
                                                 post=COMMITTEE),
    "deliberation.proposal_deadline": R(lambda w: f"/proposals/{w.topic.id}/deadline", post=COMMITTEE),
    "deliberation.suggestion_list": R(lambda w: f"/villages/{w.village.id}/suggestions", get=READERS, post=VILLAGE),
    "deliberation.suggestion_detail": R(lambda w: f"/suggestions/{w.objects['suggestion'].id}", get=READERS),
    "deliberation.suggestion_cosign": R(lambda w: f"/suggestions/{w.objects['suggestion'].id}/cosign", post=VILLAGE),
    "deliberation.suggestion_accept": R(lambda w: f"/suggestions/{w.objects['suggestion'].id}/accept",
                                        post=COMMITTEE),
    "deliberation.suggestion_answer": R(lambda w: f"/suggestions/{w.objects['suggestion'].id}/answer",
                                        post=COMMITTEE),
    "consultation.thread": R(lambda w: f"/proposals/{w.draft.id}/consultation/topic", get=COMMITTEE_AND_TOWNSHIP),
    "consultation.add_post": R(lambda w: f"/proposals/{w.topic.id}/consultation/topic/posts", post=VILLAGE),
    "consultation.add_reply": R(lambda w: f"/consultation/posts/{w.objects['post'].id}/replies", post=VILLAGE),
    "consultation.hide_post": R(lambda w: f"/consultation/posts/{w.objects['post'].id}/hide",
                                post={"committee_member", "supervisor"}),
    "consultation.register_disagreement": R(
        lambda w: f"/consultation/posts/{w.objects['consensus_post'].id}/disagreement", post=COMMITTEE),
    "consultation.disagreements": R(lambda w: f"/proposals/{w.draft.id}/consultation/disagreements",
                                    get=COMMITTEE_AND_TOWNSHIP),
    "consultation.propose_amendment": R(lambda w: f"/proposals/{w.consensus.id}/consultation/amendments",
                                        post=VILLAGE),
    "consultation.accept_amendment": R(lambda w: f"/consultation/amendments/{w.objects['amendment'].id}/accept",
                                       post=COMMITTEE),
    "consultation.decline_amendment": R(lambda w: f"/consultation/amendments/{w.objects['amendment'].id}/decline",
                                        post=COMMITTEE),
    "consultation.resolve_disagreement": R(
        lambda w: f"/consultation/disagreements/{w.objects['disagreement'].id}/resolve", post=COMMITTEE),
    "consultation.carry_disagreement": R(
        lambda w: f"/consultation/disagreements/{w.objects['disagreement'].id}/carry", post=COMMITTEE),
    "consultation.sense_check": R(lambda w: f"/proposals/{w.consensus.id}/consultation/sense-check", post=VILLAGE),
    "consultation.stakeholders": R(lambda w: f"/proposals/{w.topic.id}/consultation/stakeholders",
                                   get=READERS, post=COMMITTEE),
    "consultation.summary": R(lambda w: f"/proposals/{w.topic.id}/consultation/summary", get=READERS,
                              post=COMMITTEE),
    "voting.my_polls": R(lambda w: "/polls", get=VILLAGE | {"other_committee"}),  # people of a village
    "voting.poll_detail": R(lambda w: f"/polls/{w.poll.id}", get=READERS),
    "voting.confirm_choice": R(lambda w: f"/polls/{w.poll.id}/confirm", post=VILLAGE),
    "voting.cast": R(lambda w: f"/polls/{w.poll.id}/cast", post=VILLAGE),
    "voting.receipts": R(lambda w: f"/polls/{w.poll.id}/receipts", get=READERS),
    "voting.poll_export": R(lambda w: f"/polls/{w.poll.id}/record.json", get=READERS),
    "voting.open_poll": R(lambda w: f"/proposals/{w.objects['member_review'].id}/polls", post=COMMITTEE),
    "voting.close": R(lambda w: f"/polls/{w.objects['full_poll'].id}/close", post=COMMITTEE),
    # Once the meeting is open, who signed in is public to the village (the world opened it).
    "voting.meeting": R(lambda w: f"/polls/{w.poll.id}/meeting", get=READERS),
    "voting.meeting_open": R(lambda w: f"/polls/{w.poll.id}/meeting/open", post=MEETING),
    "voting.meeting_sign_in": R(lambda w: f"/polls/{w.poll.id}/meeting/sign-in", post=MEETING),
    "voting.meeting_ballot": R(lambda w: f"/polls/{w.poll.id}/meeting/ballot", post=MEETING),
    "voting.meeting_paper_ballot": R(lambda w: f"/polls/{w.poll.id}/meeting/paper-ballot", post=MEETING),
    "voting.meeting_count": R(lambda w: f"/polls/{w.poll.id}/meeting/count", post=MEETING),
    "voting.meeting_minutes": R(lambda w: f"/polls/{w.poll.id}/meeting/minutes", post=MEETING),
    "records.proposal_records": R(lambda w: f"/proposals/{w.publicized.id}/publication", get=READERS),
    "records.file_objection": R(lambda w: f"/proposals/{w.publicized.id}/objections", post=VILLAGE),
    "records.answer_objection": R(lambda w: f"/objections/{w.objects['objection'].id}/answer", post={"supervisor"}),
    "records.send_back": R(lambda w: f"/proposals/{w.objects['upheld'].id}/send-back",
                           post={"committee_member", "supervisor"}),
    "records.post_report": R(lambda w: f"/proposals/{w.implementing.id}/reports", post=COMMITTEE),
    "records.give_opinion": R(lambda w: f"/reports/{w.objects['report'].id}/opinion", post={"supervisor"}),
    "records.photo": R(lambda w: f"/photos/{w.objects['photo'].id}", get=READERS),
    "records.photo_thumbnail": R(lambda w: f"/photos/{w.objects['photo'].id}/thumbnail", get=READERS),
    # The report's photos of a proposal on the public board: anyone, like the board itself.
    "records.board_photo": R(lambda w: f"/board/{w.village.id}/{w.implementing.id}/photos/{w.objects['photo'].id}",
                             get=EVERYONE),
    "records.board_photo_thumbnail": R(
        lambda w: f"/board/{w.village.id}/{w.implementing.id}/photos/{w.objects['photo'].id}/thumbnail", get=EVERYONE),
    "records.audit_trail": R(lambda w: f"/proposals/{w.publicized.id}/audit", get=COMMITTEE_AND_TOWNSHIP),
    # The village's rule profile: the committee edits it, the township reads and approves it.
    "accounts.rule_profile": R(lambda w: f"/villages/{w.village.id}/rules", get=COMMITTEE_AND_TOWNSHIP,
                               post=COMMITTEE),
    "accounts.approve_rule_profile": R(lambda w: f"/villages/{w.village.id}/rules/approve", post={"overseer"}),
    "records.file_record": R(lambda w: f"/proposals/{w.completed.id}/filing", post={"overseer"}),
    "records.record_pdf": R(lambda w: f"/proposals/{w.publicized.id}/record.pdf", get=READERS),
    "records.paper_form": R(lambda w: f"/proposals/{w.draft.id}/forms/proposal", get=COMMITTEE_AND_TOWNSHIP),
    "records.api_record": R(lambda w: f"/api/v1/proposals/{w.publicized.id}/record", get=READERS),
    "records.api_proposals": R(lambda w: f"/api/v1/villages/{w.village.id}/proposals", get=READERS),
    "records.proposals_csv": R(lambda w: f"/villages/{w.village.id}/proposals.csv", get=READERS),
    "records.oversight": R(lambda w: "/oversight", get=ANY_OVERSEER),
    "records.chain_check": R(lambda w: "/oversight/audit", get=ANY_OVERSEER),
    "records.county_page": R(lambda w: f"/oversight/counties/{w.village.township.county_id}",
                             get={"county_overseer"}),
    "records.township_dashboard": R(lambda w: f"/oversight/townships/{w.village.township_id}",
                                    get=TOWNSHIP_READERS),
    "records.village_oversight": R(lambda w: f"/oversight/villages/{w.village.id}", get=TOWNSHIP_READERS),
    "records.flags_csv": R(lambda w: f"/oversight/townships/{w.village.township_id}/flags.csv",
                           get=TOWNSHIP_READERS),
    "records.board": R(lambda w: f"/board/{w.village.id}", get=EVERYONE),
    "records.board_item": R(lambda w: f"/board/{w.village.id}/{w.publicized.id}", get=EVERYONE),
    "records.board_print": R(lambda w: f"/board/{w.village.id}/print", get=EVERYONE),
    "notifications.inbox": R(lambda w: "/inbox", get=SIGNED_IN),
    "notifications.settings": R(lambda w: "/inbox/settings", get=SIGNED_IN, post=SIGNED_IN),
    "notifications.mark_all_read": R(lambda w: "/inbox/read", post=SIGNED_IN),
    "notifications.open_note": R(lambda w: f"/inbox/{w.objects['note'].id}/open", post={"villager"}),
}


def _refused(role: str, resp) -> bool:
    if resp.status_code in (401, 403, 404, 405, 303):
        return True
    return resp.status_code == 302 and "/login" in (resp.location or "") and role == "anonymous"


def _got_through(resp, signs_out=False) -> bool:
    if resp.status_code in (403, 404, 405) or resp.status_code >= 500:
        return False
    return signs_out or not (resp.status_code == 302 and "/login" in (resp.location or ""))


def test_every_route_has_a_row_and_every_row_a_route(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - set(ROUTES)) == [], "decide who may use these routes: add them to ROUTES"
    assert sorted(set(ROUTES) - endpoints) == [], "these routes are gone: remove their rows"


@pytest.mark.parametrize("endpoint", sorted(e for e, row in ROUTES.items() if row is not None))
def test_a_route_lets_through_exactly_its_roles(app, db, monkeypatch, endpoint):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    if not rules:
        pytest.fail(f"{endpoint} is in ROUTES but not in the app")
    methods = set().union(*(rule.methods for rule in rules)) & {"GET", "POST"}
    world = build_world()
    row = ROUTES[endpoint]
    path = row["path"](world)
    problems = []
    for method in ("GET", "POST"):
        allowed = row[method]
        if (allowed is None) != (method not in methods):
            problems.append(f"{method}: the row and the route disagree on the method")
            continue
        # Refused roles first: a request that gets through may change what follows.
        for role in sorted(ROLES, key=lambda r: (allowed is not None and r in allowed, ROLES.index(r))):
            client = app.test_client()
            if role != "anonymous":
                person = world.people[role]
                with client.session_transaction() as session:
                    session["_user_id"] = f"{person.id}:{person.session_token}"
                    session["_fresh"] = True
            data = None
            if method == "POST":  # a real CSRF token of this person's session, and nothing else
                data = {"csrf_token": csrf_token_from(client.get("/login" if role == "anonymous" else "/inbox")
                                                      .get_data(as_text=True))}
            resp = client.open(path, method=method, data=data)
            if allowed is None:
                # Not this route's method (another route of the same shape may answer 404).
                ok = resp.status_code == 405 or _refused(role, resp)
            elif role in allowed:
                ok = _got_through(resp, row["signs_out"])
            else:
                ok = _refused(role, resp)
            if not ok:
                expected = "allowed" if allowed and role in allowed else "refused"
                problems.append(f"{method} {path} as {role}: {resp.status_code} {resp.location or ''} "
                                f"(expected {expected})")
    assert not problems, "\n".join(problems)
