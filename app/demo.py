"""Demo data: one county (示范县) with one township (示范镇), two villages, about 60
people with every role.

Everything is created through the services, so the demo data is what a real village
would have after using the product. Running it again adds nothing.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.accounts import services
from app.accounts.models import County, Person, Township
from app.extensions import db

DEMO_PASSWORD = "gongyi-demo"
COUNTY = "示范县"
TOWNSHIP = "示范镇"
VILLAGES = ("幸福村", "东风村")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "桂兰", "志强", "玉梅", "海燕", "国华", "丽娟", "明亮", "春花", "德福", "淑珍",
         "永红", "晓东", "金凤", "卫东", "翠兰", "振华", "小芳", "宝山", "红梅", "长青", "美玲", "富贵"]

# Fixed accounts of the README: phone → (village index, name, gender, birth year, roles)
FIXED = {
    "13900000001": (0, "王建国", "M", 1968, ["villager", "committee_member", "party_member"]),
    "13900000002": (0, "李秀英", "F", 1975, ["villager", "committee_member"]),
    "13900000003": (0, "张德福", "M", 1959, ["villager", "party_member"]),
    "13900000004": (0, "刘玉梅", "F", 1971, ["villager", "representative"]),
    "13900000005": (0, "陈国华", "M", 1963, ["villager", "supervisor"]),
    "13900000006": (0, "杨丽娟", "F", 1988, ["villager", "clerk"]),
    "13900000011": (0, "赵淑珍", "F", 1952, ["villager"]),
    "13900000051": (1, "周长青", "M", 1966, ["villager"]),
}
OVERSEER = ("13900000100", "吴振华")
COUNTY_OVERSEER = ("13900000200", "孙卫东")


def _generated_people():
    """(phone, village index, name, gender, birth year, roles) for everyone else, fixed
    so that the demo is the same on every machine."""
    out = []
    # Village 1: 13900000012–13900000048 (37 more people), village 2: 13900000052–13900000064.
    plan = [(0, n) for n in range(12, 49)] + [(1, n) for n in range(52, 65)]
    for i, (village_idx, n) in enumerate(plan):
        name = SURNAMES[(i * 7) % len(SURNAMES)] + GIVEN[(i * 5 + 3) % len(GIVEN)]
        gender = "F" if i % 2 else "M"
        year = 1945 + (i * 11) % 60  # 1945 … 2004, a few under 18 on purpose below
        roles = ["villager"]
        if village_idx == 0:
            if n in (12, 13, 14, 15, 16):
                roles += ["committee_member"]
            if n in (12, 13, 14, 17, 18, 19, 20, 21, 22, 23):
                roles += ["party_member"]
            if n in (24, 25, 26, 27, 28, 29, 30, 31, 32):
                roles += ["representative"]
            if n in (33, 34):
                roles += ["supervisor"]
        else:
            if n in (52, 53, 54):
                roles += ["committee_member", "party_member"]
            if n in (55, 56, 57):
                roles += ["representative"]
            if n == 58:
                roles += ["supervisor"]
        out.append((f"139000000{n:02d}", village_idx, name, gender, year, roles))
    return out


def _demo_person(spec, gender: str, birth: date):
    """A demo account without a village (the overseers), made once; None if it exists."""
    if services.find_person_by_phone(spec[0]) is not None:
        return None
    person = Person(name=spec[1], phone=spec[0], gender=gender, birth_date=birth)
    db.session.add(person)
    db.session.flush()
    services.set_password(person, DEMO_PASSWORD)
    return person


def seed_accounts() -> dict:
    county = db.session.scalar(select(County).where(County.name == COUNTY)) or services.create_county(COUNTY)
    township = db.session.scalar(select(Township).where(Township.name == TOWNSHIP))
    if township is None:
        township = services.create_township(TOWNSHIP, county)
    elif township.county_id is None:  # a demo loaded before counties existed
        township.county = county
    villages = []
    for name in VILLAGES:
        village = next((v for v in township.villages if v.name == name), None)
        villages.append(village or services.create_village(township, name))

    people = [(phone, *spec) for phone, spec in FIXED.items()] + _generated_people()
    created = 0
    for index, (phone, village_idx, name, gender, year, roles) in enumerate(people):
        if services.find_person_by_phone(phone) is not None:
            continue
        household = f"{village_idx + 1}-{index // 3 + 1:03d}"  # about three people a household
        birth = date(year, 1 + index % 12, 1 + index % 28)
        person = services.register_person(
            villages[village_idx],
            services.PersonData(name=name, phone=phone, household=household, gender=gender, birth_date=birth,
                                roles=roles),
            actor=None,
        )
        if person.household is not None and person.household.group_name is None:
            # Households of about three people, four or five households a 村民小组.
            person.household.group_name = str((index // 3) // 5 + 1)  # shown as 第1组 / group 1
        services.set_password(person, DEMO_PASSWORD)
        created += 1

    overseer = _demo_person(OVERSEER, "M", date(1972, 3, 3))
    if overseer is not None:
        services.grant_role(overseer, "overseer", actor=None, township=township)
        created += 1
    county_overseer = _demo_person(COUNTY_OVERSEER, "M", date(1969, 8, 8))
    if county_overseer is not None:
        services.grant_role(county_overseer, "county_overseer", actor=None, county=county)
        created += 1
    return {"county": county, "township": township, "villages": villages, "created": created}


def seed_demo() -> dict:
    """Load the whole demo; each area's part checks what exists before adding."""
    from app.demo_process import seed_proposals

    result = seed_accounts()
    db.session.flush()
    result["steps"] = seed_proposals(result["villages"])
    return result


def database_is_empty() -> bool:
    return db.session.scalar(select(Person.id).limit(1)) is None
