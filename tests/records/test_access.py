"""Every records view: anonymous → sign-in (or 401 for the API), wrong role or other
village or township → 403/404, right role → 200."""
from __future__ import annotations

import pytest

from tests.factories import make_proposal, make_user, make_village

DENIED = (403, 404)


@pytest.fixture()
def world(cast, proposal_in, no_other_areas):
    other_village = make_village(cast.village.township)
    other_township_village = make_village()
    return {
        "cast": cast,
        "posted": proposal_in("publicized"),
        "draft": proposal_in("consensus_consultation"),
        "completed": proposal_in("completed"),
        "neighbour": make_user(["villager", "committee_member"], other_village),
        "far_overseer": make_user(["overseer"], township=other_township_village.township),
        "neighbour_proposal": make_proposal("publicized", other_village),
    }


def _who(world, name):
    cast = world["cast"]
    return {"villager": cast.villager, "committee": cast.committee, "supervisor": cast.supervisor,
            "overseer": cast.overseer, "neighbour": world["neighbour"], "far_overseer": world["far_overseer"]}[name]


# (url template, who may, who may not)
PAGES = [
    ("/api/v1/proposals/{posted}/record", ["villager", "overseer", "supervisor"], ["neighbour", "far_overseer"]),
    ("/api/v1/proposals/{draft}/record", ["overseer", "committee"], ["villager", "supervisor", "neighbour", "far_overseer"]),
    ("/api/v1/villages/{village}/proposals", ["villager", "overseer"], ["neighbour", "far_overseer"]),
    ("/proposals/{posted}/record.pdf", ["villager", "overseer"], ["neighbour", "far_overseer"]),
    ("/proposals/{draft}/record.pdf", ["overseer", "committee"], ["villager", "supervisor", "neighbour", "far_overseer"]),
    ("/proposals/{posted}/publication", ["villager", "overseer"], ["neighbour", "far_overseer"]),
    ("/proposals/{posted}/forms/resolution", ["villager", "committee", "overseer"], ["neighbour", "far_overseer"]),
    ("/proposals/{draft}/forms/ballot", ["committee", "overseer"], ["villager", "neighbour", "far_overseer"]),
    ("/villages/{village}/proposals.csv", ["villager", "overseer"], ["neighbour", "far_overseer"]),
    ("/oversight/townships/{township}", ["overseer"], ["villager", "committee", "far_overseer"]),
    ("/oversight/townships/{township}/flags.csv", ["overseer"], ["committee", "far_overseer"]),
    ("/oversight/villages/{village}", ["overseer"], ["villager", "committee", "far_overseer"]),
    ("/oversight/audit", ["overseer", "far_overseer"], ["villager", "committee", "supervisor"]),
]


def _url(world, template):
    cast = world["cast"]
    return template.format(posted=world["posted"].id, draft=world["draft"].id, village=cast.village.id,
                           township=cast.village.township_id)


