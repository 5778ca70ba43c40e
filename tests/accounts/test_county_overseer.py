"""The county overseer (县) reads every township of the county and every village of
those, as the township does, and can change nothing; another county's overseer sees
nothing of ours."""
from __future__ import annotations

import pytest

from app.permissions import REGISTRY
from tests.factories import make_county, make_proposal, make_township, make_user, make_village
from tests.test_every_route import build_world

# The permissions that only read. Every other one must answer no to a county overseer,
# for every object: a new permission is a write until it is listed here.
READS = {
    "can_check_chain", "can_list_records", "can_oversee_township", "can_read_county", "can_read_township",
    "can_see_choices", "can_see_hidden", "can_view_audit_trail", "can_view_consultation", "can_view_drafts",
    "can_view_person", "can_view_photo", "can_view_poll", "can_view_proposal", "can_view_proposals",
    "can_view_record", "can_view_rule_profile", "can_view_suggestions", "can_view_village", "reads_as_overseer",
}
EXTRA_ARGS = ((), ("topic",), ("consensus",), ("committee_member",), ("villager",))


def _objects(world):
    w = world
    return [w.village, w.village.township, w.village.township.county, w.draft, w.topic, w.consensus, w.vote,
            w.poll, w.publicized, w.implementing, w.completed, *w.objects.values(), *w.people.values()]


def _fits(fn, obj) -> bool:
    """The object is of the kind the permission's second parameter names (a village for
    `village`, …); parameters named otherwise take anything that does not raise."""
    import inspect

    from app.accounts.models import County, Person, Township, Village
    from app.deliberation.models import Proposal
    from app.voting.models import Poll

    kinds = {"village": Village, "township": Township, "county": County, "proposal": Proposal, "poll": Poll,
             "person": Person}
    params = list(inspect.signature(fn).parameters)
    kind = kinds.get(params[1]) if len(params) > 1 else None
    return kind is None or isinstance(obj, kind)


def _answers(person, world, names):
    """(permission, object, extra args) → answer, for every call that fits the permission."""
    out = {}
    for name in names:
        fn = REGISTRY[name]
        for obj in (o for o in _objects(world) if _fits(fn, o)):
            for extra in EXTRA_ARGS:
                try:
                    out[(name, repr(obj), extra)] = bool(fn(person, obj, *extra))
                except (TypeError, AttributeError, KeyError, ValueError):
                    continue
    return out


def test_a_county_overseer_may_do_nothing_that_changes_anything(db):
    world = build_world()
    writes = sorted(set(REGISTRY) - READS - {"thread_is_open", "can_check_chain"})
    county = _answers(world.people["county_overseer"], world, writes)
    assert len(county) > 100  # the calls really ran
    assert [key for key, yes in county.items() if yes] == []
    # The same calls let the township's overseer file the completed record: the harness can tell.
    township = _answers(world.people["overseer"], world, ["can_file_record", "can_approve_rule_profile"])
    assert any(township.values())


def test_a_county_overseer_reads_what_the_township_reads(db):
    world = build_world()
    for name in ("can_view_village", "can_view_drafts", "can_view_proposals", "can_list_records"):
        assert REGISTRY[name](world.people["county_overseer"], world.village), name
    for proposal in (world.draft, world.publicized, world.completed):
        for name in ("can_view_proposal", "can_view_record", "can_view_audit_trail"):
            assert REGISTRY[name](world.people["county_overseer"], proposal), (name, proposal.stage)
    assert REGISTRY["can_read_township"](world.people["county_overseer"], world.village.township)
    assert REGISTRY["can_read_county"](world.people["county_overseer"], world.village.township.county)


def test_another_countys_overseer_reads_nothing_of_ours(db):
    world = build_world()
    stranger = _answers(world.people["other_county_overseer"], world, sorted(READS - {"can_check_chain"}))
    assert len(stranger) > 50
    assert [key for key, yes in stranger.items() if yes] == []


