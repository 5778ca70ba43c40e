"""Every change of state for people, places, roles and sign-in. Services flush, never commit."""
from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import clock
from app.accounts.messaging import send_message
from app.accounts.models import (
    COUNTY_ROLES, GLOBAL_ROLES, TOWNSHIP_ROLES, VILLAGE_ROLES, County, Household, OneTimeCode, Person,
    RoleGrant, RuleProfile, Township, Village, utcnow,
)
from app.accounts.passwords import hash_password, password_problem, verify_password
from app.extensions import db
from app.records.audit import record_event
from app.errors import Refused

PHONE_RE = re.compile(r"^1\d{10}$")


class AccountError(Refused, ValueError):
    """A request about people or accounts that cannot be carried out; str() is for the user."""


def normalise_phone(raw: str | None) -> str:
    phone = re.sub(r"[\s\-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone


def valid_phone(phone: str) -> bool:
    return bool(PHONE_RE.match(phone))


def find_person_by_phone(phone: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.phone == normalise_phone(phone)))


# Places -------------------------------------------------------------------------------

def create_county(name: str) -> County:
    county = County(name=name)
    db.session.add(county)
    db.session.flush()
    return county


def create_township(name: str, county: County | None = None) -> Township:
    township = Township(name=name, county=county)
    db.session.add(township)
    db.session.flush()
    return township


def create_village(township: Township, name: str, profile: RuleProfile | None = None) -> Village:
    village = Village(township=township, name=name, rule_profile=profile or RuleProfile.national_default())
    db.session.add(village)
    db.session.flush()
    return village


def household_for(village: Village, number: str, group: str | None = None) -> Household:
    """The village's household of that number (made on first use); a group (村民小组)
    given for it is recorded."""
    household = db.session.scalar(
        select(Household).where(Household.village_id == village.id, Household.number == number)
    )
    if household is None:
        household = Household(village=village, number=number)
        db.session.add(household)
    if group:
        household.group_name = group
    db.session.flush()
    return household


def update_rule_profile(village: Village, actor: Person, values: dict) -> RuleProfile:
    """Edit the village's rule profile; the national default is never edited in place —
    the village gets its own copy first."""
    problems = rule_profile_problems(values)
    if problems:
        raise AccountError(" ".join(problems))
    profile = village.rule_profile
    if profile.is_national_default:
        copy = RuleProfile(name=f"{village.township.name}{village.name} #{village.id}")
        for f in RuleProfile.EDITABLE_FIELDS:
            setattr(copy, f, getattr(profile, f))
        db.session.add(copy)
        village.rule_profile = copy
        profile = copy
    old = {f: getattr(profile, f) for f in RuleProfile.EDITABLE_FIELDS}
    for f in RuleProfile.EDITABLE_FIELDS:
        if f in values:
            setattr(profile, f, values[f])
    new = {f: getattr(profile, f) for f in RuleProfile.EDITABLE_FIELDS}
    if new != old:  # the township approved the profile as it stood, not this one
        profile.approved_at = None
        profile.approved_by_id = None
    db.session.flush()
    record_event("rule_profile.updated", actor=actor, village_id=village.id, obj=profile,
                 payload={"before": old, "after": new})
    return profile


RULE_PROFILE_LABELS = {
    "villager_assembly_notice_days": _l("Notice of a villagers' assembly (days ahead)"),
    "party_plan_notice_days": _l("Plan to the Party members before their review (days ahead)"),
    "publicity_days": _l("Notice period of a posted resolution (days)"),
    "objection_reply_days": _l("Time for the supervision committee to answer an objection (days)"),
    "topic_consultation_days": _l("Length of the topic consultation (days)"),
    "party_quorum": _l("Quorum of the Party members' review"),
    "rep_pass_base": _l("A representatives' vote passes with more than half of"),
    "holiday_shift": _l("A period ending on a rest day or holiday ends on the next working day"),
}


