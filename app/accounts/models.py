"""People and places: township → village → household → person, roles and rule profiles."""
from __future__ import annotations

import secrets
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import today as local_today
from app.clock import utcnow  # re-exported: every area stamps time through it
from app.extensions import db


# Per-village roles (they combine); overseer is per township; the county overseer, who
# only reads, is per county; admin is global.
VILLAGE_ROLES = ("villager", "representative", "party_member", "committee_member", "supervisor", "clerk")
TOWNSHIP_ROLES = ("overseer",)
COUNTY_ROLES = ("county_overseer",)
GLOBAL_ROLES = ("admin",)
ALL_ROLES = VILLAGE_ROLES + TOWNSHIP_ROLES + COUNTY_ROLES + GLOBAL_ROLES

ADULT_AGE = 18


class County(db.Model):
    """县: the townships of one county, read by its county overseer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(80), unique=True)
    townships: Mapped[list["Township"]] = relationship(back_populates="county", order_by="Township.id")


class Township(db.Model):
    """乡镇."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(80), unique=True)
    # An installation that serves one township needs no county.
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    county: Mapped[County | None] = relationship(back_populates="townships")
    villages: Mapped[list["Village"]] = relationship(back_populates="township", order_by="Village.id")


class RuleProfile(db.Model):
    """The numbers a province sets (quorums, notice days); a national default plus
    editable copies. Fractions are stored as integer numerator/denominator pairs so
    thresholds are computed without floats (DESIGN.md §3)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(80), unique=True)
    is_national_default: Mapped[bool] = mapped_column(default=False)
    # 党员审议: at least this share of the roster takes part (boundary included).
    party_quorum_num: Mapped[int] = mapped_column(default=1)
    party_quorum_den: Mapped[int] = mapped_column(default=2)
    # 村民代表会议: at least this share of the roster takes part.
    rep_quorum_num: Mapped[int] = mapped_column(default=2)
    rep_quorum_den: Mapped[int] = mapped_column(default=3)
    # 村民代表会议: "took_part" (yes > half of those taking part) or "roster".
    rep_pass_base: Mapped[str] = mapped_column(db.String(16), default="took_part")
    # 村民会议 quorum by households: at least this share of households represented.
    household_quorum_num: Mapped[int] = mapped_column(default=2)
    household_quorum_den: Mapped[int] = mapped_column(default=3)
    villager_assembly_notice_days: Mapped[int] = mapped_column(default=10)
    party_plan_notice_days: Mapped[int] = mapped_column(default=3)
    publicity_days: Mapped[int] = mapped_column(default=7)
    objection_reply_days: Mapped[int] = mapped_column(default=5)
    topic_consultation_days: Mapped[int] = mapped_column(default=7)
    # 民法典 art. 203: a period whose last day is a rest day ends on the next working day.
    holiday_shift: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The township's approval of the profile as it now stands (cleared by every edit).
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", use_alter=True, name="fk_rule_profile_approved_by_id_person"))
    approved_by: Mapped["Person | None"] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (
        CheckConstraint("publicity_days BETWEEN 5 AND 10", name="publicity_days_range"),
        CheckConstraint("party_quorum_den > 0 AND rep_quorum_den > 0 AND household_quorum_den > 0",
                        name="positive_denominators"),
        CheckConstraint("rep_pass_base IN ('took_part', 'roster')", name="rep_pass_base_values"),
    )

    EDITABLE_FIELDS = (
        "party_quorum_num", "party_quorum_den", "rep_quorum_num", "rep_quorum_den", "rep_pass_base",
        "household_quorum_num", "household_quorum_den", "villager_assembly_notice_days",
        "party_plan_notice_days", "publicity_days", "objection_reply_days", "topic_consultation_days",
        "holiday_shift",
    )

    # What the law and the province allow a village to choose (inclusive bounds): the
    # Organic Law's ten days' notice of a villagers' assembly is a minimum, the province's
    # posting period is 5 to 10 days.
    DAY_RANGES = {"villager_assembly_notice_days": (10, 30), "party_plan_notice_days": (3, 15),
                  "publicity_days": (5, 10), "objection_reply_days": (1, 10), "topic_consultation_days": (3, 30)}
    PARTY_QUORUM_CHOICES = ((1, 2), (2, 3))
    REP_PASS_BASES = ("took_part", "roster")

    @classmethod
    def national_default(cls) -> "RuleProfile":
        profile = db.session.scalar(select(cls).where(cls.is_national_default.is_(True)))
        if profile is None:
            profile = cls(name="全国默认 National default", is_national_default=True)
            db.session.add(profile)
            db.session.flush()
        return profile


class Village(db.Model):
    """村 (行政村)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(80))
    rule_profile_id: Mapped[int] = mapped_column(ForeignKey("rule_profile.id"))

    township: Mapped[Township] = relationship(back_populates="villages")
    rule_profile: Mapped[RuleProfile] = relationship()

    __table_args__ = (UniqueConstraint("township_id", "name"),)


class Household(db.Model):
    """户."""

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    number: Mapped[str] = mapped_column(db.String(20))  # 户号 as printed in the village register
    group_name: Mapped[str | None] = mapped_column(db.String(20))  # 村民小组 (组), as the register writes it
    village: Mapped[Village] = relationship()
    members: Mapped[list["Person"]] = relationship(back_populates="household", order_by="Person.id")

    __table_args__ = (UniqueConstraint("village_id", "number"),)


