from datetime import date

import pytest

from app.accounts import services
from app.accounts.models import Person, RoleGrant
from app.accounts.passwords import password_problem
from app.records.audit import verify_chain
from tests.conftest import code_from
from tests.factories import make_user, make_village


def test_register_person_creates_household_roles_and_audit(db):
    village = make_village()
    committee = make_user(["committee_member"], village)
    person = services.register_person(
        village, services.PersonData(name="赵大爷", phone="13811112222", household="1-001",
                                     roles=["villager", "representative"]), actor=committee)
    assert person.household.number == "1-001"
    assert person.roles_in(village.id) == {"villager", "representative"}
    assert verify_chain().ok


def test_register_person_with_taken_phone_is_refused(db):
    village = make_village()
    make_user(village=village, phone="13811113333")
    with pytest.raises(services.AccountError, match="13811113333"):
        services.register_person(village, services.PersonData(name="重复", phone="13811113333"), actor=None)


@pytest.mark.parametrize("password,ok", [
    ("short", False), ("12345678", False), ("password1", False), ("woaini1314", False),
    ("13811114444x", False), ("gongyi-demo", True), ("红旗渠-村口-老槐树", True),
])
def test_password_policy(app, password, ok):
    with app.test_request_context():
        assert (password_problem(password, phone="13811114444") is None) is ok


def test_csv_import_all_or_nothing(db):
    village = make_village()
    actor = make_user(["committee_member"], village)
    raw = ("姓名,手机号,户号,性别,出生日期,角色\n"
           "张三,13800000001,2-001,男,1960-05-01,村民;村民代表\n"
           ",13800000002,2-001,女,1962-01-01,\n"
           "李四,12345,2-002,男,1970-01-01,\n"
           "王五,13800000001,2-003,男,1970-01-01,\n"
           "赵六,13800000004,2-003,X,1970-13-01,mayor\n").encode("gb18030")
    result = services.import_people_csv(village, raw, actor=actor)
    assert result.created == []
    lines = [line for line, _ in result.errors]
    assert lines == [3, 4, 5, 6]
    assert "13800000001" in dict(result.errors)[5]
    assert db.session.query(Person).filter_by(phone="13800000001").first() is None


def test_csv_import_good_file_registers_everyone(db):
    village = make_village()
    actor = make_user(["committee_member"], village)
    raw = "\ufeffname,phone,household,gender,birth_date,roles\n张三,13800000011,2-001,M,1960-05-01,villager;party_member\n" \
          "李四,13800000012,2-001,F,1961/02/03,\n".encode("utf-8")
    result = services.import_people_csv(village, raw, actor=actor)
    assert result.errors == []
    assert [p.name for p in result.created] == ["张三", "李四"]
    assert result.created[0].household is result.created[1].household
    assert result.created[0].roles_in(village.id) == {"villager", "party_member"}
    assert result.created[1].birth_date == date(1961, 2, 3)


def test_one_time_code_signs_in_once(db, outbox, app):
    person = make_user()
    with app.test_request_context():
        services.issue_one_time_code(person.phone)
    (phone, text), = outbox
    code = code_from(text)
    assert services.redeem_one_time_code(person.phone, "000000" if code != "000000" else "111111") is None
    assert services.redeem_one_time_code(person.phone, code) == person
    assert services.redeem_one_time_code(person.phone, code) is None


def test_code_for_unknown_phone_sends_nothing(db, outbox, app):
    with app.test_request_context():
        services.issue_one_time_code("13999999999")
    assert outbox == []


def test_sign_out_rotates_token(db):
    person = make_user()
    before = person.get_id()
    services.sign_out(person)
    assert person.get_id() != before


def test_role_scope_is_enforced_by_the_database(db):
    person = make_user()
    db.session.add(RoleGrant(person=person, role="overseer"))
    with pytest.raises(Exception):
        db.session.flush()


def test_rule_profile_edit_makes_a_village_copy(db):
    village = make_village()
    other = make_village()
    actor = make_user(["committee_member"], village)
    national = village.rule_profile
    services.update_rule_profile(village, actor, {"publicity_days": 10})
    assert village.rule_profile is not national
    assert village.rule_profile.publicity_days == 10
    assert national.publicity_days == 7
    assert other.rule_profile is national