def rule_profile_problems(values: dict) -> list[str]:
    """Values outside what the law and the province allow, in words."""
    problems = []
    for name, (low, high) in RuleProfile.DAY_RANGES.items():
        if name in values and not (isinstance(values[name], int) and low <= values[name] <= high):
            problems.append(_("%(what)s must be between %(low)d and %(high)d days.",
                              what=RULE_PROFILE_LABELS[name], low=low, high=high))
    if ("party_quorum_num" in values or "party_quorum_den" in values) and (
            values.get("party_quorum_num"), values.get("party_quorum_den")) not in RuleProfile.PARTY_QUORUM_CHOICES:
        problems.append(_("The Party members' quorum is half or two thirds of the roster."))
    if "rep_pass_base" in values and values["rep_pass_base"] not in RuleProfile.REP_PASS_BASES:
        problems.append(_("The representatives' vote passes by those taking part or by the whole roster."))
    for fixed in ("rep_quorum_num", "rep_quorum_den", "household_quorum_num", "household_quorum_den"):
        if fixed in values:
            problems.append(_("Two thirds of the representatives, or of the households, is set by law."))
            break
    return problems


def approve_rule_profile(village: Village, actor: Person) -> RuleProfile:
    """The township approves the village's rule profile as it now stands (audited)."""
    from app.accounts.permissions import is_overseer_of

    if not is_overseer_of(actor, village):
        raise AccountError(_("Only the township can approve the rule profile."))
    profile = village.rule_profile
    if profile.is_national_default:
        raise AccountError(_("The village follows the national default; there is nothing to approve."))
    profile.approved_at = utcnow()
    profile.approved_by_id = actor.id
    db.session.flush()
    record_event("rule_profile.approved", actor=actor, village_id=village.id, obj=profile,
                 payload={"values": {f: getattr(profile, f) for f in RuleProfile.EDITABLE_FIELDS}})
    return profile


# People and roles -----------------------------------------------------------------------

def grant_role(person: Person, role: str, *, actor: Person | None, village: Village | None = None,
               township: Township | None = None, county: County | None = None) -> RoleGrant:
    scope = {"village_id": None, "township_id": None, "county_id": None}
    if role in VILLAGE_ROLES:
        if village is None:
            raise AccountError(_("A village role needs a village."))
        scope["village_id"] = village.id
    elif role in TOWNSHIP_ROLES:
        if township is None:
            raise AccountError(_("The overseer role needs a township."))
        scope["township_id"] = township.id
    elif role in COUNTY_ROLES:
        if county is None:
            raise AccountError(_("The county overseer role needs a county."))
        scope["county_id"] = county.id
    elif role not in GLOBAL_ROLES:
        raise AccountError(_("Unknown role."))
    for g in person.roles:
        if g.role == role and (g.village_id, g.township_id, g.county_id) == tuple(scope.values()):
            return g
    grant = RoleGrant(person=person, role=role, **scope)
    db.session.add(grant)
    db.session.flush()
    payload = {"role": role, "county_id": county.id} if scope["county_id"] else {"role": role}
    record_event("role.granted", actor=actor, village_id=scope["village_id"], township_id=scope["township_id"],
                 obj=person, payload=payload)
    return grant


def revoke_role(person: Person, role: str, *, actor: Person, village: Village) -> None:
    for g in list(person.roles):
        if g.role == role and g.village_id == village.id:
            person.roles.remove(g)
            db.session.flush()
            record_event("role.revoked", actor=actor, village_id=village.id, obj=person, payload={"role": role})


@dataclass
class PersonData:
    name: str
    phone: str
    household: str | None = None
    group: str | None = None  # 村民小组, as the register writes it ("3" or "三")
    gender: str | None = None
    birth_date: date | None = None
    roles: list[str] = field(default_factory=lambda: ["villager"])