class Person(UserMixin, db.Model):
    """A person; also the login account (phone number + password)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(40))
    phone: Mapped[str] = mapped_column(db.String(20), unique=True)
    gender: Mapped[str | None] = mapped_column(db.String(1))  # "F" / "M"
    birth_date: Mapped[date | None]
    password_hash: Mapped[str | None] = mapped_column(db.String(255))
    # Changing this token signs out every session that holds the old one.
    session_token: Mapped[str] = mapped_column(db.String(32), default=lambda: secrets.token_hex(16))
    language: Mapped[str | None] = mapped_column(db.String(10))
    large_text: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    village: Mapped[Village | None] = relationship()
    household: Mapped[Household | None] = relationship(back_populates="members")
    roles: Mapped[list["RoleGrant"]] = relationship(back_populates="person", cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("gender IN ('F', 'M') OR gender IS NULL", name="gender_values"),)

    # Flask-Login: the id carries the session token, so rotating it logs out old cookies.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def rotate_session_token(self) -> None:
        self.session_token = secrets.token_hex(16)

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def is_adult(self, day: date | None = None) -> bool:
        """Adult (18+) on the given day; a person without a birth date on record is
        registered as an adult villager (the register only lists voters then)."""
        age = self.age_on(day or local_today())
        return age is None or age >= ADULT_AGE

    # Role questions
    def roles_in(self, village_id: int | None) -> set[str]:
        return {g.role for g in self.roles if g.village_id == village_id and g.role in VILLAGE_ROLES}

    def has_role(self, role: str, village_id: int | None = None, township_id: int | None = None,
                 county_id: int | None = None) -> bool:
        for g in self.roles:
            if g.role != role:
                continue
            if role in GLOBAL_ROLES:
                return True
            if role in TOWNSHIP_ROLES and g.township_id == township_id:
                return True
            if role in COUNTY_ROLES and g.county_id == county_id:
                return True
            if role in VILLAGE_ROLES and g.village_id == village_id:
                return True
        return False

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" for g in self.roles)

    @property
    def overseen_township_ids(self) -> set[int]:
        return {g.township_id for g in self.roles if g.role == "overseer" and g.township_id}

    @property
    def overseen_county_ids(self) -> set[int]:
        """The counties this person reads as county overseer (read-only, never acts)."""
        return {g.county_id for g in self.roles if g.role == "county_overseer" and g.county_id}


ROLE_SCOPE_CHECK = (
    "(county_id IS NULL AND ("
    "(role IN ('villager','representative','party_member','committee_member','supervisor','clerk')"
    " AND village_id IS NOT NULL AND township_id IS NULL)"
    " OR (role = 'overseer' AND township_id IS NOT NULL AND village_id IS NULL)"
    " OR (role = 'admin' AND village_id IS NULL AND township_id IS NULL)))"
    " OR (role = 'county_overseer' AND county_id IS NOT NULL AND village_id IS NULL AND township_id IS NULL)"
)


class RoleGrant(db.Model):
    """One role of one person, scoped to a village (village roles), a township
    (overseer), a county (county overseer) or nothing (admin)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(db.String(20))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id"))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles")
    village: Mapped[Village | None] = relationship()
    township: Mapped[Township | None] = relationship()
    county: Mapped[County | None] = relationship()

    __table_args__ = (
        UniqueConstraint("person_id", "role", "village_id", "township_id", name="uq_role_grant"),
        CheckConstraint(ROLE_SCOPE_CHECK, name="role_scope"),
    )


class OneTimeCode(db.Model):
    """A one-time code for first sign-in or password reset; only its hash is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    code_hash: Mapped[str] = mapped_column(db.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship()


IMPORT_STATUSES = ("queued", "checking", "writing", "done", "failed")


class PeopleImport(db.Model):
    """One CSV import of villagers, done by the job queue: the web request only stores
    the file; the job checks every row first, stages them in short batches, and makes
    them all real (or none) in one short transaction at the end."""

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    filename: Mapped[str] = mapped_column(db.String(200), default="")
    content: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    total_rows: Mapped[int] = mapped_column(default=0)
    staged_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[str | None] = mapped_column(db.Text)  # JSON [[line, message], …]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    village: Mapped[Village] = relationship()
    actor: Mapped[Person] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'checking', 'writing', 'done', 'failed')", name="status_values"),
    )

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class PeopleImportRow(db.Model):
    """A checked row of an import, staged until the import is made real in one go."""

    __tablename__ = "people_import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("people_import.id", ondelete="CASCADE"), index=True)
    line: Mapped[int]
    name: Mapped[str] = mapped_column(db.String(40))
    phone: Mapped[str] = mapped_column(db.String(20))
    household: Mapped[str | None] = mapped_column(db.String(20))
    group_name: Mapped[str | None] = mapped_column(db.String(20))
    gender: Mapped[str | None] = mapped_column(db.String(1))
    birth_date: Mapped[date | None]
    roles: Mapped[str] = mapped_column(db.String(200))  # ",villager,party_member,"
    session_token: Mapped[str] = mapped_column(db.String(32))


class LoginFailure(db.Model):
    """One failed sign-in (or one code request), counted per account and per address by
    every process alike (app.accounts.throttle). Rows older than the window are deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(db.String(10))  # app.accounts.throttle.SCOPES
    key: Mapped[str] = mapped_column(db.String(64))    # a hash of the phone number or the address
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("scope IN ('account', 'address', 'code-acct', 'code-addr')", name="scope_values"),
        db.Index("ix_login_failure_scope_key_at", "scope", "key", "at"),
    )
