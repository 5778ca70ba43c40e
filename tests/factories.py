"""Factories for tests: make_village, make_user, …; each flushes, never commits."""
from __future__ import annotations

import itertools
from datetime import date

from app.accounts import services
from app.accounts.models import County, Person, Township, Village
from app.accounts.passwords import hash_password
from app.extensions import db

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_county(name: str | None = None) -> County:
    return services.create_county(name or f"测试县{next(_seq)}")


def make_township(name: str | None = None, county: County | None = None) -> Township:
    return services.create_township(name or f"测试镇{next(_seq)}", county)


def make_village(township: Township | None = None, name: str | None = None) -> Village:
    return services.create_village(township or make_township(), name or f"测试村{next(_seq)}")


def _phone() -> str:
    return f"137{next(_seq):08d}"


def make_user(roles=("villager",), village: Village | None = None, *, township: Township | None = None,
              name: str | None = None, phone: str | None = None, gender: str | None = None,
              birth_date: date | None = date(1970, 1, 1), household: str | None = None,
              password: str = PASSWORD, county: County | None = None) -> Person:
    """A person with the given roles; village roles in `village` (made if needed),
    "overseer" in `township` (the village's township if not given), "county_overseer" in
    `county` (made if needed), "admin" global."""
    roles = list(roles)
    village_roles = [r for r in roles if r not in ("overseer", "county_overseer", "admin")]
    if village_roles and village is None:
        village = make_village(township)
    person = Person(village=village if village_roles else None, name=name or f"村民{next(_seq)}",
                    phone=phone or _phone(), gender=gender, birth_date=birth_date)
    if household and village is not None:
        person.household = services.household_for(village, household)
    person.password_hash = hash_password(password)
    db.session.add(person)
    db.session.flush()
    for role in village_roles:
        services.grant_role(person, role, actor=None, village=village)
    if "overseer" in roles:
        services.grant_role(person, "overseer", actor=None,
                            township=township or (village.township if village else make_township()))
    if "county_overseer" in roles:
        services.grant_role(person, "county_overseer", actor=None, county=county or make_county())
    if "admin" in roles:
        services.grant_role(person, "admin", actor=None)
    return person


def make_proposal(stage: str = "draft", village: Village | None = None, author: Person | None = None, *,
                  title: str = "修村口道路", body: str = "用集体收入修缮村口至小学的道路。",
                  matter_category: str | None = "general", deciding_body: str = "villagers_assembly"):
    """A proposal with one version, put straight into `stage` (test set-up only: the
    running app moves stages only through the engine)."""
    from app.deliberation.models import Proposal, ProposalVersion

    if author is None:
        author = make_user(["committee_member"], village)
    village = village or author.village
    proposal = Proposal(village=village, title=title, matter_category=matter_category, deciding_body=deciding_body,
                        stage=stage, created_by=author)
    db.session.add(proposal)
    db.session.flush()
    db.session.add(ProposalVersion(proposal=proposal, number=1, title=title, body=body, created_by=author))
    db.session.flush()
    return proposal