def check_person_data(data: PersonData, seen_phones: set[str] | None = None, *, look_up: bool = True) -> list[str]:
    """What is wrong with one person's data, as messages for the committee member."""
    problems = []
    if not data.name.strip():
        problems.append(_("the name is empty"))
    elif len(data.name) > 40:
        problems.append(_("the name is longer than 40 characters"))
    if not valid_phone(data.phone):
        problems.append(_("the phone number must be 11 digits starting with 1"))
    elif (look_up and find_person_by_phone(data.phone) is not None) or (seen_phones is not None
                                                                      and data.phone in seen_phones):
        problems.append(_("the phone number %(phone)s is already registered", phone=data.phone))
    if data.gender not in (None, "F", "M"):
        problems.append(_("gender must be F or M"))
    bad_roles = [r for r in data.roles if r not in VILLAGE_ROLES]
    if bad_roles:
        problems.append(_("unknown role: %(roles)s", roles=", ".join(bad_roles)))
    if data.birth_date and data.birth_date > clock.today():
        problems.append(_("the birth date is in the future"))
    return problems


def register_person(village: Village, data: PersonData, *, actor: Person | None) -> Person:
    """Register one person of the village (by a committee member, or the demo loader).

    :raises AccountError: with every problem, when the data is not acceptable.
    """
    problems = check_person_data(data)
    if problems:
        raise AccountError("; ".join(problems))
    household = household_for(village, data.household, data.group) if data.household else None
    person = Person(village=village, household=household, name=data.name.strip(), phone=data.phone,
                    gender=data.gender, birth_date=data.birth_date)
    db.session.add(person)
    db.session.flush()
    record_event("person.registered", actor=actor, village_id=village.id, obj=person,
                 payload={"household": data.household})
    for role in data.roles or ["villager"]:
        grant_role(person, role, actor=actor, village=village)
    return person


CSV_COLUMNS = ("name", "phone", "household", "group", "gender", "birth_date", "roles")
CSV_HEADER_ALIASES = {
    "姓名": "name", "手机号": "phone", "电话": "phone", "户号": "household", "组": "group", "小组": "group",
    "村民小组": "group", "性别": "gender",
    "出生日期": "birth_date", "角色": "roles",
}
GENDER_ALIASES = {"女": "F", "男": "M", "f": "F", "m": "M", "F": "F", "M": "M", "": None}
ROLE_ALIASES = {"村民": "villager", "村民代表": "representative", "党员": "party_member",
                "两委成员": "committee_member", "监委会成员": "supervisor", "文书": "clerk"}


def _decode(raw: bytes) -> str:
    # Excel in China saves CSV as GBK; others save UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AccountError(_("The file is not a text (CSV) file."))


@dataclass
class ImportResult:
    created: list[Person]
    errors: list[tuple[int, str]]


def check_csv_rows(raw: bytes) -> tuple[list[tuple[int, PersonData]], list[tuple[int, str]]]:
    """Read and check every row of a people CSV without writing anything: the rows, or
    every problem by line number. Phones already registered are read once, not per row.

    :raises AccountError: when the file is not text."""
    from app.inputs import has_control_chars

    text = _decode(raw)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], [(1, _("The file is empty."))]
    columns = [CSV_HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in header]
    missing = [c for c in ("name", "phone") if c not in columns]
    if missing:
        return [], [(1, _("The first line must name the columns; missing: %(cols)s", cols=", ".join(missing)))]
    registered = set(db.session.scalars(select(Person.phone)))
    rows: list[tuple[int, PersonData]] = []
    errors: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line_no, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if any(has_control_chars(v) for v in values):
            errors.append((line_no, _("the line contains invisible control characters (such as NUL)")))
            continue
        row = dict(zip(columns, (v.strip() for v in values)))
        problems = []
        birth = None
        if row.get("birth_date"):
            try:
                birth = date.fromisoformat(row["birth_date"].replace("/", "-"))
            except ValueError:
                problems.append(_("the birth date must look like 1960-05-01"))
        gender_raw = row.get("gender", "")
        gender = GENDER_ALIASES.get(gender_raw, gender_raw)
        roles = [ROLE_ALIASES.get(r.strip(), r.strip()) for r in re.split(r"[;；、|]", row.get("roles", "")) if r.strip()]
        data = PersonData(name=row.get("name", ""), phone=normalise_phone(row.get("phone")),
                          household=row.get("household") or None, group=row.get("group") or None,
                          gender=gender, birth_date=birth,
                          roles=roles or ["villager"])
        if data.household and len(data.household) > 20:
            problems.append(_("the household number is longer than 20 characters"))
        if data.group and len(data.group) > 20:
            problems.append(_("the group is longer than 20 characters"))
        problems += check_person_data(data, seen | registered, look_up=False)
        seen.add(data.phone)
        if problems:
            errors.append((line_no, "; ".join(problems)))
        else:
            rows.append((line_no, data))
    if not errors and not rows:
        errors.append((2, _("The file has no people in it.")))
    return rows, errors