@pytest.mark.parametrize("template,allowed,denied", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(world, client, template, allowed, denied):
    resp = client.get(_url(world, template))
    if template.startswith("/api/"):
        assert resp.status_code == 401
    else:
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("template,allowed,denied", PAGES)
def test_the_right_roles_may_read(world, login_as, template, allowed, denied):
    for name in allowed:
        b = login_as(_who(world, name))
        assert b.client.get(_url(world, template)).status_code in (200, 409), (name, template)
        b.client.post("/logout", data={"csrf_token": b.token})


@pytest.mark.parametrize("template,allowed,denied", PAGES)
def test_other_villages_townships_and_roles_are_refused(world, login_as, template, allowed, denied):
    for name in denied:
        b = login_as(_who(world, name))
        assert b.client.get(_url(world, template)).status_code in DENIED, (name, template)
        b.client.post("/logout", data={"csrf_token": b.token})


def test_a_neighbouring_villages_record_is_not_found(world, login_as):
    b = login_as(world["cast"].villager)
    assert b.client.get(f"/api/v1/proposals/{world['neighbour_proposal'].id}/record").status_code == 404


def test_a_villager_lists_only_posted_proposals(world, login_as):
    b = login_as(world["cast"].villager)
    ids = {p["id"] for p in b.client.get(f"/api/v1/villages/{world['cast'].village.id}/proposals").get_json()["proposals"]}
    assert world["posted"].id in ids and world["draft"].id not in ids


@pytest.mark.parametrize("who,expected", [("villager", 302), ("neighbour", 404), ("supervisor", 302)])
def test_filing_an_objection_needs_a_person_of_the_village(world, login_as, who, expected):
    b = login_as(_who(world, who))
    b.get("/")
    resp = b.post(f"/proposals/{world['posted'].id}/objections", {"body": "异议"})
    assert resp.status_code == expected


def test_the_objection_form_without_its_csrf_token_is_refused(world, login_as):
    b = login_as(world["cast"].villager)
    resp = b.client.post(f"/proposals/{world['posted'].id}/objections", data={"body": "异议"})
    assert resp.status_code == 400


@pytest.mark.parametrize("who,expected", [("committee", 403), ("villager", 403), ("far_overseer", 404)])
def test_only_the_townships_overseer_files(world, login_as, who, expected):
    b = login_as(_who(world, who))
    resp = b.post(f"/proposals/{world['completed'].id}/filing", {"comment": "备案"})
    assert resp.status_code == expected


def test_the_overseer_files_through_the_page(world, login_as):
    pytest.importorskip("app.deliberation.engine")
    b = login_as(world["cast"].overseer)
    b.get(f"/proposals/{world['completed'].id}/publication")
    resp = b.post(f"/proposals/{world['completed'].id}/filing", {"comment": "资料齐全"})
    assert resp.status_code == 302
    assert world["completed"].stage == "archived"


def test_objecting_and_answering_through_the_pages(world, login_as):
    posted = world["posted"]
    b = login_as(world["cast"].villager)
    b.get(f"/proposals/{posted.id}/publication")
    assert b.post(f"/proposals/{posted.id}/objections", {"body": "路线经过我家院子"}).status_code == 302
    from app.records.record import objections_of

    (o,) = objections_of(posted)
    b.client.post("/logout", data={"csrf_token": b.token})
    s = login_as(world["cast"].supervisor)
    page = s.get(f"/proposals/{posted.id}/publication").get_data(as_text=True)
    assert "路线经过我家院子" in page and f"a{o.id}-answer" in page
    resp = s.post(f"/objections/{o.id}/answer", {f"a{o.id}-csrf_token": s.token, f"a{o.id}-answer": "已调整路线",
                                                  f"a{o.id}-upheld": "yes"})
    assert resp.status_code == 302
    assert o.status == "upheld"
    assert f"/proposals/{posted.id}/send-back" in s.get(f"/proposals/{posted.id}/publication").get_data(as_text=True)


def test_a_send_back_the_engine_refuses_is_explained_not_applied(world, login_as, monkeypatch):
    engine = pytest.importorskip("app.deliberation.engine")
    from app.records import api, services

    posted = world["posted"]
    o = services.file_objection(posted, world["cast"].villager, "异议")
    services.answer_objection(o, world["cast"].supervisor, "成立", upheld=True)
    assert api.upheld_objection_count(posted) == 1

    def refuse(*a, **k):
        raise engine.InvalidTransition("现在还不行：", ["原因一", "原因二"])

    monkeypatch.setattr(engine, "transition", refuse)
    b = login_as(world["cast"].committee)
    b.get(f"/proposals/{posted.id}/publication")
    resp = b.post(f"/proposals/{posted.id}/send-back", {"reason": "异议成立"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "原因一" in html and "原因二" in html
    assert posted.stage == "publicized"


POSTS = [
    ("/proposals/{posted}/objections", {"body": "异议"}, "neighbour", 404),
    ("/proposals/{posted}/send-back", {"reason": "理由"}, "villager", 403),
    ("/proposals/{posted}/reports", {"body": "进展"}, "committee", 403),  # not implementing yet
    ("/proposals/{posted}/filing", {"comment": "备案"}, "overseer", 403),  # not completed yet
    ("/proposals/{posted}/filing", {"comment": "备案"}, "far_overseer", 404),
]


@pytest.mark.parametrize("template,data,who,expected", POSTS)
def test_anonymous_posts_are_sent_to_sign_in(world, client, template, data, who, expected):
    resp = client.post(_url(world, template), data=data)
    assert resp.status_code in (302, 400)  # sign-in, or the CSRF check that comes first
    assert world["posted"].stage == "publicized"


@pytest.mark.parametrize("template,data,who,expected", POSTS)
def test_posts_by_the_wrong_person_or_at_the_wrong_stage_are_refused(world, login_as, template, data, who, expected):
    b = login_as(_who(world, who))
    b.get("/")
    assert b.post(_url(world, template), data).status_code == expected


def test_answering_or_giving_an_opinion_needs_the_supervision_committee(world, login_as, app, tmp_path, monkeypatch):
    from app.records import services

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    cast = world["cast"]
    o = services.file_objection(world["posted"], cast.villager, "异议")
    building = make_proposal("implementing", cast.village, cast.committee)
    r = services.post_report(building, cast.committee, "进展")
    for who, expected in (("committee", 403), ("villager", 403), ("neighbour", 404)):
        b = login_as(_who(world, who))
        b.get("/")
        assert b.post(f"/objections/{o.id}/answer", {f"a{o.id}-answer": "答", f"a{o.id}-upheld": "no"}
                      ).status_code == expected
        assert b.post(f"/reports/{r.id}/opinion", {f"o{r.id}-opinion": "意见"}).status_code == expected


def test_the_oversight_index_is_for_overseers_only(world, login_as, client):
    assert client.get("/oversight").status_code == 302
    assert login_as(world["cast"].committee).client.get("/oversight").status_code == 403
    assert login_as(world["cast"].overseer).client.get("/oversight").status_code == 302  # to its township
