"""The rule-profile page: the committee chooses within the law's and the province's
ranges, the township approves, both are audited, nobody else may change it."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.accounts import services
from app.records.models import AuditEvent
from tests.factories import make_user, make_village

GOOD = {"villager_assembly_notice_days": "12", "party_plan_notice_days": "3", "publicity_days": "10",
        "objection_reply_days": "5", "topic_consultation_days": "7", "party_quorum": "2/3",
        "rep_pass_base": "took_part", "holiday_shift": "y"}


@pytest.fixture()
def people(db):
    village = make_village()
    return {"village": village,
            "committee": make_user(["committee_member", "villager"], village),
            "villager": make_user(["villager"], village),
            "overseer": make_user(["overseer"], township=village.township),
            "neighbour": make_user(["committee_member"], make_village(village.township)),
            "far_overseer": make_user(["overseer"], township=make_village().township)}


def _post(login_as, who, village, data):
    b = login_as(who)
    b.get(f"/villages/{village.id}/rules")
    return b.post(f"/villages/{village.id}/rules", data)


def test_the_committee_saves_rules_within_the_ranges_and_the_change_is_audited(people, login_as, db):
    v = people["village"]
    resp = _post(login_as, people["committee"], v, GOOD)
    assert resp.status_code == 302
    db.session.refresh(v)
    p = v.rule_profile
    assert not p.is_national_default
    assert (p.villager_assembly_notice_days, p.publicity_days, p.party_quorum_num, p.party_quorum_den,
            p.holiday_shift) == (12, 10, 2, 3, True)
    assert p.approved_at is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "rule_profile.updated"))
    assert json.loads(event.payload)["after"]["publicity_days"] == 10


@pytest.mark.parametrize("field, value", [("publicity_days", "4"), ("publicity_days", "11"),
                                          ("villager_assembly_notice_days", "9"), ("party_plan_notice_days", "2"),
                                          ("party_quorum", "1/3"), ("rep_pass_base", "anyone")])
def test_values_outside_what_the_law_allows_are_refused_and_nothing_changes(people, login_as, db, field, value):
    v = people["village"]
    before = v.rule_profile_id
    resp = _post(login_as, people["committee"], v, {**GOOD, field: value})
    assert resp.status_code == 400
    db.session.refresh(v)
    assert v.rule_profile_id == before and v.rule_profile.is_national_default


def test_the_service_refuses_the_quorums_the_law_fixes(people):
    with pytest.raises(services.AccountError):
        services.update_rule_profile(people["village"], people["committee"], {"rep_quorum_num": 1})


def test_the_township_approves_and_the_page_shows_it_until_the_next_change(people, login_as, db):
    v = people["village"]
    _post(login_as, people["committee"], v, GOOD)
    b = login_as(people["overseer"])
    page = b.get(f"/villages/{v.id}/rules").get_data(as_text=True)
    assert "上次修改后，乡镇尚未批准。" in page
    assert b.post(f"/villages/{v.id}/rules/approve", {}).status_code == 302
    db.session.refresh(v)
    assert v.rule_profile.approved_by_id == people["overseer"].id
    page = login_as(people["committee"]).get(f"/villages/{v.id}/rules").get_data(as_text=True)
    assert "乡镇已批准：" in page and people["overseer"].name in page
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.kind == "rule_profile.approved"))
    _post(login_as, people["committee"], v, {**GOOD, "publicity_days": "8"})
    db.session.refresh(v)
    assert v.rule_profile.approved_at is None


@pytest.mark.parametrize("who", ["villager", "neighbour", "far_overseer"])
def test_others_may_not_change_the_rules(people, login_as, db, who):
    v = people["village"]
    assert login_as(people[who]).get(f"/villages/{v.id}/rules").status_code in (403, 404)
    assert _post(login_as, people[who], v, GOOD).status_code in (403, 404)
    db.session.refresh(v)
    assert v.rule_profile.is_national_default


def test_the_committee_may_not_approve_its_own_rules(people, login_as, db):
    v = people["village"]
    _post(login_as, people["committee"], v, GOOD)
    b = login_as(people["committee"])
    b.get(f"/villages/{v.id}/rules")
    assert b.post(f"/villages/{v.id}/rules/approve", {}).status_code == 403
    db.session.refresh(v)
    assert v.rule_profile.approved_at is None


def test_the_overseer_reads_the_rules_but_cannot_edit_them(people, login_as, db):
    v = people["village"]
    b = login_as(people["overseer"])
    page = b.get(f"/villages/{v.id}/rules").get_data(as_text=True)
    assert "决议公示期（天）" in page and "name=\"publicity_days\"" not in page
    assert "应到人数的半数以上" in page  # the Party quorum in words
    assert b.post(f"/villages/{v.id}/rules", GOOD).status_code == 403