def test_the_county_overseer_cannot_file_a_completed_record_by_the_engine_the_service_or_the_page(db, login_as):
    from app.deliberation.engine import InvalidTransition, transition
    from app.records import services
    from tests.conftest import csrf_token_from

    world = build_world()
    reader = world.people["county_overseer"]
    with pytest.raises(InvalidTransition):
        transition(world.completed, "archived", reader, reason="备案")
    with pytest.raises(services.RecordsError):
        services.file_record(world.completed, reader, "程序完整，同意备案。")
    b = login_as(reader)
    page = b.get(f"/proposals/{world.completed.id}/publication").get_data(as_text=True)
    assert f"/proposals/{world.completed.id}/filing" not in page  # no filing form for the county
    token = csrf_token_from(page)
    resp = b.client.post(f"/proposals/{world.completed.id}/filing",
                         data={"csrf_token": token, "comment": "程序完整，同意备案。"})
    assert resp.status_code == 403
    assert world.completed.stage == "completed"
    # Approving the village's rule profile is the township's too.
    rules = b.get(f"/villages/{world.village.id}/rules").get_data(as_text=True)
    assert f"/villages/{world.village.id}/rules/approve" not in rules
    resp = b.client.post(f"/villages/{world.village.id}/rules/approve", data={"csrf_token": token})
    assert resp.status_code == 403


def test_the_county_page_adds_up_each_township_and_links_to_it(db, login_as):
    county = make_county(name="共议县")
    busy = make_township("忙碌镇", county)
    quiet = make_township("安静镇", county)
    elsewhere = make_township("外县镇", make_county())
    committee = make_user(["committee_member", "villager"], make_village(busy, "甲村"))
    make_village(busy, "乙村")
    make_village(quiet, "丙村")
    make_village(elsewhere, "丁村")
    make_proposal("publicized", committee.village, committee, title="跳过环节的议题")  # no history: flagged
    make_proposal("completed", committee.village, committee, title="待备案议题")  # no history: flagged too
    b = login_as(make_user(["county_overseer"], county=county))
    assert b.client.get("/oversight").location.endswith(f"/oversight/counties/{county.id}")
    html = b.get(f"/oversight/counties/{county.id}").get_data(as_text=True)
    table = html[html.index("<table"):html.index("</table>")]
    assert "外县镇" not in table and table.index("忙碌镇") < table.index("安静镇")  # flags first
    assert f"/oversight/townships/{busy.id}" in table and f"/oversight/townships/{quiet.id}" in table
    busy_row = table[table.index("忙碌镇"):]
    busy_row = busy_row[:busy_row.index("</tr>")]
    # 2 villages; 2 flags, nothing overdue, 1 to file, 2 proposals.
    assert "2 个村" in busy_row
    assert [c.split(">")[-1] for c in busy_row.split("</td>")[:-1]] == ["⚑ 2", "0", "1", "2"]
    township = b.get(f"/oversight/townships/{busy.id}").get_data(as_text=True)
    assert "甲村" in township and f"/oversight/counties/{county.id}" in township
    village = b.get(f"/oversight/villages/{committee.village_id}").get_data(as_text=True)
    assert "跳过环节的议题" in village and "待备案议题" in village
    # Another county's township and village stay closed to ours.
    assert b.client.get(f"/oversight/townships/{elsewhere.id}").status_code == 403
    assert b.client.get(f"/oversight/villages/{elsewhere.villages[0].id}").status_code == 403


def test_another_countys_overseer_is_refused_our_county_and_sent_to_their_own(db, login_as):
    ours = make_county()
    township = make_township(county=ours)
    village = make_village(township)
    theirs = make_county()
    b = login_as(make_user(["county_overseer"], county=theirs))
    assert b.client.get(f"/oversight/counties/{ours.id}").status_code == 403
    assert b.client.get(f"/oversight/townships/{township.id}").status_code == 403
    assert b.client.get(f"/oversight/villages/{village.id}").status_code == 403
    assert b.client.get(f"/villages/{village.id}/proposals").status_code == 403
    assert b.client.get("/oversight").location.endswith(f"/oversight/counties/{theirs.id}")


def test_a_township_overseer_does_not_read_the_county_page(db, login_as):
    county = make_county()
    township = make_township(county=county)
    b = login_as(make_user(["overseer"], township=township))
    assert b.client.get(f"/oversight/counties/{county.id}").status_code == 403
    assert f"/oversight/counties/{county.id}" not in b.get(f"/oversight/townships/{township.id}").get_data(as_text=True)
