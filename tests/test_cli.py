from sqlalchemy import func, select

from app.accounts.models import Household, Person, Township, Village
from app.records.models import AuditEvent


def _counts(db):
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (Township, Village, Household, Person, AuditEvent)]


def test_seed_demo_twice_adds_nothing_the_second_time(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = _counts(db)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts(db) == after_first
    assert after_first[1] == 2 and after_first[3] >= 55


def test_seed_demo_has_every_role_and_the_readme_accounts(runner, db):
    runner.invoke(args=["seed-demo"])
    from app.accounts.services import authenticate, find_person_by_phone

    expect = {"13900000001": "committee_member", "13900000002": "committee_member", "13900000003": "party_member",
              "13900000004": "representative", "13900000005": "supervisor", "13900000006": "clerk",
              "13900000011": "villager"}
    first_village = find_person_by_phone("13900000001").village
    for phone, role in expect.items():
        person = authenticate(phone, "gongyi-demo")
        assert person is not None and person.has_role(role, village_id=first_village.id)
    other = authenticate("13900000051", "gongyi-demo")
    assert other.village_id != first_village.id
    overseer = authenticate("13900000100", "gongyi-demo")
    assert overseer.overseen_township_ids == {first_village.township_id}


def test_audit_verify_on_seeded_data(runner, db):
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "events checked" in result.output
