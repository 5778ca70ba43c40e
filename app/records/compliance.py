"""Compliance flags (合规提示) for the township dashboard: what a township overseer
should look at in a village's process. Each check is a plain function of the data;
poll facts come from the voting area's export (`export_polls`), so this module needs
no knowledge of ballots."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import clock
from app.accounts.models import Person, RoleGrant
from app.deliberation.matters import REPRESENTATIVES_ASSEMBLY, matter
from app.deliberation.models import STAGES
from app.extensions import db
from app.records import record

FLAG_LABELS = {
    "quorum_not_met": _l("Quorum not met"),
    "notice_short": _l("Notice period shorter than the rule profile"),
    "poll_outside_window": _l("Poll open outside its window"),
    "party_plan_late": _l("Party plan sent late"),
    "unauthorised_body": _l("Art. 24 matter decided by an unauthorised body"),
    "stage_skipped": _l("Stage skipped"),
    "no_consultation_summary": _l("No consultation summary"),
    "reps_few_women": _l("Fewer than one third of representatives are women"),
    "notice_backdated": _l("Notice dated earlier than recorded (paper notice)"),
    "notice_corrected": _l("Notice date corrected after it was recorded"),
}
CLOSE_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str = ""

    @property
    def label(self):
        return FLAG_LABELS[self.code]

    @property
    def detail_text(self) -> str:
        """The detail in words: stage names for stage codes, the matter's name for a matter."""
        from app.records.views import stage_label

        if self.code == "unauthorised_body":
            m = matter(self.detail)
            return str(m.label) if m else self.detail
        if self.code == "reps_few_women":
            return self.detail
        return " → ".join(str(stage_label(part.strip())) for part in self.detail.split("→") if part.strip())


