from sqlalchemy import func, select

from app.accounts.models import Household, Person, Township, Village
from app.accounts.services import authenticate, find_person_by_phone
from app.deliberation.models import ALL_STAGES, Proposal
from app.records.models import AuditEvent


def _counts(db):
    return [db.session.scalar(select(func.count()).select_from(m))
            for m in (Township, Village, Household, Person, Proposal, AuditEvent)]


def test_seed_demo_loads_every_stage_once_and_keeps_the_chain_intact(runner, db):
    """Seeding is slow (it replays weeks of history), so one test checks all of it."""
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = _counts(db)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts(db) == after_first, "running seed-demo twice must add nothing"
    assert after_first[1] == 2 and after_first[3] >= 55

    # The README's accounts and roles
    expect = {"13900000001": "committee_member", "13900000002": "committee_member", "13900000003": "party_member",
              "13900000004": "representative", "13900000005": "supervisor", "13900000006": "clerk",
              "13900000011": "villager"}
    first_village = find_person_by_phone("13900000001").village
    for phone, role in expect.items():
        person = authenticate(phone, "gongyi-demo")
        assert person is not None and person.has_role(role, village_id=first_village.id)
    assert authenticate("13900000051", "gongyi-demo").village_id != first_village.id
    assert authenticate("13900000100", "gongyi-demo").overseen_township_ids == {first_village.township_id}
    county_overseer = authenticate("13900000200", "gongyi-demo")
    assert county_overseer.overseen_county_ids == {first_village.township.county_id} != {None}
    assert not county_overseer.overseen_township_ids

    # The first village has a proposal in every stage, each moved there by the engine
    stages = set(db.session.scalars(select(Proposal.stage).where(Proposal.village_id == first_village.id)))
    assert stages == set(ALL_STAGES)
    for proposal in db.session.scalars(select(Proposal)):
        if proposal.history:
            assert proposal.history[-1].to_stage == proposal.stage
        else:
            assert proposal.stage == "draft"

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "events checked" in result.output


def test_audit_verify_names_a_changed_event_and_a_changed_record_row(runner, db):
    import pytest
    from sqlalchemy import update

    from app.deliberation import engine
    from app.deliberation.models import StageChange
    from tests.conftest import ON_POSTGRES
    from tests.factories import make_proposal, make_user

    proposal = make_proposal(stage="draft")
    engine.transition(proposal, "topic_consultation", make_user(["committee_member"], proposal.village))
    db.session.commit()  # as the view that made the move would
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    db.session.execute(update(StageChange).where(StageChange.proposal_id == proposal.id).values(reason="事后改的"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "stage_change" in result.output
    db.session.execute(update(StageChange).where(StageChange.proposal_id == proposal.id).values(reason=None))

    if ON_POSTGRES:
        pytest.skip("PostgreSQL refuses changes to audit events (tested in tests/records)")
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(payload="{}"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"seq={event.seq}" in result.output
