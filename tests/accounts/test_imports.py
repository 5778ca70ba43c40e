"""A CSV import runs as a job: checked whole first, staged in short batches, made real
all at once or not at all; the committee sees its progress (issue 12 finding 4)."""
import io
import json

from sqlalchemy import event, func, select

from app.accounts import imports
from app.accounts.models import PeopleImport, PeopleImportRow, Person, RoleGrant
from app.extensions import db as _db
from app.records.audit import AuditEvent
from tests.factories import make_user, make_village


def _csv(n, start=0, extra=""):
    lines = ["姓名,手机号,户号,性别,出生日期,角色"]
    for i in range(start, start + n):
        lines.append(f"村民{i},139{i:08d},{i // 3},{'女' if i % 2 else '男'},1960-05-01,村民{';党员' if i % 10 == 0 else ''}")
    return ("\n".join(lines) + extra + "\n").encode()


def _upload(b, village, raw, name="名册.csv"):
    b.get(f"/villages/{village.id}/people")
    return b.post(f"/villages/{village.id}/people/import", {"file": (io.BytesIO(raw), name)},
                  content_type="multipart/form-data")


def test_an_import_is_staged_in_batches_and_made_real_in_one_go(app, db, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 40)
    village = make_village()
    chair = make_user(["committee_member"], village)
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT INTO PEOPLE_IMPORT_ROW", "INSERT INTO PERSON ")):
            statements.append(statement.split("(")[0].strip())

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        resp = _upload(login_as(chair), village, _csv(100))
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    assert resp.status_code == 302
    record = db.session.scalar(select(PeopleImport))
    assert record.status == "done" and record.created_count == 100 and record.content is None
    # 100 rows in batches of 40: three staging inserts, then one set-based insert of people.
    assert statements.count("INSERT INTO people_import_row") == 3
    assert statements.count("INSERT INTO person") == 1
    assert db.session.scalar(select(func.count()).select_from(PeopleImportRow)) == 0
    people = db.session.scalars(select(Person).where(Person.village_id == village.id, Person.id != chair.id)).all()
    assert len(people) == 100 and len({p.session_token for p in people}) == 100
    party = db.session.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.role == "party_member",
                                                                                  RoleGrant.village_id == village.id))
    assert party == 10
    assert people[4].household.number == "1"
    event_row = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "people.imported"))
    assert json.loads(event_row.payload)["count"] == 100
    page = login_as(chair).get(resp.location).get_data(as_text=True)
    assert "完成" in page and "100" in page


def test_one_bad_line_imports_nobody_and_names_every_bad_line(db, login_as):
    village = make_village()
    chair = make_user(["committee_member"], village)
    raw = _csv(30, extra="\n坏人,12345,,,,\n坏人二,139000000\x0001,,,,")
    resp = _upload(login_as(chair), village, raw)
    page = login_as(chair).get(resp.location).get_data(as_text=True)
    assert "第 32 行" in page and "第 33 行" in page and "不可见的控制字符" in page
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.village_id == village.id)) == 1


def test_a_phone_taken_while_the_file_waits_fails_the_whole_import(db, login_as):
    village = make_village()
    chair = make_user(["committee_member"], village)
    record = imports.start_import(village, chair, _csv(5), "a.csv")
    db.session.flush()
    make_user(["villager"], village, phone="13900000003")  # registered by hand meanwhile
    db.session.commit()
    imports.run_import(record.id)
    db.session.expire_all()
    record = db.session.get(PeopleImport, record.id)
    assert record.status == "failed"
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.village_id == village.id)) == 2


def test_an_empty_or_huge_file_is_named(app, db, login_as, monkeypatch):
    village = make_village()
    chair = make_user(["committee_member"], village)
    resp = _upload(login_as(chair), village, b"", "空.csv")
    assert resp.status_code == 400
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    resp = _upload(login_as(chair), village, _csv(100), "大.csv")
    assert resp.status_code == 400 and "“大.csv”" in resp.get_data(as_text=True)


def test_the_progress_page_belongs_to_its_village(db, login_as):
    village, other = make_village(), make_village()
    chair = make_user(["committee_member"], village)
    record = imports.start_import(village, chair, _csv(3), "a.csv")
    db.session.commit()
    b = login_as(make_user(["committee_member"], other))
    assert b.get(f"/villages/{other.id}/people/imports/{record.id}").status_code == 404
    assert b.get(f"/villages/{village.id}/people/imports/{record.id}").status_code == 403
    page = login_as(chair).get(f"/villages/{village.id}/people/imports/{record.id}",
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert page.lstrip().startswith('<section id="import-progress"') and "data-hx-trigger" in page


def test_an_imported_village_still_verifies_and_a_grant_slipped_in_after_it_is_named(db, login_as):
    """The import's role grants are bound to the audit chain: verify passes after it,
    and a grant inserted by hand afterwards is named."""
    from sqlalchemy import text

    from app.records.integrity import verify_everything

    village = make_village()
    chair = make_user(["committee_member"], village)
    assert _upload(login_as(chair), village, _csv(30)).status_code == 302
    assert verify_everything().ok
    someone = db.session.scalar(select(Person).where(Person.village_id == village.id, Person.id != chair.id))
    db.session.execute(text("INSERT INTO role_grant (person_id, role, village_id, granted_at) "
                            "VALUES (:p, 'committee_member', :v, CURRENT_TIMESTAMP)"), {"p": someone.id, "v": village.id})
    result = verify_everything()
    assert not result.ok and any(r.table == "role_grant" for r in result.rows)


def test_an_import_records_each_households_villagers_group(db, login_as):
    """组 is a column of the register: it reaches the household, and the meeting roster
    shows it to tell two people of one name apart."""
    from app.accounts.models import Household

    village = make_village()
    chair = make_user(["committee_member"], village)
    raw = "姓名,手机号,户号,组,性别\n刘玉梅,13900001111,7,三,女\n刘玉梅,13900002222,12,五,女\n".encode()
    assert _upload(login_as(chair), village, raw).status_code == 302
    groups = dict(db.session.execute(select(Household.number, Household.group_name)
                                     .where(Household.village_id == village.id)).all())
    assert groups == {"7": "三", "12": "五"}


def test_a_group_longer_than_the_register_allows_is_named_and_nothing_is_stored(db, login_as):
    village = make_village()
    chair = make_user(["committee_member"], village)
    raw = ("姓名,手机号,户号,组\n张三,13900003333,1," + "组" * 21 + "\n").encode()
    _upload(login_as(chair), village, raw)
    record = db.session.scalar(select(PeopleImport))
    assert record.status == "failed" and "20" in record.errors
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.village_id == village.id)) == 1