def import_people_csv(village: Village, raw: bytes, *, actor: Person) -> ImportResult:
    """Register everyone in a CSV file at once, or nobody (small files, the demo; the
    web page imports through the job queue, app/accounts/imports.py)."""
    rows, errors = check_csv_rows(raw)
    if errors:
        return ImportResult([], errors)
    created = [register_person(village, data, actor=actor) for _line, data in rows]
    record_event("people.imported", actor=actor, village_id=village.id, payload={"count": len(created)})
    return ImportResult(created, [])


# Sign-in ----------------------------------------------------------------------------------

def authenticate(phone: str, password: str) -> Person | None:
    person = find_person_by_phone(phone)
    ok = verify_password(person.password_hash if person else None, password)
    if person is None or not ok or not person.active:
        return None
    return person


def set_password(person: Person, password: str) -> None:
    """:raises AccountError: when the password is too short or too common."""
    problem = password_problem(password, person.phone, person.name)
    if problem:
        raise AccountError(problem)
    person.password_hash = hash_password(password)
    person.rotate_session_token()  # every other session of this person ends
    db.session.flush()


def sign_out(person: Person) -> None:
    """Make every cookie issued so far useless (not only this browser's)."""
    person.rotate_session_token()
    db.session.flush()


def issue_one_time_code(phone: str) -> None:
    """Send a 6-digit code if the number is registered; say nothing either way, and take
    as long either way (the code is hashed whether or not anyone gets it)."""
    person = find_person_by_phone(phone)
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = hash_password(code)
    if person is None or not person.active:
        return
    minutes = current_app.config["ONE_TIME_CODE_MINUTES"]
    db.session.add(OneTimeCode(person=person, code_hash=code_hash,
                               expires_at=utcnow() + timedelta(minutes=minutes)))
    db.session.flush()
    send_message(person.phone, _("Gongyi sign-in code: %(code)s (valid for %(minutes)d minutes). "
                                 "Do not tell it to anyone.", code=code, minutes=minutes))


MAX_CODE_ATTEMPTS = 5


def redeem_one_time_code(phone: str, code: str) -> Person | None:
    """The person whose newest unused, unexpired code this is; the code is used up.
    An unknown number or a missing code costs the same hashing work as a wrong code."""
    person = find_person_by_phone(phone)
    now = utcnow()
    otc = None
    if person is not None:
        otc = db.session.scalar(
            select(OneTimeCode).where(OneTimeCode.person_id == person.id, OneTimeCode.used_at.is_(None),
                                      OneTimeCode.expires_at > now).order_by(OneTimeCode.id.desc())
        )
    if otc is None or otc.attempts >= MAX_CODE_ATTEMPTS:
        verify_password(None, code or "")  # the same argon2 work as a real check
        return None
    if not verify_password(otc.code_hash, (code or "").strip()):
        otc.attempts += 1
        db.session.flush()
        return None
    otc.used_at = now
    db.session.flush()
    return person


def set_preferences(person: Person, *, language: str | None = None, large_text: bool | None = None) -> None:
    if language is not None:
        person.language = language
    if large_text is not None:
        person.large_text = large_text
    db.session.flush()