def _dt(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:  # the record's times carry their offset: back to naive UTC
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _polls(proposal, stage: str | None = None) -> list[dict]:
    return [p for p in record.export_polls(proposal) if stage is None or p.get("stage") == stage]


def quorum_flags(proposal, polls) -> list[Flag]:
    return [Flag("quorum_not_met", p.get("stage", "")) for p in polls
            if p.get("tally") and p["tally"].get("quorum_met") is False]


def window_flags(proposal, polls) -> list[Flag]:
    out = []
    for p in polls:
        opens, closes = _dt(p.get("opens_at")), _dt(p.get("closes_at"))
        opened, closed = _dt(p.get("opened_at")), _dt(p.get("closed_at"))
        if opens is None or closes is None:
            continue
        if (opened is not None and opened < opens - CLOSE_GRACE) or (
                closed is not None and (closed > closes + CLOSE_GRACE or closed < opens)):
            out.append(Flag("poll_outside_window", p.get("stage", "")))
    return out


def notice_flags(proposal, polls) -> list[Flag]:
    out = []
    profile = proposal.village.rule_profile
    # The resolution left the notice board before the notice period was over.
    history = list(proposal.history)
    for i, h in enumerate(history):
        if h.to_stage != "publicized":
            continue
        nxt = history[i + 1] if i + 1 < len(history) else None
        if nxt is not None and nxt.to_stage == "implementing" and nxt.at < clock.profile_period_end(
                profile, h.at, profile.publicity_days):
            out.append(Flag("notice_short", "publicized"))
    # A villagers' assembly voted before its announcement was old enough.
    if proposal.deciding_body != REPRESENTATIVES_ASSEMBLY:
        for p in polls:
            if p.get("stage") != "villager_resolution":
                continue
            opens = _dt(p.get("opens_at"))
            announced = proposal.assembly_announced_at
            if opens is not None and (announced is None
                                      or opens < clock.notice_earliest(profile, announced,
                                                                       profile.villager_assembly_notice_days)):
                out.append(Flag("notice_short", "villager_resolution"))
    return out


def party_plan_flags(proposal, polls) -> list[Flag]:
    profile = proposal.village.rule_profile
    days = profile.party_plan_notice_days
    for p in polls:
        if p.get("stage") != "member_review":
            continue
        opens = _dt(p.get("opens_at"))
        sent = proposal.party_plan_sent_at
        if opens is not None and (sent is None or opens < clock.notice_earliest(profile, sent, days)):
            return [Flag("party_plan_late")]
    return []


def body_flags(proposal, polls) -> list[Flag]:
    m = matter(proposal.matter_category)
    if m is None or not m.art24 or proposal.deciding_body != REPRESENTATIVES_ASSEMBLY:
        return []
    decided = next((_dt(p.get("opens_at")) for p in polls if p.get("stage") == "villager_resolution"), None)
    day = clock.local_date(decided) if decided else clock.today()
    auth = proposal.authorisation
    if auth is None or auth.village_id != proposal.village_id or not auth.covers(proposal.matter_category, day):
        return [Flag("unauthorised_body", proposal.matter_category)]
    return []


def skipped_flags(proposal, polls=None) -> list[Flag]:
    """The stage history must be a chain of allowed moves ending at the current stage."""
    try:
        from app.deliberation.engine import get_transition
    except ModuleNotFoundError:
        get_transition = None
    prev = None
    for h in proposal.history:
        if prev is not None and h.from_stage != prev:
            return [Flag("stage_skipped", f"{prev} → {h.from_stage}")]
        if h.from_stage is not None:
            allowed = (get_transition(h.from_stage, h.to_stage) is not None if get_transition
                       else h.to_stage in STAGES and h.from_stage in STAGES
                       and STAGES.index(h.to_stage) <= STAGES.index(h.from_stage) + 1)
            if not allowed:
                return [Flag("stage_skipped", f"{h.from_stage} → {h.to_stage}")]
        prev = h.to_stage
    start = "draft"
    if prev is None and proposal.stage != start:
        return [Flag("stage_skipped", f"{start} → {proposal.stage}")]
    if prev is not None and prev != proposal.stage:
        return [Flag("stage_skipped", f"{prev} → {proposal.stage}")]
    return []


def summary_flags(proposal, polls=None, written: bool | None = None) -> list[Flag]:
    """`written`: whether the summary exists, when the caller already knows (dashboards)."""
    passed_topic = any(h.from_stage == "topic_consultation" and h.to_stage != "withdrawn" for h in proposal.history)
    if not passed_topic:
        return []
    if written is None:
        try:
            from app.deliberation.hooks import topic_summary_written

            written = topic_summary_written(proposal)
        except (ModuleNotFoundError, AttributeError):
            return []
    return [] if written else [Flag("no_consultation_summary")]


def notice_fact_flags(proposal, polls=None, facts=None) -> list[Flag]:
    """A notice dated before it was recorded, or corrected later: the township looks at
    the paper (the date decides whether the notice period was kept). A dashboard passes
    the proposal's facts it loaded for many proposals at once."""
    from app.deliberation.models import notice_facts

    stage_of = {"assembly_announced": "villager_resolution", "party_plan_sent": "member_review"}
    out: list[Flag] = []
    for fact in notice_facts(proposal) if facts is None else facts:
        flag = Flag("notice_corrected" if fact.corrects_id else "notice_backdated", stage_of[fact.kind])
        if fact.corrects_id is None and not fact.backdated:
            continue
        if flag not in out:
            out.append(flag)
    return out


PROPOSAL_CHECKS = (quorum_flags, window_flags, notice_flags, party_plan_flags, body_flags, skipped_flags,
                   summary_flags, notice_fact_flags)


def proposal_flags(proposal, polls: list[dict] | None = None, summary_written: bool | None = None,
                   notices: list | None = None) -> list[Flag]:
    """Every flag of one proposal. A dashboard passes the facts it loaded for many
    proposals at once (`polls`, `summary_written`, `notices`), so its cost does not grow
    per row."""
    if polls is None:
        polls = _polls(proposal)
    flags: list[Flag] = []
    for check in PROPOSAL_CHECKS:
        if check is summary_flags:
            flags += summary_flags(proposal, polls, summary_written)
        elif check is notice_fact_flags:
            flags += notice_fact_flags(proposal, polls, notices)
        else:
            flags += check(proposal, polls)
    return flags


def representatives_by_gender(village) -> tuple[int, int]:
    """(representatives, of whom women) from the village's role grants."""
    genders = list(db.session.scalars(
        select(Person.gender).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "representative", RoleGrant.village_id == village.id, Person.active.is_(True))))
    return len(genders), sum(1 for g in genders if g == "F")


def representatives_by_village(village_ids) -> dict[int, tuple[int, int]]:
    """village id → (representatives, of whom women), for many villages in one query."""
    rows = db.session.execute(
        select(RoleGrant.village_id, Person.gender, func.count()).join(Person, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "representative", RoleGrant.village_id.in_(village_ids), Person.active.is_(True))
        .group_by(RoleGrant.village_id, Person.gender))
    out: dict[int, tuple[int, int]] = {}
    for village_id, gender, n in rows:
        reps, women = out.get(village_id, (0, 0))
        out[village_id] = (reps + n, women + (n if gender == "F" else 0))
    return out


def village_flags(village, representatives: tuple[int, int] | None = None) -> list[Flag]:
    """`representatives`: (count, women) when the caller loaded it for many villages."""
    reps, women = representatives if representatives is not None else representatives_by_gender(village)
    if reps and women * 3 < reps:  # integers, never floats: women ≥ reps / 3
        return [Flag("reps_few_women", f"{women}/{reps}")]
    return []
